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

describe('DTLS fingerprints bound by the first descriptions', () => {
  it('a later description with another fingerprint closes the connection, and is not applied', async () => {
    const webrtc = withBindAddress(polyfill as never, '127.0.0.1');
    const closed: string[] = [];
    const opened: string[] = [];
    const sides: { offerer: PeerConnection | null; answerer: PeerConnection | null } = { offerer: null, answerer: null };
    const offers: ConnectionSignal[] = [];
    const open = (name: 'offerer' | 'answerer', other: 'offerer' | 'answerer'): PeerConnection =>
      openPeerConnection({
        initiator: name === 'offerer',
        iceServers: [],
        webrtc,
        events: {
          signal: (signal) => {
            if (name === 'offerer' && signal.type === 'description') offers.push(signal);
            queueMicrotask(() => sides[other]?.applySignal(signal));
          },
          open: () => void opened.push(name),
          close: (reason) => void closed.push(`${name}: ${reason}`),
          iceState: () => undefined,
        },
      });
    sides.answerer = open('answerer', 'offerer');
    sides.offerer = open('offerer', 'answerer');
    try {
      await until(() => opened.length === 2, 'both sides open');
      expect(sides.answerer.descriptions()).not.toBeNull();
      const offer = offers[0];
      if (offer?.type !== 'description') throw new Error('no offer seen');
      // The offer again, with the fingerprint's last byte changed: what a party in the middle sends.
      const swapped = offer.description.sdp.replace(/(a=fingerprint:\S+ (?:[0-9A-F]{2}:)+)([0-9A-F]{2})/, (_match, head: string, last: string) => `${head}${last === '00' ? '01' : '00'}`);
      expect(swapped).not.toBe(offer.description.sdp);
      sides.answerer.applySignal({ type: 'description', description: { type: 'offer', sdp: swapped } });
      expect(closed).toContain('answerer: the remote DTLS fingerprint changed between descriptions');
    } finally {
      sides.offerer.destroy();
      sides.answerer.destroy();
    }
  });
});
