// Review: peer-link.ts closes the serving (authenticated, ready) session on ICE 'disconnected'
// whenever ANY newer attempt is pending — "that attempt is the repair". But an offer proves
// nothing (the file's own header): a forged offer under the peer's id makes a probation session
// that never authenticates, and a transient ICE disconnection of the real connection during that
// window (up to connectTimeoutMs, renewable by the forger at will) becomes a lost connection
// instead of an ICE restart on the same connection.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanUp, idA, idB, liveOf, meshed, pair, sleep, wait } from '../transport/webrtc/data-channel-hand-off.test-support.ts';

afterEach(cleanUp);

describe('review: forged newcomer and ICE on the serving session', () => {
  it('a transient ICE disconnection while a forged offer is pending is repaired by an ICE restart, not by losing the authenticated connection', async () => {
    const { hub, network, a, b } = pair();
    await meshed(a, b);
    const offerer = liveOf(network, true);
    const answerer = liveOf(network, false);
    // The forger (anyone signalling as `a`): an offer for a session of its own, for no real connection.
    const forgedOffer = { type: 'connection', session: 'forged-session-0001', signal: { type: 'description', description: { type: 'offer', sdp: 'v=0\r\na=pair:nobody\r\na=fingerprint:sha-256 00:11\r\n' } } };
    hub.inject(idA, idB, JSON.stringify(forgedOffer));
    await vi.waitFor(() => expect(b.counters.connectionAttempts).toBe(2), wait);
    // A short ICE blip on the real connection, seen by both ends.
    answerer.setIceState('disconnected');
    offerer.setIceState('disconnected');
    await sleep(50);
    await meshed(a, b);
    // As without the forged offer: no connection lost, the same connection serves.
    expect({ lostA: a.counters.connectionsLost, lostB: b.counters.connectionsLost, attemptsA: a.counters.connectionAttempts, answererClosed: answerer.closed }).toEqual({ lostA: 0, lostB: 0, attemptsA: 1, answererClosed: false });
  });
});
