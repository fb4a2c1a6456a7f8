// The page's end of the data channel hand-off (data-channel-hand-off.ts), over fake peer
// connections and an in-memory signaling hub: which channels go to an attached host and what the
// page then tells it, the page keeping them when the host cannot take them, renewing connections
// opened before a host attached, a peer that never announces, and the workers' counters.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId, type NodeId, type RaftEnvelope } from '../../core/types.ts';
import { realClock } from '../../signaling/clock.ts';
import { createCounters } from './counters.ts';
import { createDataChannelGuest, type DataChannelGuest } from './data-channel-guest.ts';
import { engineChannelsAnnouncement, type DataChannelHandOff, type DataChannelHost, type DataChannelService } from './data-channel-hand-off.ts';
import { FakeConnectionNetwork, type FakeChannel, type FakeConnection } from './fake-connection.test-support.ts';
import { encodeChunk } from './framing.ts';
import { createSignalingHub } from './signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from './webrtc-transport.ts';

const wait = { timeout: 20_000, interval: 5 };
const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, iceRestartTimeoutMs: 200, connectTimeoutMs: 5_000 };
const [idA, idB] = [nodeId('a'), nodeId('b')];
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

/** Two transports; `a` offers (the smaller id). */
function pair(): { network: FakeConnectionNetwork; a: WebRtcTransport; b: WebRtcTransport } {
  const hub = createSignalingHub();
  const network = new FakeConnectionNetwork();
  const [a, b] = [idA, idB].map((id) => {
    const signaling = hub.client(id);
    const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  }) as [WebRtcTransport, WebRtcTransport];
  return { network, a, b };
}

async function meshed(...transports: WebRtcTransport[]): Promise<void> {
  await vi.waitFor(() => {
    for (const transport of transports) expect(transport.peers.value.size).toBe(1);
  }, wait);
}

/**
 * A host that records what it is posted, with `note()` taken at that moment; it may refuse channels
 * (as Firefox would) or pass messages on to a guest.
 */
function recordingHost(options: { refuseChannels?: boolean; guest?: DataChannelGuest; note?: () => boolean } = {}) {
  const posted: Array<{ readonly message: DataChannelHandOff; readonly transfer: readonly Transferable[]; readonly note: boolean }> = [];
  const recorded = { posted, refused: 0 };
  const host: DataChannelHost = {
    post(message, transfer) {
      if (options.refuseChannels === true && message.type === 'dataChannels') {
        recorded.refused++;
        throw new Error('DataCloneError: RTCDataChannel is not transferable here');
      }
      posted.push({ message, transfer, note: options.note?.() ?? true });
      options.guest?.accept(message);
    },
  };
  const ofType = <Type extends DataChannelHandOff['type']>(type: Type) => posted.map(({ message }) => message).filter((message): message is Extract<DataChannelHandOff, { type: Type }> => message.type === type);
  return { host, recorded, ofType, lastState: () => ofType('dataChannelsState').at(-1) };
}

/** A worker's guest: what it delivers is kept; its reports go to the service it is given, as serveTransport does. */
function guestFor() {
  const delivered: RaftEnvelope[] = [];
  let service: DataChannelService | null = null;
  const guest = createDataChannelGuest({ clock: realClock, deliver: (envelope) => delivered.push(envelope), report: (message) => service?.report(message.counters) });
  cleanup.push(() => guest.close());
  return { guest, delivered, serve: (value: DataChannelService) => (service = value) };
}

const live = (network: FakeConnectionNetwork, initiator: boolean): FakeConnection[] => network.connections.filter((connection) => !connection.closed && connection.options.initiator === initiator);
const liveOf = (network: FakeConnectionNetwork, initiator: boolean): FakeConnection => {
  const [connection] = live(network, initiator);
  if (connection === undefined) throw new Error('no live connection');
  return connection;
};
const sendWhole = (channel: FakeChannel, frame: readonly number[]): void => channel.send(encodeChunk(Uint8Array.from(frame), 0, 16 * 1024).chunk);
const collect = (transport: WebRtcTransport): Array<[NodeId, number[]]> => {
  const received: Array<[NodeId, number[]]> = [];
  transport.incoming.subscribe(({ from, bytes }) => received.push([from, [...bytes]]));
  return received;
};

describe('data channel hand-off: a host attached before connecting', () => {
  it('gets each session’s channels 2 and 3, then deliver, then send once the peer announced; closed on disconnect', async () => {
    const { network, a, b } = pair();
    const hostA = recordingHost();
    a.serveDataChannelsTo(hostA.host);
    b.serveDataChannelsTo(recordingHost().host);
    const receivedA = collect(a);
    await meshed(a, b);
    await vi.waitFor(() => expect(hostA.lastState()?.send).toBe(true), wait);
    const offerer = liveOf(network, true);
    const [handOff] = hostA.ofType('dataChannels');
    expect(handOff?.peer).toBe(idB);
    expect(handOff?.control).toBe(offerer.engineControl);
    expect(handOff?.bulk).toBe(offerer.engineBulk);
    expect(handOff?.limits).toMatchObject({ ...limits, chunkBytes: 16 * 1024 });
    expect(hostA.recorded.posted[0]?.transfer).toEqual([offerer.engineControl, offerer.engineBulk]);
    const states = hostA.ofType('dataChannelsState');
    expect(states.every((state) => state.session === handOff?.session && state.peer === idB && state.deliver)).toBe(true);
    expect([[true], [false, true]]).toContainEqual(states.map((state) => state.send));
    expect([a.counters.dataChannelsHandedOver, b.counters.dataChannelsHandedOver, a.counters.connectionsEstablished]).toEqual([1, 1, 1]);
    // The page no longer listens on them: what arrives there is the worker's.
    sendWhole(liveOf(network, false).engineControl, [7]);
    b.send(idA, Uint8Array.of(8));
    await vi.waitFor(() => expect(receivedA).toEqual([[idB, [8]]]), wait);

    a.disconnect(idB);
    expect(hostA.ofType('dataChannelsClosed')).toEqual([{ type: 'dataChannelsClosed', peer: idB, session: handOff?.session }]);
    await vi.waitFor(() => expect(a.counters.dataChannelsHandedOver).toBe(2), wait);
    expect(hostA.ofType('dataChannels')[1]?.session).not.toBe(handOff?.session);
  });

  it('frames between two workers skip both pages, and the workers’ counters add up in transport.counters', async () => {
    const { a, b } = pair();
    const workerA = guestFor();
    const workerB = guestFor();
    const hostA = recordingHost({ guest: workerA.guest });
    workerA.serve(a.serveDataChannelsTo(hostA.host));
    const hostB = recordingHost({ guest: workerB.guest });
    b.serveDataChannelsTo(hostB.host);
    const receivedB = collect(b);
    await meshed(a, b);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
    expect(workerA.guest.send(idB, Uint8Array.of(1, 2, 3))).toBe(true);
    await vi.waitFor(() => expect(workerB.delivered.map(({ from, bytes }) => [from, [...bytes]])).toEqual([[idA, [1, 2, 3]]]), wait);
    expect(receivedB).toEqual([]);
    expect(a.counters.framesSent).toBe(0);
    workerA.guest.close();
    expect(a.counters).toMatchObject({ framesSent: 1, bytesSent: 3, dataChannelsHandedOver: 1 });
  });
});

describe('data channel hand-off: the page keeps the channels', () => {
  it('when the host cannot take them: it delivers what arrives on them, and posts nothing more for that session', async () => {
    const { network, a, b } = pair();
    const hostA = recordingHost({ refuseChannels: true });
    a.serveDataChannelsTo(hostA.host);
    const receivedA = collect(a);
    await meshed(a, b);
    expect(hostA.recorded.refused).toBe(1);
    const answerer = liveOf(network, false);
    sendWhole(answerer.engineControl, [5]);
    sendWhole(answerer.engineBulk, [6, 6]);
    await vi.waitFor(() => expect(receivedA).toEqual([[idB, [5]], [idB, [6, 6]]]), wait);
    a.disconnect(idB);
    await vi.waitFor(() => expect(hostA.recorded.refused).toBe(2), wait);
    expect(hostA.recorded.posted).toEqual([]);
    expect(a.counters.dataChannelsHandedOver).toBe(0);
  });

  it('refuses frames on its engine channels before the handshake verified the peer', async () => {
    const { network, a, b } = pair();
    const receivedA = collect(a);
    network.onLinked = (answerer) => {
      sendWhole(answerer.engineControl, [1]);
      sendWhole(answerer.engineBulk, [2]);
      // Once open: `a` has opened too (its data path exists) but has not verified `b` yet.
      answerer.engineBulk.addEventListener('open', () => sendWhole(answerer.engineBulk, [3]));
    };
    await meshed(a, b);
    expect(a.counters.framesDroppedUnauthenticated).toBe(3);
    sendWhole(liveOf(network, false).engineControl, [4]);
    await vi.waitFor(() => expect(receivedA).toEqual([[idB, [4]]]), wait);
  });
});

describe('data channel hand-off: attaching to a connected transport', () => {
  for (const side of ['initiator', 'answerer'] as const) {
    it(`renews the connection when the ${side} attaches, and hands the new session's channels over`, async () => {
      const { network, a, b } = pair();
      await meshed(a, b);
      const [first] = live(network, side === 'initiator');
      const host = recordingHost();
      (side === 'initiator' ? a : b).serveDataChannelsTo(host.host);
      await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
      await meshed(a, b);
      expect(first?.closed).toBe(true);
      const current = liveOf(network, side === 'initiator');
      expect(host.ofType('dataChannels').map((message) => message.control)).toEqual([current.engineControl]);
      await vi.waitFor(() => expect(host.lastState()?.deliver).toBe(true), wait);
    });
  }

  it('renews once more when the host attached while the answerer’s session was still connecting', async () => {
    const { network, a, b } = pair();
    const host = recordingHost();
    // Attached mid-offer: the connect-request then finds a young offer and is ignored.
    network.onLinked = () => {
      network.onLinked = null;
      b.serveDataChannelsTo(host.host);
    };
    await vi.waitFor(() => expect(host.ofType('dataChannels')).toHaveLength(1), wait);
    await meshed(a, b);
    expect(host.ofType('dataChannels')[0]?.control).toBe(liveOf(network, false).engineControl);
    expect(b.counters.connectionsEstablished).toBe(2);
  });

  it('serving the host its sessions already went to renews nothing', async () => {
    const { a, b } = pair();
    const host = recordingHost();
    a.serveDataChannelsTo(host.host);
    await meshed(a, b);
    a.serveDataChannelsTo(host.host);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([a.counters.connectionsEstablished, host.ofType('dataChannels').length]).toEqual([1, 1]);
  });

  it('a host that cannot take channels renews a connected session once, not again', async () => {
    const { a, b } = pair();
    await meshed(a, b);
    const host = recordingHost({ refuseChannels: true });
    a.serveDataChannelsTo(host.host);
    await vi.waitFor(() => expect(a.counters.connectionsEstablished).toBe(2), wait);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([a.counters.connectionsEstablished, host.recorded.refused]).toEqual([2, 1]);
  });

  it('after stop(), a new session keeps its channels on the page', async () => {
    const { network, a, b } = pair();
    const host = recordingHost();
    const service = a.serveDataChannelsTo(host.host);
    await meshed(a, b);
    service.stop();
    a.disconnect(idB);
    await vi.waitFor(() => expect(a.counters.connectionsEstablished).toBe(2), wait);
    await meshed(a, b);
    expect(host.ofType('dataChannels')).toHaveLength(1);
    expect(a.counters.dataChannelsHandedOver).toBe(1);
    const receivedA = collect(a);
    sendWhole(liveOf(network, false).engineControl, [4]);
    await vi.waitFor(() => expect(receivedA).toEqual([[idB, [4]]]), wait);
  });
});

describe('data channel hand-off: what the peer says', () => {
  it('an announcement before the handshake allows the worker nothing until this side verified the peer', async () => {
    const { network, a, b } = pair();
    network.onLinked = (answerer) => answerer.control.send(engineChannelsAnnouncement);
    const hostA = recordingHost({ note: () => a.peers.value.has(idB) });
    a.serveDataChannelsTo(hostA.host);
    await meshed(a, b);
    await vi.waitFor(() => expect(hostA.lastState()).toMatchObject({ deliver: true, send: true }), wait);
    expect(hostA.recorded.posted.map(({ message, note }) => [message.type, note])).toEqual([
      ['dataChannels', false],
      ['dataChannelsState', true],
    ]);
  });

  it('never announces, so its host is never allowed to send to it (the other way round it is)', async () => {
    const { network, a, b } = pair();
    // b plays the old peer: its page never says `engine-channels`.
    network.onLinked = (answerer) => {
      const send = answerer.control.send.bind(answerer.control);
      answerer.control.send = (data) => {
        if (data !== engineChannelsAnnouncement) send(data);
      };
    };
    const hostA = recordingHost();
    const hostB = recordingHost();
    a.serveDataChannelsTo(hostA.host);
    b.serveDataChannelsTo(hostB.host);
    await meshed(a, b);
    await vi.waitFor(() => expect(hostB.lastState()?.send).toBe(true), wait);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hostA.ofType('dataChannelsState').map(({ deliver, send }) => [deliver, send])).toEqual([[true, false]]);
  });
});

describe('data channel hand-off: counters', () => {
  it('report() sums the latest report per host into transport.counters, and the sum survives stop()', () => {
    const { a } = pair();
    const before = a.counters;
    const first = a.serveDataChannelsTo(recordingHost().host);
    first.report({ ...createCounters(), framesSent: 5, bytesReceived: 40 });
    first.report({ ...createCounters(), framesSent: 7, bytesReceived: 50 });
    expect([a.counters.framesSent, a.counters.bytesReceived]).toEqual([before.framesSent + 7, before.bytesReceived + 50]);
    first.stop();
    first.report({ ...createCounters(), framesSent: 1_000 });
    expect(a.counters.framesSent).toBe(before.framesSent + 7);
    const second = a.serveDataChannelsTo(recordingHost().host);
    second.report({ ...createCounters(), framesSent: 3 });
    expect([a.counters.framesSent, a.counters.bytesReceived]).toEqual([before.framesSent + 10, before.bytesReceived + 50]);
    second.stop();
    second.stop();
    expect(a.counters.framesSent).toBe(before.framesSent + 10);
  });
});
