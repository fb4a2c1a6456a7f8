// Getting engine channels to a worker that attached after the connection opened (peer-link.ts
// `renew`): not while the peer never said it listens on them (a peer of 0.2 gains nothing), but
// as soon as it says so later, as a fresh pair on the live connection (engine-channels.ts), also
// for a connection still being set up when the worker attached (once it is ready); and when the
// connection has no generation left, by closing it: the next connection takes its channels to
// the worker.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanUp, collect, connectRequests, exhaustGenerations, guestFor, holdAnnouncement, idA, idB, liveOf, meshed, neverAnnounces, pair, recordingHost, sleep, wait } from './data-channel-hand-off.test-support.ts';
import type { FakeConnection } from './fake-connection.test-support.ts';
import type { WebRtcTransport } from './webrtc-transport.ts';

afterEach(cleanUp);

const sides = ['initiator', 'answerer'] as const;
/** The side that attaches a host, and its peer's fake connection (the one that must announce). */
const attaching = (side: (typeof sides)[number], pairOf: { a: WebRtcTransport; b: WebRtcTransport }) => (side === 'initiator' ? pairOf.a : pairOf.b);
const peerConnectionOf = (side: (typeof sides)[number], answerer: FakeConnection): FakeConnection => {
  const peer = side === 'initiator' ? answerer : answerer.peer;
  if (peer === null) throw new Error('the answerer is not linked');
  return peer;
};

describe('data channel hand-off: renewing connected sessions', () => {
  for (const side of sides) {
    it(`the ${side} does not renew a ready session whose peer never announced (0.2)`, async () => {
      const { hub, network, a, b } = pair();
      network.onLinked = (answerer) => neverAnnounces(peerConnectionOf(side, answerer));
      await meshed(a, b);
      const requests = connectRequests(hub, idB);
      const host = recordingHost();
      host.serve(attaching(side, { a, b }));
      await sleep(100);
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts, host.ofType('dataChannels').length]).toEqual([1, 1, 0]);
      expect(connectRequests(hub, idB)).toBe(requests);
    });

    it(`the ${side} gets a fresh pair when the peer's announcement arrives after the host attached`, async () => {
      const { network, a, b } = pair();
      const release: Array<() => void> = [];
      network.onLinked = (answerer) => {
        network.onLinked = null;
        release.push(holdAnnouncement(peerConnectionOf(side, answerer)));
      };
      await meshed(a, b);
      const host = recordingHost();
      host.serve(attaching(side, { a, b }));
      await sleep(50);
      // Not yet: as far as this side knows, the peer is of 0.2.
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual([1, 1]);
      expect(release).toHaveLength(1);
      expect(host.ofType('dataChannels')).toEqual([]);
      release.forEach((send) => send());
      await vi.waitFor(() => expect(host.lastState()).toMatchObject({ deliver: true, send: true }), wait);
      expect(host.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, side === 'initiator').enginePairs.get(1)?.control]);
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual([1, 1]);
    });

    it(`the ${side} renews the connection once the live one has no generation of engine channels left`, async () => {
      const { network, a, b } = pair();
      await meshed(a, b);
      const transport = attaching(side, { a, b });
      await exhaustGenerations(transport);
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual([1, 1]);
      const last = recordingHost();
      last.serve(transport);
      await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
      await meshed(a, b);
      expect(last.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, side === 'initiator').engineControl]);
      await vi.waitFor(() => expect(last.lastState()).toMatchObject({ deliver: true, send: true }), wait);
    });
  }
});

describe('data channel hand-off: renewing after both workers went away', () => {
  it('both sides withdrew, then attach new workers: they get a fresh pair (a withdrawal is not 0.2)', async () => {
    const { network, a, b } = pair();
    const [firstA, firstB] = [recordingHost(), recordingHost()];
    const [serviceA, serviceB] = [firstA.serve(a), firstB.serve(b)];
    await meshed(a, b);
    await vi.waitFor(() => expect([firstA.lastState()?.send, firstB.lastState()?.send]).toEqual([true, true]), wait);
    serviceA.stop();
    serviceB.stop();
    // Each told the other to stop: both workers' states say send:false... of hosts now gone.
    await sleep(20);
    const attempts = [a.counters.connectionAttempts, b.counters.connectionAttempts];
    const [secondA, secondB] = [recordingHost(), recordingHost()];
    secondA.serve(a);
    secondB.serve(b);
    await vi.waitFor(() => expect([secondA.lastState()?.send, secondB.lastState()?.send]).toEqual([true, true]), wait);
    expect([a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual(attempts);
    expect(secondA.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, true).enginePairs.get(1)?.control]);
    expect(secondB.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, false).enginePairs.get(1)?.control]);
    // The stopped hosts were told to let go of the channels they held.
    expect(firstA.ofType('dataChannelsClosed')).toHaveLength(1);
    expect(firstB.ofType('dataChannelsClosed')).toHaveLength(1);
  });
});

describe('data channel hand-off: a connection slow to open', () => {
  it('an answerer whose worker attached while its connection was being set up gets a fresh pair once it is ready, and asks for no new connection', async () => {
    const { hub, network, a, b } = pair();
    const host = recordingHost();
    let answer = (): void => undefined;
    network.onLinked = (answerer) => {
      network.onLinked = null;
      const emit = answerer.emit.bind(answerer);
      answerer.emit = () => undefined; // the answer is slow to come
      answer = () => emit('answer');
      host.serve(b); // the worker attaches while the connection is being set up
    };
    await vi.waitFor(() => expect(network.onLinked).toBe(null), wait);
    const requests = connectRequests(hub, idB);
    await sleep(300);
    expect(connectRequests(hub, idB)).toBe(requests);
    answer();
    await meshed(a, b);
    await vi.waitFor(() => expect(host.lastState()).toMatchObject({ deliver: true, send: true }), wait);
    expect(host.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, false).enginePairs.get(1)?.control]);
    expect([a.counters.connectionAttempts, b.counters.connectionAttempts, connectRequests(hub, idB)]).toEqual([1, 1, requests]);
  });
});

describe('data channel hand-off: a pair a worker lost in use', () => {
  for (const side of sides) {
    it(`a send that failed in the ${side}'s worker: both workers fall back to their pages, then talk on a fresh pair on the same connection`, async () => {
      const { a, b } = pair();
      const [workerA, workerB] = [guestFor(), guestFor()];
      const [hostA, hostB] = [recordingHost({ worker: workerA }), recordingHost({ worker: workerB })];
      hostA.serve(a);
      hostB.serve(b);
      const [receivedA, receivedB] = [collect(a), collect(b)];
      await meshed(a, b);
      await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
      const [failing, failingHost, other, otherHost] = side === 'initiator' ? [workerA, hostA, workerB, hostB] : [workerB, hostB, workerA, hostA];
      const [failingId, otherId] = side === 'initiator' ? [idA, idB] : [idB, idA];
      const held = failingHost.ofType('dataChannels').at(-1);
      if (held === undefined) throw new Error('no channels handed over');
      held.control.send = () => {
        throw new Error('OperationError: the send queue is full');
      };
      expect(failing.guest.send(otherId, Uint8Array.of(1))).toBe(true);
      // Both ends of the pair are gone: each worker sends through its page until the fresh pair.
      await vi.waitFor(() => expect([failing.guest.send(otherId, Uint8Array.of(2)), other.guest.send(failingId, Uint8Array.of(3))]).toEqual([false, false]), wait);
      await vi.waitFor(() => expect([failingHost.lastState()?.send, otherHost.lastState()?.send, failingHost.ofType('dataChannels').length, otherHost.ofType('dataChannels').length]).toEqual([true, true, 2, 2]), wait);
      expect(failing.guest.send(otherId, Uint8Array.of(4))).toBe(true);
      expect(other.guest.send(failingId, Uint8Array.of(5))).toBe(true);
      await vi.waitFor(() => expect(other.delivered.map(({ bytes }) => [...bytes])).toEqual([[4]]), wait);
      await vi.waitFor(() => expect(failing.delivered.map(({ bytes }) => [...bytes])).toEqual([[5]]), wait);
      // One fresh pair, no new connection, and nothing arrived through a page.
      expect([a.counters.connectionAttempts, b.counters.connectionAttempts, a.counters.engineChannelsReopened, b.counters.engineChannelsReopened]).toEqual([1, 1, 1, 1]);
      expect([receivedA, receivedB]).toEqual([[], []]);
      await vi.waitFor(() => expect([a.counters.engineChannelsLost, b.counters.engineChannelsLost]).toEqual([1, 1]), wait);
    });
  }
});

describe('data channel hand-off: what is not a pair lost in use', () => {
  /** Both sides with a worker's guest, meshed, each worker allowed to send. */
  async function withWorkers() {
    const pairOf = pair();
    const [workerA, workerB] = [guestFor(), guestFor()];
    const [hostA, hostB] = [recordingHost({ worker: workerA }), recordingHost({ worker: workerB })];
    const services = { a: hostA.serve(pairOf.a), b: hostB.serve(pairOf.b) };
    await meshed(pairOf.a, pairOf.b);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
    return { ...pairOf, services };
  }
  const lost = (...transports: WebRtcTransport[]): number[] => transports.map((transport) => transport.counters.engineChannelsLost);

  for (const side of sides) {
    it(`the ${side}'s worker replaced: the peer's worker sees its pair close, and nothing counts as lost`, async () => {
      const { a, b, services } = await withWorkers();
      const [renewing, service] = side === 'initiator' ? [a, services.a] : [b, services.b];
      const next = guestFor();
      recordingHost({ worker: next }).serve(renewing);
      service.stop();
      await vi.waitFor(() => expect([a.counters.engineChannelsReopened, b.counters.engineChannelsReopened]).toEqual([1, 1]), wait);
      await sleep(300);
      expect(lost(a, b)).toEqual([0, 0]);
    });

    it(`the ${side}'s worker withdrawn: the peer's worker sees its pair close, and nothing counts as lost or is renewed`, async () => {
      const { a, b, services } = await withWorkers();
      (side === 'initiator' ? services.a : services.b).stop();
      await sleep(300);
      expect(lost(a, b)).toEqual([0, 0]);
      expect([a.counters.engineChannelsReopened, b.counters.engineChannelsReopened]).toEqual([0, 0]);
    });
  }

  it('a connection closed by one side: the other side’s worker sees its pair close, and nothing counts as lost', async () => {
    const { a, b } = await withWorkers();
    a.disconnect(idB);
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    await sleep(300);
    expect(lost(a, b)).toEqual([0, 0]);
  });
});
