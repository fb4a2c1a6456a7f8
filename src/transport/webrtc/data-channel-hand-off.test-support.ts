// The page's end of the data channel hand-off under test (data-channel-*.test.ts): two transports
// over fake peer connections and an in-memory signaling hub, a host that records what it is
// posted and says it took a session's channels the way a worker's guest does (through the service
// serveDataChannelsTo returned, asynchronously, as serveTransport routes the worker's messages),
// a real guest wired the same way, and peers that never (or only later) announce channels 2 and 3.
import { expect, vi } from 'vitest';
import type { Clock } from '../../core/config.ts';
import { nodeId, type NodeId, type RaftEnvelope } from '../../core/types.ts';
import { realClock } from '../../signaling/clock.ts';
import { createDataChannelGuest, type DataChannelGuest } from './data-channel-guest.ts';
import { engineChannelsAnnouncement, engineChannelsWithdrawal, type DataChannelHandOff, type DataChannelHost, type DataChannelService } from './data-channel-hand-off.ts';
import { FakeConnectionNetwork, type FakeChannel, type FakeConnection } from './fake-connection.test-support.ts';
import { encodeChunk } from './framing.ts';
import { handOffLimits } from './limits.ts';
import { parseLinkSignal } from './link-signal.ts';
import { createSignalingHub, type SignalingHub } from './signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from './webrtc-transport.ts';

export const wait = { timeout: 20_000, interval: 5 };
export const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, iceRestartTimeoutMs: 200, connectTimeoutMs: 5_000 };
export const [idA, idB] = [nodeId('a'), nodeId('b')];

const cleanup: (() => void)[] = [];
/** For afterEach: closes what the helpers below opened. */
export function cleanUp(): void {
  for (const step of cleanup.splice(0)) step();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Two transports; `a` offers (the smaller id). */
export function pair(options: { clock?: Clock; connectTimeoutMs?: number } = {}): { hub: SignalingHub; network: FakeConnectionNetwork; a: WebRtcTransport; b: WebRtcTransport } {
  const hub = createSignalingHub();
  const network = new FakeConnectionNetwork();
  const [a, b] = [idA, idB].map((id) => {
    const signaling = hub.client(id);
    const transportLimits = options.connectTimeoutMs === undefined ? limits : { ...limits, connectTimeoutMs: options.connectTimeoutMs };
    const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits: transportLimits, ...(options.clock === undefined ? {} : { clock: options.clock }) });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  }) as [WebRtcTransport, WebRtcTransport];
  return { hub, network, a, b };
}

export async function meshed(...transports: WebRtcTransport[]): Promise<void> {
  await vi.waitFor(() => {
    for (const transport of transports) expect(transport.peers.value.size).toBe(1);
  }, wait);
}

/** A worker's guest (real clock); what it says goes to the service it is connected to, asynchronously, as over a MessagePort. */
export function guestFor() {
  const delivered: RaftEnvelope[] = [];
  let service: DataChannelService | null = null;
  const guest: DataChannelGuest = createDataChannelGuest({
    clock: realClock,
    deliver: (envelope) => delivered.push(envelope),
    report: (message) => setTimeout(() => service?.receive(message), 0),
  });
  cleanup.push(() => guest.close());
  return { guest, delivered, connect: (value: DataChannelService) => (service = value) };
}
export type Worker = ReturnType<typeof guestFor>;

/**
 * A host that records what it is posted, with `note()` taken at that moment. It may refuse
 * channels (as a runtime that cannot transfer them would), pass what it gets to a worker's guest
 * (which then speaks for it), or else say it took each session's channels right after their
 * post, unless `acknowledge` is false (then `acknowledge()` says it later).
 */
export function recordingHost(options: { refuseChannels?: boolean; worker?: Worker; note?: () => boolean; acknowledge?: boolean } = {}) {
  const posted: Array<{ readonly message: DataChannelHandOff; readonly transfer: readonly Transferable[]; readonly note: boolean }> = [];
  const recorded = { posted, refused: 0 };
  let service: DataChannelService | null = null;
  const taken = (message: { readonly peer: NodeId; readonly session: string }): void => service?.receive({ type: 'dataChannelsTaken', peer: message.peer, session: message.session });
  const host: DataChannelHost = {
    post(message, transfer) {
      if (options.refuseChannels === true && message.type === 'dataChannels') {
        recorded.refused++;
        throw new Error('DataCloneError: RTCDataChannel is not transferable here');
      }
      posted.push({ message, transfer, note: options.note?.() ?? true });
      if (options.worker !== undefined) options.worker.guest.accept(message);
      else if (message.type === 'dataChannels' && options.acknowledge !== false) setTimeout(() => taken(message), 0);
    },
  };
  const ofType = <Type extends DataChannelHandOff['type']>(type: Type) => posted.map(({ message }) => message).filter((message): message is Extract<DataChannelHandOff, { type: Type }> => message.type === type);
  return {
    host,
    recorded,
    ofType,
    lastState: () => ofType('dataChannelsState').at(-1),
    /** transport.serveDataChannelsTo(this host), whose service then hears what the host's worker says. */
    serve(transport: WebRtcTransport): DataChannelService {
      const served = transport.serveDataChannelsTo(host);
      service = served;
      options.worker?.connect(served);
      return served;
    },
    /** Says now that the worker took every session's channels posted so far. */
    acknowledge: () => ofType('dataChannels').forEach(taken),
  };
}

export const live = (network: FakeConnectionNetwork, initiator: boolean): FakeConnection[] => network.connections.filter((connection) => !connection.closed && connection.options.initiator === initiator);
export const liveOf = (network: FakeConnectionNetwork, initiator: boolean): FakeConnection => {
  const [connection] = live(network, initiator);
  if (connection === undefined) throw new Error('no live connection');
  return connection;
};
export const sendWhole = (channel: FakeChannel, frame: readonly number[]): void => channel.send(encodeChunk(Uint8Array.from(frame), 0, 16 * 1024).chunk);
export const collect = (transport: WebRtcTransport): Array<[NodeId, number[]]> => {
  const received: Array<[NodeId, number[]]> = [];
  transport.incoming.subscribe(({ from, bytes }) => received.push([from, [...bytes]]));
  return received;
};

/** The text messages a channel carried that are about channels 2 and 3 (announcements, withdrawals). */
export const engineChannelTexts = (channel: FakeChannel): string[] => channel.sent.filter((message): message is string => message === engineChannelsAnnouncement || message === engineChannelsWithdrawal);

/** `connection`'s page plays a peer of 0.2 from now on: it never says `engine-channels`. */
export function neverAnnounces(connection: FakeConnection): void {
  const send = connection.control.send.bind(connection.control);
  connection.control.send = (data) => {
    if (data !== engineChannelsAnnouncement) send(data);
  };
}

/** Holds `connection`'s announcement until the returned function sends it. */
export function holdAnnouncement(connection: FakeConnection): () => void {
  const send = connection.control.send.bind(connection.control);
  let held = false;
  connection.control.send = (data) => {
    if (data === engineChannelsAnnouncement) held = true;
    else send(data);
  };
  return () => {
    expect(held).toBe(true);
    send(engineChannelsAnnouncement);
  };
}

/**
 * Attaches a new host to `transport` once per generation of engine channels, waiting each time
 * for its fresh pair on the live connection, until the connection has none left
 * (handOffLimits.maxEngineChannelGenerations).
 */
export async function exhaustGenerations(transport: WebRtcTransport): Promise<void> {
  for (let generation = 1; generation <= handOffLimits.maxEngineChannelGenerations; generation++) {
    const host = recordingHost();
    host.serve(transport);
    await vi.waitFor(() => expect(host.ofType('dataChannels').map(({ session }) => session.split('/')[1])).toEqual([String(generation)]), wait);
  }
  expect(transport.counters.engineChannelsReopened).toBe(handOffLimits.maxEngineChannelGenerations);
}

/** The connect-requests `from` sent through `hub` (dropped ones included). */
export const connectRequests = (hub: SignalingHub, from: NodeId): number => hub.relayed.filter((relay) => relay.from === from && parseLinkSignal(relay.payload)?.type === 'connect-request').length;
