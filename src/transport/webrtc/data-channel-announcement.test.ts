// When the page tells its peer that this side listens on channels 2 and 3 (`engine-channels`,
// data-channel-hand-off.ts) and when it takes that back (`engine-channels-withdrawn`): only once
// the host's worker said it took them, or the page kept them; on stop(), only for sessions whose
// channels that host took and only if it had said so; and never anything a peer of 0.2 (which
// never announces, and fails on unexpected text during its handshake) cannot take.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { engineChannelsAnnouncement, engineChannelsWithdrawal } from './data-channel-hand-off.ts';
import { cleanUp, collect, engineChannelTexts, guestFor, idA, idB, liveOf, meshed, neverAnnounces, pair, recordingHost, sleep, wait } from './data-channel-hand-off.test-support.ts';

afterEach(cleanUp);

const statesOf = (host: ReturnType<typeof recordingHost>): boolean[][] => host.ofType('dataChannelsState').map(({ deliver, send }) => [deliver, send]);

describe('data channel hand-off: announcing channels 2 and 3', () => {
  it('says nothing while the host has not said its worker took them, so the peer’s worker never sends; says it once it does', async () => {
    const { network, a, b } = pair();
    const hostA = recordingHost({ acknowledge: false });
    const hostB = recordingHost();
    const serviceA = hostA.serve(a);
    hostB.serve(b);
    await meshed(a, b);
    // b's host took them, so b announced: a's worker may send; b's may not, and stays so.
    await vi.waitFor(() => expect(hostA.lastState()).toMatchObject({ deliver: true, send: true }), wait);
    await sleep(50);
    const offerer = liveOf(network, true);
    expect(engineChannelTexts(offerer.control)).toEqual([]);
    expect(statesOf(hostB)).toEqual([[true, false]]);
    // The channels of another session, or of another peer, are not these.
    const session = hostA.ofType('dataChannels')[0]?.session ?? '';
    serviceA.receive({ type: 'dataChannelsTaken', peer: idB, session: `${session}-other` });
    serviceA.receive({ type: 'dataChannelsTaken', peer: nodeId('c'), session });
    await sleep(50);
    expect([engineChannelTexts(offerer.control), statesOf(hostB)]).toEqual([[], [[true, false]]]);
    hostA.acknowledge();
    await vi.waitFor(() => expect(statesOf(hostB)).toEqual([[true, false], [true, true]]), wait);
    hostA.acknowledge();
    await sleep(20);
    expect(engineChannelTexts(offerer.control)).toEqual([engineChannelsAnnouncement]);
  });

  for (const how of ['no host is attached', 'the host cannot take them'] as const) {
    it(`says it once ready when the page keeps them (${how})`, async () => {
      const { network, a, b } = pair();
      if (how === 'the host cannot take them') recordingHost({ refuseChannels: true }).serve(a);
      const hostB = recordingHost();
      hostB.serve(b);
      await meshed(a, b);
      await vi.waitFor(() => expect(hostB.lastState()).toMatchObject({ deliver: true, send: true }), wait);
      expect(engineChannelTexts(liveOf(network, true).control)).toEqual([engineChannelsAnnouncement]);
    });
  }
});

describe('data channel hand-off: withdrawing on stop()', () => {
  it('tells the peer once; its page tells its worker to stop sending, and it sends through the page again', async () => {
    const { network, a, b } = pair();
    const workerB = guestFor();
    const hostA = recordingHost();
    const hostB = recordingHost({ worker: workerB });
    const serviceA = hostA.serve(a);
    hostB.serve(b);
    const receivedA = collect(a);
    await meshed(a, b);
    await vi.waitFor(() => expect([hostA.lastState()?.send, hostB.lastState()?.send]).toEqual([true, true]), wait);
    expect(workerB.guest.send(idA, Uint8Array.of(1))).toBe(true);
    serviceA.stop();
    await vi.waitFor(() => expect(hostB.lastState()).toMatchObject({ deliver: true, send: false }), wait);
    expect(workerB.guest.send(idA, Uint8Array.of(2))).toBe(false);
    b.send(idA, Uint8Array.of(3));
    await vi.waitFor(() => expect(receivedA).toEqual([[idB, [3]]]), wait);
    serviceA.stop();
    await sleep(20);
    expect(engineChannelTexts(liveOf(network, true).control)).toEqual([engineChannelsAnnouncement, engineChannelsWithdrawal]);
    expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([1, 1]);
  });

  it('withdraws nothing the page kept: the peer’s worker keeps sending', async () => {
    const { network, a, b } = pair();
    const serviceA = recordingHost({ refuseChannels: true }).serve(a);
    const hostB = recordingHost();
    hostB.serve(b);
    await meshed(a, b);
    await vi.waitFor(() => expect(hostB.lastState()?.send).toBe(true), wait);
    const states = statesOf(hostB);
    serviceA.stop();
    await sleep(50);
    expect(engineChannelTexts(liveOf(network, true).control)).toEqual([engineChannelsAnnouncement]);
    expect(statesOf(hostB)).toEqual(states);
  });

  it('to a peer of 0.2: nothing on channels 2 and 3, text about them only after its handshake ended, frames through the page', async () => {
    const { network, a, b } = pair();
    const workerA = guestFor();
    const hostA = recordingHost({ worker: workerA });
    const serviceA = hostA.serve(a);
    // What reaches b about channels 2 and 3, and whether b's handshake had ended by then.
    const arrived: Array<[unknown, boolean]> = [];
    let engineMessages = 0;
    network.onLinked = (answerer) => {
      neverAnnounces(answerer);
      answerer.control.addEventListener('message', ({ data }) => {
        if (data === engineChannelsAnnouncement || data === engineChannelsWithdrawal) arrived.push([data, b.peers.value.has(idA)]);
      });
      for (const channel of [answerer.engineControl, answerer.engineBulk]) channel.addEventListener('message', () => engineMessages++);
    };
    const receivedB = collect(b);
    await meshed(a, b);
    await vi.waitFor(() => expect(arrived).toEqual([[engineChannelsAnnouncement, true]]), wait);
    expect(statesOf(hostA)).toEqual([[true, false]]);
    expect(workerA.guest.send(idB, Uint8Array.of(1))).toBe(false);
    serviceA.stop();
    await vi.waitFor(
      () =>
        expect(arrived).toEqual([
          [engineChannelsAnnouncement, true],
          [engineChannelsWithdrawal, true],
        ]),
      wait,
    );
    a.send(idB, Uint8Array.of(2));
    await vi.waitFor(() => expect(receivedB).toEqual([[idA, [2]]]), wait);
    expect([engineMessages, a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([0, 1, 1]);
  });

  for (const order of ['after', 'before'] as const) {
    it(`stopped before the session is ready (the worker said it took them ${order} that): it says nothing about them, ever`, async () => {
      const { network, a, b } = pair();
      const hostA = recordingHost({ acknowledge: false });
      const serviceA = hostA.serve(a);
      let stopped = false;
      network.onLinked = (linked) => {
        network.onLinked = null;
        // b plays a peer of 0.2: text now, before both opened, would fail its handshake.
        neverAnnounces(linked);
        if (order === 'after') hostA.acknowledge();
        serviceA.stop();
        stopped = true;
        if (order === 'before') hostA.acknowledge();
      };
      const receivedA = collect(a);
      await meshed(a, b);
      expect(stopped).toBe(true);
      b.send(idA, Uint8Array.of(1));
      await vi.waitFor(() => expect(receivedA).toEqual([[idB, [1]]]), wait);
      await sleep(20);
      expect(engineChannelTexts(liveOf(network, true).control)).toEqual([]);
      // The host went away: it is told only to let go of the channels (its worker may outlive the
      // word), nothing more, not even that the session is ready.
      expect(hostA.recorded.posted.map(({ message }) => message.type)).toEqual(['dataChannels', 'dataChannelsClosed']);
    });
  }
});

describe('data channel hand-off: a peer’s announcement before this side is ready', () => {
  it('keeps the new connection, and a host attached while it connected gets a pair on it once ready', async () => {
    const { network, a, b } = pair();
    const hostB = recordingHost();
    network.onLinked = (answerer) => {
      network.onLinked = null;
      // b's session exists (it is applying the offer); its host attaches while it connects.
      hostB.serve(b);
      // a's page says it listens before the handshake (early, or a hostile peer), and never again:
      // b takes it at once, and must renew when it becomes ready, without a second word.
      const offerer = answerer.peer;
      if (offerer === null) throw new Error('the pair is linked');
      offerer.control.send(engineChannelsAnnouncement);
      neverAnnounces(offerer);
    };
    await meshed(a, b);
    // The link renews on hearing the session is reachable. It heard that before the engine channels
    // were ready, so the renewal said no, which it took for generations running out: it closed the
    // connection. Told in the other order, the pair comes at once.
    await vi.waitFor(() => expect(hostB.ofType('dataChannels').map(({ session }) => session.split('/')[1])).toEqual(['1']), wait);
    await sleep(50);
    expect([b.counters.connectionAttempts, b.counters.connectionsLost, a.counters.connectionsLost]).toEqual([1, 0, 0]);
    expect(b.peers.value.has(idA)).toBe(true);
  });
});
