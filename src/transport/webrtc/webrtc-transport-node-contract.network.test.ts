// WebRtcTransport in Node (node-datachannel) against API.md's RaftTransport, from the outside:
// only `raftmesh`, `raftmesh/webrtc` and `raftmesh/signaling-server`. What the shared conformance
// suite does not already ask: watching `peers`, `maxPayloadBytes` lowered on either side, drops
// counted instead of thrown, data channels that outlive the signaling server, and close.
// Runs only inside the loopback-only namespace (vitest project 'network').
import * as polyfill from 'node-datachannel/polyfill';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { nodeId, type NodeId, type RaftEnvelope } from '../../index.ts';
import { startSignalingServer, type SignalingServer } from '../../signaling/server/index.ts';
import {
  createWebRtcTransport,
  createWebSocketSignalingClient,
  type WebRtcImplementation,
  type WebRtcTransport,
  type WebRtcTransportLimits,
  type WebSocketConstructor,
  type WebSocketSignalingClient,
} from '../../webrtc.ts';

/** libjuice gathers no loopback candidate unless told to bind 127.0.0.1 (node-datachannel's bindAddress). */
function loopbackWebRtc(): WebRtcImplementation {
  const Base = (polyfill as unknown as WebRtcImplementation).RTCPeerConnection as new (configuration?: RTCConfiguration) => RTCPeerConnection;
  class Bound extends Base {
    constructor(configuration?: RTCConfiguration) {
      super({ ...configuration, bindAddress: '127.0.0.1' } as RTCConfiguration);
    }
  }
  return { ...(polyfill as unknown as WebRtcImplementation), RTCPeerConnection: Bound };
}

const wait = { timeout: 30_000, interval: 20 };
let server: SignalingServer | null = null;
const signalings: WebSocketSignalingClient[] = [];
const transports: WebRtcTransport[] = [];
let rooms = 0;

interface Peer {
  readonly id: NodeId;
  readonly signaling: WebSocketSignalingClient;
  readonly transport: WebRtcTransport;
  readonly received: RaftEnvelope[];
}

async function mesh(names: readonly string[], limits: Record<string, Partial<WebRtcTransportLimits>> = {}): Promise<Peer[]> {
  server ??= await startSignalingServer({ port: 0 });
  const url = server.url;
  const roomId = `node-contract-${(rooms += 1)}`;
  const secret = `secret-${rooms}`;
  const peers = names.map((name) => {
    const id = nodeId(name);
    const signaling = createWebSocketSignalingClient({ url, roomId, nodeId: id, secret, WebSocket: WebSocket as unknown as WebSocketConstructor, limits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 100 } });
    const transport = createWebRtcTransport({ signaling, secret, webrtc: loopbackWebRtc(), iceServers: [], ...(limits[name] === undefined ? {} : { limits: limits[name] }) });
    signalings.push(signaling);
    transports.push(transport);
    const received: RaftEnvelope[] = [];
    transport.incoming.subscribe((envelope) => received.push(envelope));
    return { id, signaling, transport, received };
  });
  await vi.waitFor(() => {
    for (const peer of peers) expect(peer.transport.peers.value.size).toBe(peers.length - 1);
  }, wait);
  return peers;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (envelope: RaftEnvelope | undefined): string => new TextDecoder().decode(envelope?.bytes);

afterEach(async () => {
  for (const transport of transports.splice(0)) transport.close();
  for (const signaling of signalings.splice(0)) signaling.close();
  await server?.close();
  server = null;
});

describe('WebRtcTransport in Node, black box', () => {
  it('peers is watchable: subscribers see a peer arrive and, when its transport closes, leave', async () => {
    const [a, b] = await mesh(['w-a', 'w-b']);
    if (a === undefined || b === undefined) throw new Error('two peers expected');
    const seen: Array<readonly NodeId[]> = [];
    const unsubscribe = a.transport.peers.subscribe((value) => seen.push([...value]));
    expect(a.transport.peers.value.has(b.id)).toBe(true);
    b.transport.close();
    await vi.waitFor(() => expect(a.transport.peers.value.has(b.id)).toBe(false), wait);
    expect(seen.at(-1)).toEqual([]);
    unsubscribe();
    // b's signaling is still in the room: closing the transport did not close it.
    expect(b.signaling.status.value).toBe('joined');
  });

  it('`from` on incoming is the authenticated sender, whatever the bytes say', async () => {
    const [a, b, c] = await mesh(['f-a', 'f-b', 'f-c']);
    if (a === undefined || b === undefined || c === undefined) throw new Error('three peers expected');
    c.transport.send(b.id, bytes(`from:${a.id}`));
    a.transport.send(b.id, bytes(`from:${c.id}`));
    await vi.waitFor(() => expect(b.received).toHaveLength(2), wait);
    const byText = new Map(b.received.map((envelope) => [text(envelope), envelope.from]));
    expect(byText.get(`from:${a.id}`)).toBe(c.id);
    expect(byText.get(`from:${c.id}`)).toBe(a.id);
  });

  it('honours a lowered maxPayloadBytes: the limit arrives whole, one byte more is dropped and counted, never thrown', async () => {
    const limit = 100_000;
    const [a, b] = await mesh(['m-a', 'm-b'], { 'm-a': { maxFrameBytes: limit } });
    if (a === undefined || b === undefined) throw new Error('two peers expected');
    expect(a.transport.maxPayloadBytes).toBe(limit);
    const atLimit = new Uint8Array(limit).map((_, index) => index % 251);
    expect(() => a.transport.send(b.id, new Uint8Array(limit + 1))).not.toThrow();
    a.transport.send(b.id, atLimit);
    a.transport.send(b.id, bytes('after'));
    await vi.waitFor(() => expect(b.received).toHaveLength(2), wait);
    expect(b.received.map((envelope) => envelope.bytes.length).sort((x, y) => x - y)).toEqual([5, limit]);
    expect(b.received.find((envelope) => envelope.bytes.length === limit)?.bytes).toEqual(atLimit);
    expect(a.transport.counters.framesDroppedOversized).toBe(1);
  });

  it('a receiver with a lower maxPayloadBytes drops a larger frame, counts it, and keeps the link', async () => {
    const [a, b] = await mesh(['r-a', 'r-b'], { 'r-b': { maxFrameBytes: 50_000 } });
    if (a === undefined || b === undefined) throw new Error('two peers expected');
    a.transport.send(b.id, new Uint8Array(80_000));
    a.transport.send(b.id, bytes('small'));
    await vi.waitFor(() => expect(b.received.map(text)).toContain('small'), wait);
    await vi.waitFor(() => expect(b.transport.counters.framesDroppedMalformed).toBe(1), wait);
    expect(b.received.every((envelope) => envelope.bytes.length <= 50_000)).toBe(true);
    expect(b.transport.peers.value.has(a.id)).toBe(true);
  });

  it('send to an unknown or a lost peer never throws and is counted as unreachable', async () => {
    const [a, b] = await mesh(['u-a', 'u-b']);
    if (a === undefined || b === undefined) throw new Error('two peers expected');
    expect(() => a.transport.send(nodeId('nobody'), bytes('x'))).not.toThrow();
    expect(() => a.transport.send(a.id, bytes('to myself'))).not.toThrow();
    b.transport.close();
    b.signaling.close();
    await vi.waitFor(() => expect(a.transport.peers.value.size).toBe(0), wait);
    expect(() => a.transport.send(b.id, bytes('gone'))).not.toThrow();
    expect(a.transport.counters.framesDroppedUnreachable).toBe(3);
    expect(a.received).toEqual([]);
  });

  it('open data channels outlive the signaling server: peers stay and frames still flow', async () => {
    const [a, b] = await mesh(['s-a', 's-b']);
    if (a === undefined || b === undefined) throw new Error('two peers expected');
    await server?.close();
    server = null;
    await vi.waitFor(() => expect(a.signaling.status.value).toBe('connecting'), wait);
    await vi.waitFor(() => expect(b.signaling.status.value).toBe('connecting'), wait);
    expect(a.transport.peers.value.has(b.id)).toBe(true);
    a.transport.send(b.id, bytes('without a server'));
    b.transport.send(a.id, bytes('still here'));
    await vi.waitFor(() => expect([...a.received, ...b.received].map(text).sort()).toEqual(['still here', 'without a server']), wait);
  });

  it('when the signaling server comes back, the open connection keeps carrying frames', async () => {
    const [a, b] = await mesh(['back-a', 'back-b']);
    if (a === undefined || b === undefined || server === null) throw new Error('two peers expected');
    const { port } = server;
    await server.close();
    server = null;
    await vi.waitFor(() => expect(a.signaling.status.value).toBe('connecting'), wait);
    server = await startSignalingServer({ port });
    await vi.waitFor(() => expect(a.signaling.peers.value.has(b.id) && b.signaling.peers.value.has(a.id)).toBe(true), wait);
    a.transport.send(b.id, bytes('after the server came back'));
    await vi.waitFor(() => expect(b.received.map(text)).toEqual(['after the server came back']), wait);
    expect(a.transport.peers.value.has(b.id)).toBe(true);
    expect(a.transport.counters.connectionsLost).toBe(0);
  });

  it('close releases everything: peers empty at once, the other side sees it leave, nothing more arrives, idempotent', async () => {
    const [a, b] = await mesh(['c-a', 'c-b']);
    if (a === undefined || b === undefined) throw new Error('two peers expected');
    a.transport.close();
    a.transport.close();
    expect([...a.transport.peers.value]).toEqual([]);
    await vi.waitFor(() => expect(b.transport.peers.value.has(a.id)).toBe(false), wait);
    b.transport.send(a.id, bytes('late'));
    a.transport.send(b.id, bytes('after close'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    // It stays closed: the signaling still lists b, but no connection comes back.
    expect(a.signaling.peers.value.has(b.id)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([...a.transport.peers.value]).toEqual([]);
    expect(b.transport.peers.value.has(a.id)).toBe(false);
  });
});
