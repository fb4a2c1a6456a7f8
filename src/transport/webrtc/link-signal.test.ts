import { describe, expect, it } from 'vitest';
import { encodeLinkSignal, parseLinkSignal, type LinkSignal } from './link-signal.ts';

describe('link signals', () => {
  it('round-trips every kind', () => {
    const signals: LinkSignal[] = [
      { type: 'connection', session: 's1', signal: { type: 'description', description: { type: 'offer', sdp: 'v=0' } } },
      { type: 'connection', session: 's1', signal: { type: 'description', description: { type: 'offer', sdp: 'v=0' } }, restart: true },
      { type: 'connection', session: 's1', signal: { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } } },
      { type: 'connection', session: 's1', signal: { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: null } } },
      { type: 'connection', session: 's1', signal: { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: null, sdpMLineIndex: 0 } } },
      { type: 'connection', session: 's1', signal: { type: 'renegotiate' } },
      { type: 'connect-request', session: '' },
      { type: 'ice-restart', session: 's1' },
    ];
    for (const signal of signals) expect(parseLinkSignal(encodeLinkSignal(signal))).toEqual(signal);
  });

  it('encodes an unmarked signal with exactly the fields an earlier version parses (it refuses any other)', () => {
    const offer: LinkSignal = { type: 'connection', session: 's1', signal: { type: 'description', description: { type: 'offer', sdp: 'v=0' } } };
    expect(Object.keys(JSON.parse(encodeLinkSignal(offer)) as object)).toEqual(['type', 'session', 'signal']);
  });

  it('refuses a restart mark on anything but an offer, and any mark but `true`', () => {
    const answer = { type: 'description', description: { type: 'answer', sdp: 'v=0' } };
    const offer = { type: 'description', description: { type: 'offer', sdp: 'v=0' } };
    const bad = [
      { type: 'connection', session: 's', signal: answer, restart: true },
      { type: 'connection', session: 's', signal: { type: 'renegotiate' }, restart: true },
      { type: 'connection', session: 's', signal: { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } }, restart: true },
      { type: 'connection', session: 's', signal: offer, restart: false },
      { type: 'connection', session: 's', signal: offer, restart: 'true' },
      { type: 'connection', session: 's', signal: offer, restart: null },
      { type: 'ice-restart', session: 's', restart: true },
    ];
    for (const value of bad) expect(parseLinkSignal(JSON.stringify(value))).toBeNull();
  });

  it('refuses malformed, unknown, extra-field and oversized payloads, and candidates without sdpMid and sdpMLineIndex', () => {
    const bad = [
      'not json',
      '[]',
      '{"type":"connect-request"}',
      '{"type":"connect-request","session":"s","extra":1}',
      '{"type":"hello","session":"s"}',
      JSON.stringify({ type: 'connect-request', session: 'x'.repeat(65) }),
      JSON.stringify({ type: 'connection', session: 's', signal: { type: 'description', description: { type: 'pranswer', sdp: '' } } }),
      JSON.stringify({ type: 'connection', session: 's', signal: { type: 'candidate', candidate: { candidate: 1 } } }),
      // RTCIceCandidate's constructor throws without sdpMid and sdpMLineIndex (both absent, or null).
      JSON.stringify({ type: 'connection', session: 's', signal: { type: 'candidate', candidate: { candidate: 'candidate:1 1 UDP 2122260223 192.0.2.1 54400 typ host' } } }),
      JSON.stringify({ type: 'connection', session: 's', signal: { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: null, sdpMLineIndex: null } } }),
      JSON.stringify({ type: 'connection', session: 's', signal: { type: 'description', description: { type: 'offer', sdp: 'x'.repeat(200_000) } } }),
    ];
    for (const text of bad) expect(parseLinkSignal(text)).toBeNull();
  });
});
