// The peer handshake binds both sides' DTLS fingerprints as the first descriptions carried them
// (PeerConnection.descriptions()). A later description (an ICE restart's offer, say) presenting
// another certificate ends the connection instead of being applied: otherwise a signaling server
// in the middle could swap a certificate after the handshake had bound the first one. Real
// node-datachannel connections on loopback (vitest project 'network').
import * as polyfill from 'node-datachannel/polyfill';
import { describe, expect, it } from 'vitest';
import type { ConnectionSignal } from '../transport/webrtc/connection-signal.ts';
import { openPeerConnection, type PeerConnection } from '../transport/webrtc/peer-connection.ts';
import { withBindAddress } from './bind-address.ts';
import { until } from './until.test-support.ts';

interface Pair {
  readonly offerer: PeerConnection;
  readonly answerer: PeerConnection;
  readonly offers: readonly ConnectionSignal[];
  readonly closed: readonly string[];
}

/**
 * Two connected node-datachannel peers, signaling to each other in memory.
 *
 * A pair whose two sides both close before either opens is replaced by a fresh one, at most
 * `attempts` times, as the transport reconnects after any loss. libdatachannel 0.24.5 (in
 * node-datachannel 0.33.4) has a race there: `setRemoteDescription` hands the answer to the ICE
 * agent before it records the answer as the remote description. When the answerer's ICE has
 * already reached the offerer (the offerer answers connectivity checks before it has the answer)
 * its DTLS client hello is waiting, and if the offerer's thread is preempted between those two
 * steps, the offerer checks the answerer's certificate against no remote description, refuses it
 * ("unknown CA"), and the handshake fails. Under CPU contention this happened in 9 of 390 pairs
 * (2026-12-05, three busy processes on this 2-core VM; libdatachannel's verbose log of one shows it).
 * It is not ours to fix and not what this file tests; a pair that fails `attempts` times is.
 */
async function connectedPair(attempts = 3): Promise<Pair> {
  const webrtc = withBindAddress(polyfill as never, '127.0.0.1');
  const failures: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const closed: string[] = [];
    const opened: string[] = [];
    const offers: ConnectionSignal[] = [];
    // What each side did, in order: read out if the pair never opens.
    const events: string[] = [];
    const sides: { offerer: PeerConnection | null; answerer: PeerConnection | null } = { offerer: null, answerer: null };
    const open = (name: 'offerer' | 'answerer', other: 'offerer' | 'answerer'): PeerConnection =>
      openPeerConnection({
        initiator: name === 'offerer',
        iceServers: [],
        webrtc,
        events: {
          signal: (signal) => {
            events.push(`${name} sent ${signal.type === 'description' ? signal.description.type : signal.type}`);
            if (name === 'offerer' && signal.type === 'description') offers.push(signal);
            queueMicrotask(() => sides[other]?.applySignal(signal));
          },
          open: () => void opened.push(name),
          close: (reason) => void closed.push(`${name}: ${reason}`),
          iceState: (state) => void events.push(`${name} ICE ${state}`),
          noLocalCandidates: () => void events.push(`${name} gathered no local candidate`),
        },
      });
    sides.answerer = open('answerer', 'offerer');
    sides.offerer = open('offerer', 'answerer');
    const { offerer, answerer } = sides;
    const seen = (): string => `attempt ${attempt}: opened [${opened.join(', ')}]; closed [${closed.join('; ')}]; ${events.join('; ')}`;
    try {
      await until(() => opened.length === 2 || (closed.length === 2 && opened.length === 0), 'both sides open', 15_000, seen);
    } catch (error) {
      offerer.destroy();
      answerer.destroy();
      throw new Error([...failures, error instanceof Error ? error.message : String(error)].join('\n'));
    }
    if (opened.length === 2) return { offerer, answerer, offers, closed };
    const failure = `handshake failed before opening, ${seen()}`;
    failures.push(failure);
    // eslint-disable-next-line no-console -- a run that needed another pair says so in the log
    console.warn(`fingerprint binding: ${failure}; opening another pair`);
    offerer.destroy();
    answerer.destroy();
  }
  throw new Error(`no pair opened in ${attempts} attempts:\n${failures.join('\n')}`);
}

describe('DTLS fingerprints bound by the first descriptions', () => {
  it('a later description with another fingerprint closes the connection, and is not applied', async () => {
    const { offerer, answerer, offers, closed } = await connectedPair();
    try {
      expect(answerer.descriptions()).not.toBeNull();
      const offer = offers[0];
      if (offer?.type !== 'description') throw new Error('no offer seen');
      // The offer again, with the fingerprint's last byte changed: what a party in the middle sends.
      const swapped = offer.description.sdp.replace(/(a=fingerprint:\S+ (?:[0-9A-F]{2}:)+)([0-9A-F]{2})/, (_match, head: string, last: string) => `${head}${last === '00' ? '01' : '00'}`);
      expect(swapped).not.toBe(offer.description.sdp);
      answerer.applySignal({ type: 'description', description: { type: 'offer', sdp: swapped } });
      expect(closed).toContain('answerer: the remote DTLS fingerprint changed between descriptions');
    } finally {
      offerer.destroy();
      answerer.destroy();
    }
  });
});
