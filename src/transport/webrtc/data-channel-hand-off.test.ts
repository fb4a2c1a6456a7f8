// The page's end of the data channel hand-off (data-channel-hand-off.ts), over fake peer
// connections and an in-memory signaling hub (data-channel-hand-off.test-support.ts): which
// channels go to an attached host and what the page then tells it, the page keeping them (and
// only then reading them) when the host cannot take them, a fresh pair on the live connection for
// a host attached to a connected transport, a peer that never announces, and the workers'
// counters, checked field by field.
// Announcing and withdrawing: data-channel-announcement.test.ts; renewal: data-channel-renewal.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCounters, type WebRtcTransportCounters } from './counters.ts';
import { engineChannelsAnnouncement } from './data-channel-hand-off.ts';
import { defaultWebRtcTransportLimits } from './limits.ts';
import { cleanUp, collect, guestFor, idA, idB, limits, liveOf, meshed, neverAnnounces, pair, recordingHost, sendWhole, sleep, wait } from './data-channel-hand-off.test-support.ts';
import { parseLinkSignal } from './link-signal.ts';

afterEach(cleanUp);

describe('data channel hand-off: a host attached before connecting', () => {
  it('gets each session’s channels 2 and 3, then deliver, then send once the peer announced; closed on disconnect', async () => {
    const { network, a, b } = pair();
    const hostA = recordingHost();
    hostA.serve(a);
    recordingHost().serve(b);
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
    const hostA = recordingHost({ worker: workerA });
    hostA.serve(a);
    const hostB = recordingHost({ worker: workerB });
    hostB.serve(b);
    const receivedB = collect(b);
    await meshed(a, b);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
    expect(workerA.guest.send(idB, Uint8Array.of(1, 2, 3))).toBe(true);
    await vi.waitFor(() => expect(workerB.delivered.map(({ from, bytes }) => [from, [...bytes]])).toEqual([[idA, [1, 2, 3]]]), wait);
    expect(receivedB).toEqual([]);
    expect(a.counters.framesSent).toBe(0);
    // Its last report crosses to the page like every message of the worker: not at once.
    workerA.guest.close();
    await vi.waitFor(() => expect(a.counters).toMatchObject({ framesSent: 1, bytesSent: 3, dataChannelsHandedOver: 1 }), wait);
  });
});

describe('data channel hand-off: the page keeps the channels', () => {
  it('when the host cannot take them: it delivers what arrives on them, and posts nothing more for that session', async () => {
    const { network, a, b } = pair();
    const hostA = recordingHost({ refuseChannels: true });
    hostA.serve(a);
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

  for (const kept of [true, false]) {
    it(`builds its receive-only data path on channels 2 and 3 only when it kept them (${kept ? 'kept' : 'handed over'})`, async () => {
      const { network, a, b } = pair();
      recordingHost({ refuseChannels: kept }).serve(a);
      await meshed(a, b);
      const offerer = liveOf(network, true);
      // A data path sets the low-water mark of each channel it queues for (send-queue.ts).
      const lowWaterMark = defaultWebRtcTransportLimits.lowWaterMarkBytes;
      expect([offerer.control.bufferedAmountLowThreshold, offerer.bulk.bufferedAmountLowThreshold]).toEqual([lowWaterMark, lowWaterMark]);
      expect([offerer.engineControl.bufferedAmountLowThreshold, offerer.engineBulk.bufferedAmountLowThreshold]).toEqual(kept ? [lowWaterMark, lowWaterMark] : [0, 0]);
    });
  }

  it('builds no data path on handed-over channels when the host stopped before the handshake', async () => {
    const { network, a, b } = pair();
    const host = recordingHost();
    const service = host.serve(a);
    network.onLinked = () => {
      network.onLinked = null;
      service.stop();
    };
    await meshed(a, b);
    const offerer = network.connections.find((connection) => connection.options.initiator);
    expect(host.ofType('dataChannels').map(({ control }) => control)).toEqual([offerer?.engineControl]);
    expect([offerer?.engineControl.bufferedAmountLowThreshold, offerer?.engineBulk.bufferedAmountLowThreshold]).toEqual([0, 0]);
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
    it(`the ${side} attaching gets a fresh pair on the live connection, and its worker's frames travel on it`, async () => {
      const { network, a, b } = pair();
      await meshed(a, b);
      const [attaching, other] = side === 'initiator' ? [a, b] : [b, a];
      const [attachingId, otherId] = side === 'initiator' ? [idA, idB] : [idB, idA];
      const worker = guestFor();
      const host = recordingHost({ worker });
      host.serve(attaching);
      const received = collect(other);
      await vi.waitFor(() => expect(host.lastState()).toMatchObject({ deliver: true, send: true }), wait);
      // No new connection: the pair of generation 1, created on both sides of the first one.
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual([1, 1]);
      const mine = liveOf(network, side === 'initiator');
      const theirs = liveOf(network, side !== 'initiator');
      const [handOff] = host.ofType('dataChannels');
      expect(handOff).toMatchObject({ peer: otherId, control: mine.enginePairs.get(1)?.control, bulk: mine.enginePairs.get(1)?.bulk });
      expect(handOff?.session).toMatch(/\/1$/);
      expect(host.ofType('dataChannels')).toHaveLength(1);
      expect([a.counters.engineChannelsReopened, b.counters.engineChannelsReopened]).toEqual([1, 1]);
      // The pairs before are closed on both sides; the other side reads generation 1 itself.
      for (const connection of [mine, theirs]) expect([connection.engineControl.closed, connection.engineBulk.closed]).toEqual([true, true]);
      expect(theirs.enginePairs.get(1)?.control.closed).toBe(false);
      // The page may allow sending before the fresh pair has opened in the worker (the peer's
      // word and the channels' open event race, as on real connections); until then the guest
      // declines and the frame goes through the page. Once open, frames go on the pair.
      const fresh = mine.enginePairs.get(1);
      await vi.waitFor(() => expect([fresh?.control.readyState, fresh?.bulk.readyState]).toEqual(['open', 'open']), wait);
      expect(worker.guest.send(otherId, Uint8Array.of(5, 6))).toBe(true);
      await vi.waitFor(() => expect(received).toEqual([[attachingId, [5, 6]]]), wait);
      expect(mine.enginePairs.get(1)?.control.sent.filter((message) => typeof message !== 'string')).toHaveLength(1);
    });
  }

  it('both sides attaching at once agree on one fresh pair, and their workers talk on it', async () => {
    const { network, a, b } = pair();
    await meshed(a, b);
    const [workerA, workerB] = [guestFor(), guestFor()];
    const [hostA, hostB] = [recordingHost({ worker: workerA }), recordingHost({ worker: workerB })];
    hostA.serve(a);
    hostB.serve(b);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
    // The answerer's request met a newer pair already on its way: it took that one.
    expect([hostA.ofType('dataChannels').length, hostB.ofType('dataChannels').length]).toEqual([1, 1]);
    expect([a.counters.engineChannelsReopened, b.counters.engineChannelsReopened, a.counters.connectionAttempts]).toEqual([1, 1, 1]);
    expect(hostB.ofType('dataChannels')[0]?.control).toBe(liveOf(network, false).enginePairs.get(1)?.control);
    expect(workerB.guest.send(idA, Uint8Array.of(9))).toBe(true);
    await vi.waitFor(() => expect(workerA.delivered.map(({ from, bytes }) => [from, [...bytes]])).toEqual([[idB, [9]]]), wait);
  });

  it('a worker that replaces another gets the next pair, and the one before lets go', async () => {
    const { network, a, b } = pair();
    const first = recordingHost();
    const service = first.serve(a);
    await meshed(a, b);
    await vi.waitFor(() => expect(first.lastState()?.send).toBe(true), wait);
    service.stop();
    const second = recordingHost();
    second.serve(a);
    await vi.waitFor(() => expect(second.lastState()).toMatchObject({ deliver: true, send: true }), wait);
    expect(first.ofType('dataChannelsClosed').map(({ session }) => session)).toEqual([first.ofType('dataChannels')[0]?.session]);
    expect(second.ofType('dataChannels')[0]?.control).toBe(liveOf(network, true).enginePairs.get(1)?.control);
    expect([a.counters.connectionAttempts, a.counters.engineChannelsReopened]).toEqual([1, 1]);
  });

  for (const side of ['initiator', 'answerer'] as const) {
    it(`a host the ${side} attached while its session was connecting gets a fresh pair once it is ready, not a new connection`, async () => {
      const { network, a, b } = pair();
      const host = recordingHost();
      // Attached mid-offer: the session started without a host, and keeps its first pair here.
      network.onLinked = () => {
        network.onLinked = null;
        host.serve(side === 'initiator' ? a : b);
      };
      await meshed(a, b);
      await vi.waitFor(() => expect(host.lastState()).toMatchObject({ deliver: true, send: true }), wait);
      expect(host.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, side === 'initiator').enginePairs.get(1)?.control]);
      await sleep(100);
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts, host.ofType('dataChannels').length]).toEqual([1, 1, 1]);
    });
  }

  it('serving the host its sessions already went to renews nothing', async () => {
    const { a, b } = pair();
    const host = recordingHost();
    host.serve(a);
    await meshed(a, b);
    host.serve(a);
    await sleep(50);
    expect([a.counters.connectionsEstablished, host.ofType('dataChannels').length]).toEqual([1, 1]);
  });

  it('a host that cannot take channels gets one fresh pair offered, which the page then keeps, not another', async () => {
    const { network, a, b } = pair();
    await meshed(a, b);
    const host = recordingHost({ refuseChannels: true });
    host.serve(a);
    await vi.waitFor(() => expect(b.counters.engineChannelsReopened).toBe(1), wait);
    await sleep(100);
    expect([a.counters.connectionAttempts, a.counters.engineChannelsReopened, host.recorded.refused]).toEqual([1, 1, 1]);
    // Kept here, it delivers what the peer's worker would send on it.
    const receivedA = collect(a);
    sendWhole(liveOf(network, false).enginePairs.get(1)?.control ?? liveOf(network, false).engineControl, [3]);
    await vi.waitFor(() => expect(receivedA).toEqual([[idB, [3]]]), wait);
  });

  it('after stop(), a new session keeps its channels on the page', async () => {
    const { network, a, b } = pair();
    const host = recordingHost();
    const service = host.serve(a);
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

describe('data channel hand-off: a newer connection while one serves', () => {
  it('the newcomer keeps its first pair on the page while on probation; once it authenticates, the workers get a fresh pair on it', async () => {
    const { hub, a, b } = pair();
    const [workerA, workerB] = [guestFor(), guestFor()];
    const [hostA, hostB] = [recordingHost({ worker: workerA }), recordingHost({ worker: workerB })];
    hostA.serve(a);
    hostB.serve(b);
    await meshed(a, b);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
    const [first] = hostA.ofType('dataChannels').map(({ session }) => session);
    const absences: string[] = [];
    a.peers.subscribe((peers) => void (peers.has(idB) || absences.push('a lost b')));
    b.peers.subscribe((peers) => void (peers.has(idA) || absences.push('b lost a')));
    // A connect-request (anyone's: it proves nothing) makes a offer a second connection.
    hub.inject(idB, idA, JSON.stringify({ type: 'connect-request', session: '' }));
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send, hostA.lastState()?.session]).toEqual([true, true, expect.stringMatching(/\/1$/)]), wait);
    // The second connection's first pair never went to a worker: the first pair served meanwhile.
    const sessions = hostA.ofType('dataChannels').map(({ session }) => session);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toBe(first);
    expect(sessions[1]).toMatch(/^[^/]+\/1$/);
    expect(sessions[1]?.startsWith(`${first}/`)).toBe(false);
    expect(hostB.ofType('dataChannels').map(({ session }) => session)).toEqual(sessions);
    expect(workerA.guest.send(idB, Uint8Array.of(4, 5))).toBe(true);
    await vi.waitFor(() => expect(workerB.delivered.map(({ bytes }) => [...bytes])).toEqual([[4, 5]]), wait);
    expect(absences).toEqual([]);
    // Superseded is not lost.
    expect([a.counters.connectionsLost, b.counters.connectionsLost]).toEqual([0, 0]);
  });

  it('a host attached while a newcomer is on probation gets its pair from the serving session once the newcomer fails', async () => {
    const { hub, a, b } = pair({ connectTimeoutMs: 300 });
    await meshed(a, b);
    const first = parseLinkSignal(hub.relayed.find(({ from }) => from === idA)?.payload ?? '')?.session;
    // A forged connect-request makes a offer again; the offer is dropped, so the newcomer times out.
    hub.tamper = ({ from, payload }) => (from === idA && parseLinkSignal(payload)?.session !== first ? null : payload);
    hub.inject(idB, idA, JSON.stringify({ type: 'connect-request', session: '' }));
    await vi.waitFor(() => expect(a.counters.connectionAttempts).toBe(2), wait);
    const host = recordingHost();
    host.serve(a);
    await sleep(50);
    expect(host.ofType('dataChannels')).toEqual([]); // not while the newcomer may still take over
    await vi.waitFor(() => expect(host.ofType('dataChannels').map(({ session }) => session)).toEqual([`${first}/1`]), wait);
    await vi.waitFor(() => expect(host.lastState()).toMatchObject({ deliver: true, send: true }), wait);
    expect(a.peers.value.has(idB)).toBe(true);
  });
});

describe('data channel hand-off: what the peer says', () => {
  it('an announcement before the handshake allows the worker nothing until this side verified the peer', async () => {
    const { network, a, b } = pair();
    network.onLinked = (answerer) => answerer.control.send(engineChannelsAnnouncement);
    // Whether a's handshake had verified b when each was posted (the session readies its engine
    // channels before it tells the link, so `peers` shows b a moment later, in the same task).
    const hostA = recordingHost({ note: () => a.counters.connectionsEstablished === 1 });
    hostA.serve(a);
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
    network.onLinked = (answerer) => neverAnnounces(answerer);
    const hostA = recordingHost();
    const hostB = recordingHost();
    hostA.serve(a);
    hostB.serve(b);
    await meshed(a, b);
    await vi.waitFor(() => expect(hostB.lastState()?.send).toBe(true), wait);
    await sleep(50);
    expect(hostA.ofType('dataChannelsState').map(({ deliver, send }) => [deliver, send])).toEqual([[true, false]]);
  });
});

/** What a worker's guest reports, as it reaches the page (a worker is not trusted to send only counts). */
const countersReport = (counters: unknown) => ({ type: 'dataChannelCounters', counters: counters as WebRtcTransportCounters }) as const;

describe('data channel hand-off: counters', () => {
  it('receive() sums the latest counters report per host into transport.counters, and the sum survives stop()', () => {
    const { a } = pair();
    const before = a.counters;
    const first = recordingHost().serve(a);
    first.receive(countersReport({ ...createCounters(), framesSent: 5, bytesReceived: 40 }));
    first.receive(countersReport({ ...createCounters(), framesSent: 7, bytesReceived: 50 }));
    expect([a.counters.framesSent, a.counters.bytesReceived]).toEqual([before.framesSent + 7, before.bytesReceived + 50]);
    first.stop();
    first.receive(countersReport({ ...createCounters(), framesSent: 1_000 }));
    expect(a.counters.framesSent).toBe(before.framesSent + 7);
    const second = recordingHost().serve(a);
    second.receive(countersReport({ ...createCounters(), framesSent: 3 }));
    expect([a.counters.framesSent, a.counters.bytesReceived]).toEqual([before.framesSent + 10, before.bytesReceived + 50]);
    second.stop();
    second.stop();
    expect(a.counters.framesSent).toBe(before.framesSent + 10);
  });

  it('takes a report field by field: only known counters, only non-negative safe integers; anything else counts 0', () => {
    const { a } = pair();
    const before = a.counters;
    const service = recordingHost().serve(a);
    const added = () => Object.fromEntries(Object.entries(a.counters).map(([key, value]) => [key, value - before[key as keyof WebRtcTransportCounters]]));
    service.receive(
      countersReport({
        framesSent: 5,
        bytesSent: -1,
        framesReceived: 1.5,
        bytesReceived: 2 ** 53,
        messagesSent: '7',
        messagesReceived: Number.NaN,
        framesDroppedQueueFull: Number.POSITIVE_INFINITY,
        framesDroppedMalformed: null,
        iceRestarts: 0,
        connectionsLost: 3,
        notACounter: 9,
      }),
    );
    expect(added()).toEqual({ ...createCounters(), framesSent: 5, connectionsLost: 3 });
    expect(Object.keys(a.counters)).toEqual(Object.keys(createCounters()));
    // A report that is no object at all counts nothing (it replaces the host's last one).
    for (const counters of [null, 42, 'framesSent', [7]]) {
      service.receive(countersReport({ ...createCounters(), framesSent: 2 }));
      service.receive(countersReport(counters));
      expect(added()).toEqual(createCounters());
    }
  });
});
