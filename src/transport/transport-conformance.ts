// The RaftTransport contract (API.md "Storage and transport") as one suite that every transport
// runs: the loopback network in Node, WebRTC between peers in headless Chromium, and any
// transport a user writes. The contract:
// - `peers` comes to show every other live transport, and drops one that closed;
// - a frame sent to a reachable peer arrives once, with `from` set to the sender's id and the
//   bytes as they were at the time of `send` (later mutation of the caller's buffer changes nothing);
// - frames to one peer arrive in the order sent, among frames of similar size (a transport may let
//   small control frames overtake large ones so heartbeats never wait behind bulk data);
// - any frame up to `maxPayloadBytes` (or the codec's maximum) arrives whole;
// - `send` never throws (unknown peer, too large, closed transport); `close` is idempotent.
// Waits are generous and nothing is timed: the suite must hold on a loaded two-core machine.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { codecLimits } from '../codec/limits.ts';
import { sameBytes } from '../core/bytes.ts';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import type { RaftTransport } from './raft-transport.ts';

export interface ClosableTransport extends RaftTransport {
  close(): void;
}

export interface TransportCluster {
  /** One transport per id, in the order of the ids given to the factory. */
  readonly transports: readonly ClosableTransport[];
  /** Releases everything the factory made (signaling, servers); transports may already be closed. */
  dispose(): Promise<void> | void;
}

export type TransportClusterFactory = (ids: readonly NodeId[]) => Promise<TransportCluster>;

export interface ConformanceOptions {
  /** How long to wait for connections and deliveries (default 60 s: browsers under load are slow). */
  readonly waitMs?: number;
}

const ids = [nodeId('conformance-a'), nodeId('conformance-b'), nodeId('conformance-c')] as const;

/** Deterministic content, so a reassembly that misplaces any part is caught. */
export function patternFrame(length: number, seed: number): Uint8Array {
  const frame = new Uint8Array(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    frame[index] = state & 0xff;
  }
  return frame;
}

function record(transport: RaftTransport): RaftEnvelope[] {
  const received: RaftEnvelope[] = [];
  transport.incoming.subscribe((envelope) => received.push(envelope));
  return received;
}

const sequenceFrame = (sequence: number, length: number): Uint8Array => {
  const frame = new Uint8Array(Math.max(4, length));
  new DataView(frame.buffer).setUint32(0, sequence);
  return frame;
};
const sequenceOf = (envelope: RaftEnvelope): number => new DataView(envelope.bytes.buffer, envelope.bytes.byteOffset, 4).getUint32(0);

export function describeTransportConformance(name: string, factory: TransportClusterFactory, options: ConformanceOptions = {}): void {
  const waitMs = options.waitMs ?? 60_000;
  const wait = { timeout: waitMs, interval: 20 };
  // A test may wait several times (connect, then deliver): room for all of them under load.
  const testTimeoutMs = waitMs * 3;

  describe(`RaftTransport conformance: ${name}`, () => {
    let cluster: TransportCluster | null = null;

    async function connected(count: number): Promise<readonly ClosableTransport[]> {
      cluster = await factory(ids.slice(0, count));
      const transports = cluster.transports;
      await vi.waitFor(() => {
        for (const transport of transports) {
          expect([...transport.peers.value].sort()).toEqual(transports.map((other) => other.selfId).filter((id) => id !== transport.selfId).sort());
        }
      }, wait);
      return transports;
    }

    afterEach(async () => {
      for (const transport of cluster?.transports ?? []) transport.close();
      await cluster?.dispose();
      cluster = null;
    }, testTimeoutMs);

    it('peers shows every other transport, and selfId is the id it was made with', async () => {
      const transports = await connected(3);
      expect(transports.map((transport) => transport.selfId)).toEqual([...ids]);
    }, testTimeoutMs);

    it('delivers a frame once, with `from` set to the sender, as it was when sent', async () => {
      const [a, b, c] = await connected(3);
      if (a === undefined || b === undefined || c === undefined) throw new Error('three transports expected');
      const atB = record(b);
      const atC = record(c);
      const buffer = new Uint8Array([1, 2, 3]);
      a.send(b.selfId, buffer);
      buffer.fill(9);
      c.send(b.selfId, new Uint8Array([4]));
      await vi.waitFor(() => expect(atB.length).toBe(2), wait);
      const bySender = new Map(atB.map((envelope) => [envelope.from, [...envelope.bytes]]));
      expect(bySender.get(a.selfId)).toEqual([1, 2, 3]);
      expect(bySender.get(c.selfId)).toEqual([4]);
      expect(atC).toEqual([]);
    }, testTimeoutMs);

    it('keeps the order of small frames to one peer', async () => {
      const [a, b] = await connected(2);
      if (a === undefined || b === undefined) throw new Error('two transports expected');
      const atB = record(b);
      const count = 500;
      for (let sequence = 0; sequence < count; sequence++) a.send(b.selfId, sequenceFrame(sequence, 1 + (sequence % 200)));
      await vi.waitFor(() => expect(atB.length).toBe(count), wait);
      expect(atB.map(sequenceOf)).toEqual(Array.from({ length: count }, (_, sequence) => sequence));
    }, testTimeoutMs);

    it('keeps the order of large frames to one peer, each arriving whole', async () => {
      const [a, b] = await connected(2);
      if (a === undefined || b === undefined) throw new Error('two transports expected');
      const atB = record(b);
      const sizes = [100_000, 1024 * 1024, 40_000, 300_000];
      const frames = sizes.map((size, sequence) => {
        const frame = patternFrame(size, sequence + 1);
        frame.set(sequenceFrame(sequence, 4), 0);
        return frame;
      });
      for (const frame of frames) a.send(b.selfId, frame);
      await vi.waitFor(() => expect(atB.length).toBe(frames.length), wait);
      expect(atB.map(sequenceOf)).toEqual([0, 1, 2, 3]);
      atB.forEach((envelope, index) => expect(sameBytes(envelope.bytes, frames[index] as Uint8Array)).toBe(true));
    }, testTimeoutMs);

    it('carries a frame of the largest size it accepts (the codec maximum unless bounded lower)', async () => {
      const [a, b] = await connected(2);
      if (a === undefined || b === undefined) throw new Error('two transports expected');
      const atB = record(b);
      const size = Math.min(a.maxPayloadBytes ?? codecLimits.maxFrameBytes, codecLimits.maxFrameBytes);
      const frame = patternFrame(size, 7);
      a.send(b.selfId, frame);
      a.send(b.selfId, new Uint8Array([42]));
      await vi.waitFor(() => expect(atB.length).toBe(2), wait);
      const large = atB.find((envelope) => envelope.bytes.length === size);
      expect(large?.from).toBe(a.selfId);
      expect(sameBytes(large?.bytes ?? new Uint8Array(), frame)).toBe(true);
    }, testTimeoutMs);

    it('never throws from send: unknown peer, oversized frame, closed transport', async () => {
      const [a, b] = await connected(2);
      if (a === undefined || b === undefined) throw new Error('two transports expected');
      expect(() => a.send(nodeId('nobody-here'), new Uint8Array([1]))).not.toThrow();
      const limit = a.maxPayloadBytes;
      if (limit !== undefined) expect(() => a.send(b.selfId, new Uint8Array(limit + 1))).not.toThrow();
      a.close();
      expect(() => a.send(b.selfId, new Uint8Array([1]))).not.toThrow();
    }, testTimeoutMs);

    it('close is idempotent, empties its peers, and the others see it leave', async () => {
      const [a, b, c] = await connected(3);
      if (a === undefined || b === undefined || c === undefined) throw new Error('three transports expected');
      const atA = record(a);
      a.close();
      a.close();
      expect([...a.peers.value]).toEqual([]);
      await vi.waitFor(() => {
        expect(b.peers.value.has(a.selfId)).toBe(false);
        expect(c.peers.value.has(a.selfId)).toBe(false);
      }, wait);
      b.send(a.selfId, new Uint8Array([1]));
      b.send(c.selfId, new Uint8Array([2]));
      const atC = record(c);
      await vi.waitFor(() => expect(atC.length).toBe(1), wait);
      expect(atA).toEqual([]);
    }, testTimeoutMs);
  });
}
