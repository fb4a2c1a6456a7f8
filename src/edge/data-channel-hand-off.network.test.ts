// The data channel hand-off (transport/webrtc/data-channel-hand-off.ts) over real WebRTC in Node
// (node-datachannel), introduced by the WebSocket signaling server. Node cannot transfer a data
// channel, but a host's `post` may hand the channel objects to a guest in the same process, as
// the engine's worker would get them: transport `hub` serves such a host (its guest reports to
// the service, as serveTransport routes them), and it sits between two plain transports, one
// that offers to it and one it offers to, so both ways of getting a fresh pair of engine channels
// on a live connection are covered (the hub opens one as the initiator, asks for one as the
// answerer). The plain transports keep their pairs and receive on them, as an edge peer does.
// The last test serves a guest on both sides, to see stop() withdraw the channels from the peer.
// Runs only inside the loopback-only namespace (vitest project 'network').
import { createHash } from 'node:crypto';
import * as polyfill from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { realClock } from '../signaling/clock.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { createDataChannelGuest, type DataChannelGuest } from '../transport/webrtc/data-channel-guest.ts';
import type { DataChannelGuestMessage, DataChannelHandOff, DataChannelService } from '../transport/webrtc/data-channel-hand-off.ts';
import { withBindAddress } from './bind-address.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport, type WebSocketConstructor } from './edge-imports.ts';

const wait = { timeout: 20_000, interval: 20 };
// `hub` is in the middle: `first` offers to it (the smaller id), it offers to `last`.
const [idFirst, idHub, idLast] = [nodeId('node-a'), nodeId('node-b'), nodeId('node-c')];

let server: SignalingServer;
let rooms = 0;
const cleanup: (() => void)[] = [];
beforeAll(async () => {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});
afterAll(async () => {
  await server.close();
});

interface Received {
  readonly from: NodeId;
  readonly bytes: Uint8Array;
}

function transportsInOneRoom(ids: readonly NodeId[]): WebRtcTransport[] {
  const roomId = `hand-off-${(rooms += 1)}`;
  const secret = `secret-${rooms}`;
  const webrtc = withBindAddress(polyfill as never, '127.0.0.1');
  return ids.map((id) => {
    const signaling = createWebSocketSignalingClient({ url: server.url, roomId, nodeId: id, secret, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const transport = createWebRtcTransport({ signaling, secret, webrtc, iceServers: [] });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  });
}

function collect(transport: WebRtcTransport): Received[] {
  const received: Received[] = [];
  transport.incoming.subscribe(({ from, bytes }) => received.push({ from, bytes: bytes.slice() }));
  return received;
}

async function meshed(transports: readonly WebRtcTransport[]): Promise<void> {
  await vi.waitFor(() => {
    for (const transport of transports) expect([...transport.peers.value].sort()).toEqual(transports.map((other) => other.selfId).filter((id) => id !== transport.selfId).sort());
  }, wait);
}

/**
 * The engine's worker, in this process: what the page posts goes to a guest (nothing is
 * transferred: the channel objects are handed over as they are), and what the guest says goes to
 * the service, as serveTransport routes a port's `dataChannelCounters` and `dataChannelsTaken`.
 * Each way is a FIFO of microtasks: asynchronous and in order like a MessagePort, yet before any
 * event of the channels (a macrotask), which the polyfill would drop while nobody listens.
 */
function serveGuest(transport: WebRtcTransport) {
  const posted: DataChannelHandOff[] = [];
  const said: DataChannelGuestMessage[] = [];
  const delivered: RaftEnvelope[] = [];
  let service: DataChannelService | null = null;
  const guest: DataChannelGuest = createDataChannelGuest({
    clock: realClock,
    deliver: (envelope) => delivered.push({ from: envelope.from, bytes: envelope.bytes.slice() }),
    report: (message) => {
      said.push(message);
      queueMicrotask(() => service?.receive(message));
    },
  });
  cleanup.push(() => guest.close());
  const served: DataChannelService = transport.serveDataChannelsTo({
    post(message) {
      posted.push(message);
      queueMicrotask(() => guest.accept(message));
    },
  });
  service = served;
  const handOffs = (peer: NodeId) => posted.filter((message): message is Extract<DataChannelHandOff, { type: 'dataChannels' }> => message.type === 'dataChannels' && message.peer === peer);
  /** The page's last word to the guest on the newest session's channels to `peer`. */
  const lastState = (peer: NodeId) => {
    const session = handOffs(peer).at(-1)?.session;
    return posted.filter((message): message is Extract<DataChannelHandOff, { type: 'dataChannelsState' }> => message.type === 'dataChannelsState' && message.peer === peer && message.session === session).at(-1);
  };
  const allowedToSend = (peer: NodeId): boolean => lastState(peer)?.send === true;
  const taken = () => said.filter((message) => message.type === 'dataChannelsTaken');
  return { guest, service: served, posted, said, delivered, handOffs, lastState, allowedToSend, taken };
}

/** Bytes that tell frames apart, and a 100 KiB one that needs several chunks on the bulk channel. */
function frame(tag: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = (tag * 31 + index * 7 + (index >>> 8)) & 0xff;
  return bytes;
}
const digest = (bytes: Uint8Array): string => `${bytes.length}:${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
const digests = (frames: readonly Uint8Array[]): string[] => frames.map(digest).sort();
const from = (received: readonly Received[], peer: NodeId): string[] => digests(received.filter((envelope) => envelope.from === peer).map((envelope) => envelope.bytes));
const sum = (frames: readonly Uint8Array[]): number => frames.reduce((total, bytes) => total + bytes.length, 0);
const bigFrameBytes = 100 * 1024;

/** Sends, then again every 2 s until `delivered()` (within 20 s); returns how many sends it took. */
async function sendUntilDelivered(send: () => void, delivered: () => boolean): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (let attempts = 1; ; attempts += 1) {
    send();
    const resendAt = Date.now() + 2_000;
    while (!delivered() && Date.now() < Math.min(resendAt, deadline)) await new Promise((resolve) => setTimeout(resolve, 20));
    if (delivered()) return attempts;
    if (Date.now() >= deadline) throw new Error(`not delivered after ${attempts} sends in 20 s`);
  }
}

/** Three transports meshed, then `hub` serves a same-process guest; returns once the guest may send to both peers. */
async function handedOver() {
  const transports = transportsInOneRoom([idFirst, idHub, idLast]);
  const [first, hub, last] = transports as [WebRtcTransport, WebRtcTransport, WebRtcTransport];
  const received = { first: collect(first), hub: collect(hub), last: collect(last) };
  await meshed(transports);
  const before = hub.counters;
  expect([before.connectionsEstablished, before.dataChannelsHandedOver]).toEqual([2, 0]);
  const worker = serveGuest(hub);
  // Both connections predate the host: each gets a fresh pair of engine channels, created on the
  // live connection (opened by `hub` towards `last`; asked of `first` by `hub`), handed over.
  await vi.waitFor(() => expect([worker.allowedToSend(idFirst), worker.allowedToSend(idLast)]).toEqual([true, true]), wait);
  await meshed(transports);
  return { first, hub, last, received, worker };
}

describe('data channel hand-off over real WebRTC (Node, node-datachannel)', () => {
  it('live connections get fresh engine channels for the guest: its frames reach plain peers on them, intact', async () => {
    const { first, hub, last, received, worker } = await handedOver();
    const peers = [first, last];
    const counted = peers.map((peer) => peer.counters);
    const sent = new Map<NodeId, Uint8Array[]>();
    for (const [index, peer] of peers.entries()) {
      const frames = [frame(index * 10 + 1, 1), frame(index * 10 + 2, 200), frame(index * 10 + 3, 16 * 1024 - 1), frame(index * 10 + 4, bigFrameBytes)];
      sent.set(peer.selfId, frames);
      // The page allowed it, and the channels were open when the connection became ready.
      for (const bytes of frames) expect(worker.guest.send(peer.selfId, bytes)).toBe(true);
    }
    for (const [index, peer] of peers.entries()) {
      const frames = sent.get(peer.selfId) ?? [];
      const receivedHere = index === 0 ? received.first : received.last;
      // From the hub, exactly these (the hub's page sent nothing), `from` the authenticated hub.
      await vi.waitFor(() => expect(from(receivedHere, idHub)).toEqual(digests(frames)), wait);
      // The peer's page counted them: they arrived on the fresh pair, which it kept.
      const delta = (key: 'framesReceived' | 'bytesReceived' | 'messagesReceived'): number => peer.counters[key] - (counted[index]?.[key] ?? 0);
      expect([delta('framesReceived'), delta('bytesReceived')]).toEqual([frames.length, sum(frames)]);
      // Three small frames (one bundle or up to three messages) and the big one in 7 chunks.
      expect(delta('messagesReceived')).toBeGreaterThanOrEqual(1 + Math.ceil(bigFrameBytes / (16 * 1024 - 1)));
      expect([peer.counters.dataChannelsHandedOver, peer.counters.engineChannelsReopened, peer.counters.connectionsEstablished]).toEqual([0, 1, 2]);
    }
    const all = [...sent.values()].flat();
    // The hub's page sent no frame itself: what its counters show is the guest's, reported.
    await vi.waitFor(() => expect([hub.counters.framesSent, hub.counters.bytesSent]).toEqual([all.length, sum(all)]), wait);
    expect(hub.counters.dataChannelsHandedOver).toBe(worker.handOffs(idFirst).length + worker.handOffs(idLast).length);
    expect(worker.handOffs(idFirst).map(({ session }) => session.split('/')[1])).toEqual(['1']);
    expect(worker.handOffs(idLast).map(({ session }) => session.split('/')[1])).toEqual(['1']);
    // Not a new connection: the two it had.
    expect([hub.counters.connectionsEstablished, hub.counters.engineChannelsReopened]).toEqual([2, 2]);
    // The guest said it took each session's channels it was given (the page announces them then).
    const handedSessions = worker.posted.flatMap((message) => (message.type === 'dataChannels' ? [message.session] : []));
    expect(worker.taken().map((message) => message.type === 'dataChannelsTaken' && message.session)).toEqual(handedSessions);
    expect(received.hub).toEqual([]);
    expect(worker.delivered).toEqual([]);
  });

  it('the plain peers send through their pages on channels 0 and 1: the hub’s page delivers, its guest gets nothing', async () => {
    const { first, hub, last, received, worker } = await handedOver();
    const sent = new Map<NodeId, Uint8Array[]>();
    for (const [index, peer] of [first, last].entries()) {
      const frames = [frame(index * 10 + 5, 3), frame(index * 10 + 6, 1000), frame(index * 10 + 7, bigFrameBytes)];
      sent.set(peer.selfId, frames);
      for (const bytes of frames) peer.send(idHub, bytes);
      expect(peer.counters.framesDroppedUnreachable).toBe(0);
    }
    for (const [peer, frames] of sent) await vi.waitFor(() => expect(from(received.hub, peer)).toEqual(digests(frames)), wait);
    expect(received.hub).toHaveLength(6);
    // Never the guest's: a plain page sends nothing on channels 2 and 3.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.delivered).toEqual([]);
    expect(hub.counters.framesReceived).toBe(6);
  });

  it('after the worker closes and stop(), the hub’s page path still reaches the peers, and the guest’s counters stay summed', async () => {
    const { first, hub, last, received, worker } = await handedOver();
    const early = [frame(41, 500), frame(42, bigFrameBytes)];
    for (const bytes of early) expect(worker.guest.send(idLast, bytes)).toBe(true);
    await vi.waitFor(() => expect(from(received.last, idHub)).toEqual(digests(early)), wait);
    const handedOverBefore = hub.counters.dataChannelsHandedOver;

    // As createWorkerRaftNode shuts down: the worker closes its transport (the guest closes its
    // channels and reports one last time), then the page stops serving it (serveTransport's stop).
    worker.guest.close();
    await new Promise((resolve) => setImmediate(resolve));
    const postedBeforeStop = worker.posted.length;
    worker.service.stop();
    // stop() tells the stopped host to let go of each session's channels it took (a worker that
    // outlives the word closes them), one per peer, and nothing else.
    expect(worker.posted.slice(postedBeforeStop).map((message) => [message.type, message.peer]).sort()).toEqual([
      ['dataChannelsClosed', idFirst],
      ['dataChannelsClosed', idLast],
    ]);
    const postedBefore = worker.posted.length;
    expect(worker.guest.send(idLast, frame(43, 10))).toBe(false);
    expect([hub.counters.framesSent, hub.counters.bytesSent]).toEqual([early.length, sum(early)]);

    // From the page now, on channels 0 and 1: resent until delivered (bounded), nothing lost for good.
    const attempts: Record<string, number[]> = {};
    for (const [peer, inbox] of [
      [first, received.first],
      [last, received.last],
    ] as const) {
      for (const bytes of [frame(51, 64), frame(52, bigFrameBytes)]) {
        (attempts[peer.selfId] ??= []).push(await sendUntilDelivered(() => hub.send(peer.selfId, bytes), () => from(inbox, idHub).includes(digest(bytes))));
      }
    }
    // Delivered at the first try: closing channels 2 and 3 does not disturb channels 0 and 1.
    expect(attempts).toEqual({ [idFirst]: [1, 1], [idLast]: [1, 1] });
    expect(hub.counters.framesDroppedUnreachable).toBe(0);
    // And the other way, the peers' pages to the hub's page.
    const back = frame(70, 77);
    last.send(idHub, back);
    await vi.waitFor(() => expect(from(received.hub, idLast)).toContain(digest(back)), wait);

    // A connection made after stop() keeps its channels on the page; the stopped host hears
    // nothing more (stop() withdrew its sessions' channels from them).
    hub.disconnect(idLast);
    expect(hub.peers.value.has(idLast)).toBe(false);
    await meshed([first, hub, last]);
    expect(hub.counters.dataChannelsHandedOver).toBe(handedOverBefore);
    expect(worker.posted.slice(postedBefore)).toEqual([]);
    const after = frame(80, bigFrameBytes);
    await sendUntilDelivered(() => hub.send(idLast, after), () => from(received.last, idHub).includes(digest(after)));
    // The guest's last report survives stop() in the hub's counters.
    expect(hub.counters.framesSent).toBeGreaterThanOrEqual(early.length + 4 + 1);
  });

  it('a pair the guest lost in use (a channel closed under it) is replaced by a fresh one on the same connection, both ways', async () => {
    const { first, hub, last, received, worker } = await handedOver();
    // The hub opens pairs towards `last` (it offered) and asks `first` for them (it answered).
    for (const peer of [idLast, idFirst]) {
      const lost = worker.handOffs(peer).at(-1);
      if (lost === undefined) throw new Error('no channels handed over');
      lost.control.close();
      await vi.waitFor(() => expect(worker.said).toContainEqual({ type: 'dataChannelsLost', peer, session: lost.session }), wait);
      expect(worker.guest.send(peer, frame(60, 10))).toBe(false);
      await vi.waitFor(() => expect([worker.handOffs(peer).length, worker.allowedToSend(peer)]).toEqual([2, true]), wait);
      const [previous, fresh] = worker.handOffs(peer).map(({ session }) => session.split('/')[1]);
      expect([previous, fresh]).toEqual(['1', '2']);
      const bytes = frame(61, bigFrameBytes);
      expect(worker.guest.send(peer, bytes)).toBe(true);
      const inbox = peer === idLast ? received.last : received.first;
      await vi.waitFor(() => expect(from(inbox, idHub)).toContain(digest(bytes)), wait);
    }
    // No new connection anywhere, and the guest's report of both losses reached the page.
    for (const transport of [first, hub, last]) expect(transport.counters.connectionsEstablished).toBe(2);
    await vi.waitFor(() => expect(hub.counters.engineChannelsLost).toBe(2), wait);
    expect(hub.counters.engineChannelsReopened).toBe(4);
  });

  it('stop() withdraws the channels: a hosted peer’s worker then sends through its page, which reaches the hub’s page', async () => {
    const [hub, peer] = transportsInOneRoom([idHub, idLast]) as [WebRtcTransport, WebRtcTransport];
    const hubWorker = serveGuest(hub);
    const peerWorker = serveGuest(peer);
    const received = collect(hub);
    await meshed([hub, peer]);
    await vi.waitFor(() => expect([hubWorker.allowedToSend(idLast), peerWorker.allowedToSend(idHub)]).toEqual([true, true]), wait);
    // Worker to worker, in both directions the hub's page sees nothing.
    const direct = frame(90, bigFrameBytes);
    expect(peerWorker.guest.send(idHub, direct)).toBe(true);
    await vi.waitFor(() => expect(digests(hubWorker.delivered.map((envelope) => envelope.bytes))).toEqual([digest(direct)]), wait);
    expect(hubWorker.delivered[0]?.from).toBe(idLast);
    expect(received).toEqual([]);

    // The hub's worker goes away (its guest is not even closed here): the peer's page hears
    // `engine-channels-withdrawn` and lets its worker send there no more.
    hubWorker.service.stop();
    await vi.waitFor(() => expect(peerWorker.lastState(idHub)).toMatchObject({ deliver: true, send: false }), wait);
    expect(peerWorker.guest.send(idHub, frame(91, 10))).toBe(false);
    // So the peer's transport sends through its page (as createPortTransport does), to the hub's page.
    const viaPage = [frame(92, 300), frame(93, bigFrameBytes)];
    for (const bytes of viaPage) peer.send(idHub, bytes);
    await vi.waitFor(() => expect(from(received, idLast)).toEqual(digests(viaPage)), wait);
    expect(hubWorker.delivered).toHaveLength(1);
    expect(peer.counters.framesDroppedUnreachable).toBe(0);
  });
});
