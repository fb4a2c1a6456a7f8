// WebRTC transport behaviour beyond the shared contract, in headless Chromium: authentication,
// backpressure, control frames overtaking bulk, reconnect and ICE restart. Waits are generous and
// nothing is timed (the machine is shared and has two cores).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId, type NodeId, type RaftEnvelope } from '../../core/types.ts';
import { parseLinkSignal } from './link-signal.ts';
import { createSignalingHub, type SignalingHub } from './signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport, type WebRtcTransportOptions } from './webrtc-transport.ts';

const wait = { timeout: 60_000, interval: 20 };
/** A test waits more than once (connect, deliver, reconnect): room for all of them under load. */
const testTimeoutMs = 180_000;
const a = nodeId('node-a');
const b = nodeId('node-b');

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function transportsOn(hub: SignalingHub, secrets: readonly (string | undefined)[], options: Partial<WebRtcTransportOptions> = {}): WebRtcTransport[] {
  return secrets.map((secret, index) => {
    const signaling = hub.client(nodeId(`node-${'abc'[index]}`));
    const transport = createWebRtcTransport({ signaling, iceServers: [], ...(secret === undefined ? {} : { secret }), ...options });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  });
}

async function connectedPair(hub = createSignalingHub()): Promise<[WebRtcTransport, WebRtcTransport]> {
  const [first, second] = transportsOn(hub, ['room secret', 'room secret']);
  if (first === undefined || second === undefined) throw new Error('two transports expected');
  await vi.waitFor(() => {
    expect(first.peers.value.has(b)).toBe(true);
    expect(second.peers.value.has(a)).toBe(true);
  }, wait);
  return [first, second];
}

function record(transport: WebRtcTransport): RaftEnvelope[] {
  const received: RaftEnvelope[] = [];
  transport.incoming.subscribe((envelope) => received.push(envelope));
  return received;
}

const offersIn = (hub: SignalingHub, from: NodeId): string[] =>
  hub.relayed.flatMap(({ from: sender, payload }) => {
    const signal = sender === from ? parseLinkSignal(payload) : null;
    return signal?.type === 'connection' && signal.signal.type === 'description' && signal.signal.description.type === 'offer' ? [signal.signal.description.sdp] : [];
  });

describe('WebRtcTransport', () => {
  it('refuses a peer with the wrong room secret: never in peers, nothing delivered, failures counted', async () => {
    const [first, second] = transportsOn(createSignalingHub(), ['right secret', 'wrong secret']);
    if (first === undefined || second === undefined) throw new Error('two transports expected');
    const received = [...record(first), ...record(second)];
    await vi.waitFor(() => {
      expect(first.counters.authenticationFailures).toBeGreaterThan(0);
      expect(second.counters.authenticationFailures).toBeGreaterThan(0);
    }, wait);
    first.send(b, new Uint8Array([1]));
    expect(first.counters.framesDroppedUnreachable).toBe(1);
    expect([...first.peers.value, ...second.peers.value]).toEqual([]);
    expect(received).toEqual([]);
    expect(first.counters.connectionsEstablished + second.counters.connectionsEstablished).toBe(0);
  }, testTimeoutMs);

  it('lets a small frame overtake a 4 MiB frame sent before it (control never waits behind bulk)', async () => {
    const [first, second] = await connectedPair();
    const received = record(second);
    first.send(b, new Uint8Array(4 * 1024 * 1024));
    first.send(b, new Uint8Array([7]));
    await vi.waitFor(() => expect(received.length).toBe(2), wait);
    expect(received.map((envelope) => envelope.bytes.length)).toEqual([1, 4 * 1024 * 1024]);
  }, testTimeoutMs);

  it('drops and counts frames beyond the send queue bound instead of throwing or buffering without end', async () => {
    const [first, second] = await connectedPair();
    const received = record(second);
    const frame = new Uint8Array(4 * 1024 * 1024);
    for (let index = 0; index < 8; index++) expect(() => first.send(b, frame)).not.toThrow();
    // 16 MiB bulk queue: the fifth 4 MiB frame no longer fits (about 1 MiB went to the browser).
    expect(first.counters.framesDroppedQueueFull).toBe(4);
    await vi.waitFor(() => expect(received.length).toBe(4), wait);
    first.send(b, new Uint8Array([1]));
    await vi.waitFor(() => expect(received.length).toBe(5), wait);
  }, testTimeoutMs);

  it('reconnects after its connection is closed, and delivers again', async () => {
    const [first, second] = await connectedPair();
    const received = record(second);
    first.disconnect(b);
    await vi.waitFor(() => expect(second.counters.connectionsLost).toBe(1), wait);
    await vi.waitFor(() => {
      expect(first.peers.value.has(b)).toBe(true);
      expect(second.peers.value.has(a)).toBe(true);
    }, wait);
    first.send(b, new Uint8Array([3]));
    await vi.waitFor(() => expect(received.map((envelope) => [envelope.from, ...envelope.bytes])).toEqual([[a, 3]]), wait);
    expect(first.counters.connectionsEstablished).toBe(2);
  }, testTimeoutMs);

  it('restarts ICE without dropping the connection (asked for by the answerer)', async () => {
    const hub = createSignalingHub();
    const [first, second] = await connectedPair(hub);
    const received = record(first);
    const offersBefore = offersIn(hub, a);
    second.restartIce(a);
    await vi.waitFor(() => expect(offersIn(hub, a).length).toBeGreaterThan(offersBefore.length), wait);
    const iceCredentials = (sdp: string | undefined): string | undefined => sdp?.match(/^a=ice-ufrag:(\S+)/m)?.[1];
    expect(iceCredentials(offersIn(hub, a).at(-1))).not.toBe(iceCredentials(offersBefore[0]));
    second.send(a, new Uint8Array([5]));
    await vi.waitFor(() => expect(received.length).toBe(1), wait);
    expect(first.counters.connectionsEstablished).toBe(1);
    expect(first.counters.iceRestarts).toBe(1);
    expect(second.counters.connectionsLost).toBe(0);
  }, testTimeoutMs);

  it('takes `from` from the authenticated connection, and close is idempotent', async () => {
    const [first, second] = await connectedPair();
    const received = record(first);
    second.send(a, new TextEncoder().encode(JSON.stringify({ from: 'someone-else' })));
    await vi.waitFor(() => expect(received.length).toBe(1), wait);
    expect(received[0]?.from).toBe(b);
    second.close();
    second.close();
    expect([...second.peers.value]).toEqual([]);
    await vi.waitFor(() => expect(first.peers.value.size).toBe(0), wait);
  }, testTimeoutMs);
});
