import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { samePeerSet, type ReceivedSignal, type SignalingClient } from '../signaling/signaling-client.ts';
import { FakeConnectionNetwork } from '../transport/webrtc/fake-connection.test-support.ts';
import { guestFor, recordingHost, cleanUp } from '../transport/webrtc/data-channel-hand-off.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import { parseLinkSignal } from '../transport/webrtc/link-signal.ts';

afterEach(cleanUp);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

function delayedHub(random: () => number, maxDelay: number, log: string[]) {
  const members = new Map<NodeId, { emit: (s: ReceivedSignal) => void; peers: ReturnType<typeof createWatchable<ReadonlySet<NodeId>>> }>();
  const upLast = new Map<NodeId, number>();
  const downLast = new Map<NodeId, number>();
  const down = (to: NodeId, atServer: number, deliver: () => void): void => {
    const at = Math.max(downLast.get(to) ?? 0, atServer + Math.floor(random() * maxDelay));
    downLast.set(to, at);
    setTimeout(deliver, at - Date.now());
  };
  const client = (selfId: NodeId): SignalingClient => {
    const signals = createEmitter<ReceivedSignal>();
    const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
    const now = Date.now();
    const existing = [...members.keys()];
    members.set(selfId, { emit: (s) => signals.emit(s), peers });
    down(selfId, now, () => peers.set(new Set([...peers.value, ...existing])));
    for (const id of existing) {
      const member = members.get(id)!;
      down(id, now, () => member.peers.set(new Set([...member.peers.value, selfId])));
    }
    return {
      selfId, roomId: 'r', peers, signals,
      signal(to, payload) {
        const atServer = Math.max(upLast.get(selfId) ?? 0, Date.now() + Math.floor(random() * maxDelay));
        upLast.set(selfId, atServer);
        const s = parseLinkSignal(payload);
        log.push(`${Date.now() % 100000} ${selfId}->${to} ${s?.type} ${s?.session.slice(0, 4)} ${s?.type === 'connection' ? (s.signal.type === 'description' ? s.signal.description.type : s.signal.type) : ''}`);
        down(to, atServer, () => members.get(to)?.emit({ from: selfId, payload }));
      },
      close() { members.delete(selfId); },
      closed: new Promise(() => undefined),
    };
  };
  return { client };
}

// Exploration harness (passes on the current code): three transports over a FIFO-per-socket delayed hub with workers
// attaching, restarting and ICE blips, checking each page ends with 2 attempts and 2 established. Run with EXPLORE=1.
describe.runIf(process.env['EXPLORE'] === '1')('explore', () => {
  for (let seed = 1; seed <= Number(process.env['SEEDS'] ?? 20); seed++) {
    it(`seed ${seed}`, async () => {
      const random = rng(seed * 7919);
      const log: string[] = [];
      const maxDelay = Number(process.env['MAXDELAY'] ?? 100);
      const hub = delayedHub(random, maxDelay, log);
      const network = new FakeConnectionNetwork();
      const limits = { reconnectDelayMinMs: Number(process.env['MINDELAY'] ?? 50), reconnectDelayMaxMs: 500, iceRestartTimeoutMs: Number(process.env['ICETIMEOUT'] ?? 2000), connectTimeoutMs: 5_000 };
      const ids = ['p0', 'p1', 'p2'].map((n) => nodeId(n));
      const transports: WebRtcTransport[] = [];
      const make = (id: NodeId): WebRtcTransport => {
        const t = createWebRtcTransport({ signaling: hub.client(id), secret: 'test secret', openConnection: network.openConnection, limits, random });
        transports.push(t);
        return t;
      };
      const t0 = make(ids[0]!);
      const w0 = guestFor();
      recordingHost({ worker: w0 }).serve(t0);
      await new Promise((r) => setTimeout(r, Math.floor(random() * maxDelay)));
      const t1 = make(ids[1]!);
      const t2 = make(ids[2]!);
      const restarts = Number(process.env['RESTARTS'] ?? 0);
      for (const t of [t1, t2, ...(restarts > 0 ? [t0] : [])]) {
        let service: { stop(): void } | null = null;
        let at = t === t0 ? 0 : Math.floor(random() * 4 * maxDelay);
        for (let round = 0; round <= restarts; round++) {
          const stopFirst = random() < 0.5;
          setTimeout(() => {
            if (stopFirst) service?.stop();
            const w = guestFor();
            const previous = service;
            service = recordingHost({ worker: w }).serve(t);
            if (!stopFirst) setTimeout(() => previous?.stop(), Math.floor(random() * 20));
          }, at);
          at += Math.floor(random() * 2 * maxDelay);
        }
      }
      await vi.waitFor(() => { for (const t of transports) expect(t.peers.value.size).toBe(2); }, { timeout: 10_000, interval: 10 });
      const blips = Number(process.env['BLIPS'] ?? 0);
      for (let blip = 0; blip < blips; blip++) {
        setTimeout(() => {
          const live = network.connections.filter((c) => !c.closed);
          const c = live[Math.floor(random() * live.length)];
          if (c === undefined) return;
          const both = random() < 0.5;
          c.setIceState('disconnected');
          if (both) c.peer?.setIceState('disconnected');
          if (random() < 0.5) setTimeout(() => { c.setIceState('connected'); c.peer?.setIceState('connected'); }, Math.floor(random() * 100));
        }, Math.floor(random() * 3 * maxDelay));
      }
      await new Promise((r) => setTimeout(r, 3 * maxDelay));
      await vi.waitFor(() => { for (const t of transports) expect(t.peers.value.size).toBe(2); }, { timeout: 10_000, interval: 10 });
      await new Promise((r) => setTimeout(r, 6 * maxDelay + 300));
      const counts = transports.map((t) => [t.counters.connectionAttempts, t.counters.connectionsEstablished]);
      for (const t of transports) t.close();
      if (JSON.stringify(counts) !== JSON.stringify([[2, 2], [2, 2], [2, 2]])) console.log(seed, JSON.stringify(counts), '\n' + log.join('\n'));
      expect(counts).toEqual([[2, 2], [2, 2], [2, 2]]);
    });
  }
});
