// Getting engine channels to a worker that attached after the connection opened (peer-link.ts
// `renew`): not while the peer never said it listens on them (a peer of 0.2 gains nothing), but
// as soon as it says so later, as a fresh pair on the live connection (engine-channels.ts); and
// when the connection has no generation left, or is not ready yet, by renewing the connection:
// the answerer, which can only ask the initiator (`connect-request`), asks again on a backoff
// while nothing changed, a bounded number of times (handOffLimits.maxRenewRequests). The bounds
// run on a virtual clock; the fake connections and the handshake on real time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { engineChannelsAnnouncement } from './data-channel-hand-off.ts';
import { cleanUp, connectRequests, exhaustGenerations, holdAnnouncement, idB, limits, liveOf, meshed, neverAnnounces, pair, recordingHost, sleep, wait } from './data-channel-hand-off.test-support.ts';
import type { FakeConnection } from './fake-connection.test-support.ts';
import { handOffLimits } from './limits.ts';
import { parseLinkSignal } from './link-signal.ts';
import type { RelayedSignal } from './signaling-hub.test-support.ts';
import type { WebRtcTransport } from './webrtc-transport.ts';

afterEach(cleanUp);

const hourMs = 3_600_000;
const sides = ['initiator', 'answerer'] as const;
/** The side that attaches a host, and its peer's fake connection (the one that must announce). */
const attaching = (side: (typeof sides)[number], pairOf: { a: WebRtcTransport; b: WebRtcTransport }) => (side === 'initiator' ? pairOf.a : pairOf.b);
const peerConnectionOf = (side: (typeof sides)[number], answerer: FakeConnection): FakeConnection => {
  const peer = side === 'initiator' ? answerer : answerer.peer;
  if (peer === null) throw new Error('the answerer is not linked');
  return peer;
};
const isConnectRequestOf = (relay: RelayedSignal): boolean => relay.from === idB && parseLinkSignal(relay.payload)?.type === 'connect-request';

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

describe('data channel hand-off: the answerer asking to renew the connection', () => {
  /**
   * Two transports on `clock`, connected before either attaches a host; the answerer heard the
   * initiator announce, and has used up the connection's generations of engine channels.
   */
  async function connectedOn(clock: VirtualClock) {
    const transports = pair({ clock });
    let heard = false;
    transports.network.onLinked = (answerer) => {
      transports.network.onLinked = null;
      // Listening after the session: by the time this runs, the session took it in.
      answerer.control.addEventListener('message', ({ data }) => (heard ||= data === engineChannelsAnnouncement));
    };
    // The initiator offers on a zero-delay timer; the answerer's own timer waits.
    await clock.advance(0);
    await meshed(transports.a, transports.b);
    // Until then a ready answerer takes the initiator for a peer of 0.2, and would not ask.
    await vi.waitFor(() => expect(heard).toBe(true), wait);
    await exhaustGenerations(transports.b);
    return transports;
  }

  it(`asks at most ${handOffLimits.maxRenewRequests} times, on a backoff, while the initiator does not hear it`, async () => {
    const clock = new VirtualClock();
    const { hub, a, b } = await connectedOn(clock);
    const sentAt: number[] = [];
    hub.tamper = (relay) => {
      if (!isConnectRequestOf(relay)) return relay.payload;
      sentAt.push(clock.now());
      return null;
    };
    const host = recordingHost();
    host.serve(b);
    expect(sentAt).toEqual([clock.now()]);
    await clock.advance(limits.reconnectDelayMinMs - 1);
    expect(sentAt).toHaveLength(1);
    await clock.advance(hourMs);
    expect(sentAt).toHaveLength(handOffLimits.maxRenewRequests);
    const gaps = sentAt.slice(1).map((at, index) => at - (sentAt[index] ?? 0));
    expect(gaps.every((gap) => gap >= limits.reconnectDelayMinMs && gap <= limits.reconnectDelayMaxMs)).toBe(true);
    await clock.advance(hourMs);
    await sleep(20);
    expect(sentAt).toHaveLength(handOffLimits.maxRenewRequests);
    expect([a.counters.connectionAttempts, b.counters.connectionAttempts, host.ofType('dataChannels').length]).toEqual([1, 1, 0]);
  });

  it('stops asking once the initiator renewed', async () => {
    const clock = new VirtualClock();
    const { hub, network, a, b } = await connectedOn(clock);
    let requests = 0;
    // The first request is lost; the next gets through.
    hub.tamper = (relay) => (isConnectRequestOf(relay) && ++requests === 1 ? null : relay.payload);
    const host = recordingHost();
    host.serve(b);
    expect(requests).toBe(1);
    expect(await clock.runUntil(() => requests === 2, { timeoutMs: limits.reconnectDelayMaxMs, stepMs: 1 })).toBe(true);
    // The virtual clock stands still meanwhile: no third request can be due.
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    await meshed(a, b);
    await clock.advance(hourMs);
    await sleep(20);
    expect([requests, a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual([2, 2, 2]);
    expect(host.ofType('dataChannels').map(({ control }) => control)).toEqual([liveOf(network, false).engineControl]);
  });

  it('an answerer whose connection takes a while to open still gets its channels moved, after spending its requests meanwhile', async () => {
    const clock = new VirtualClock();
    const { hub, network, a, b } = pair({ clock });
    const host = recordingHost();
    let answer = (): void => undefined;
    network.onLinked = (answerer) => {
      network.onLinked = null;
      const emit = answerer.emit.bind(answerer);
      answerer.emit = () => undefined; // the answer is slow to come
      answer = () => emit('answer');
      host.serve(b); // the worker attaches while the connection is being set up
    };
    await clock.advance(0);
    await vi.waitFor(() => expect(connectRequests(hub, idB)).toBe(1), wait);
    // All within the initiator's grace for an offer in flight: every request is ignored.
    await clock.advance(1_500);
    expect(connectRequests(hub, idB)).toBe(handOffLimits.maxRenewRequests);
    answer();
    await meshed(a, b);
    await vi.waitFor(() => expect(host.ofType('dataChannels')).toHaveLength(1), wait);
  });
});
