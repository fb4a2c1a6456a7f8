import { describe, expect, it } from 'vitest';
import { signalingProtocolLimits } from './limits.ts';
import { encodeSignalingMessage, type SignalingMessage } from './messages.ts';
import { fitsInBytes, parseSignalingMessage } from './parse-message.ts';

const errorCode = (text: string, direction: 'from-client' | 'from-server' | 'any' = 'any', maxBytes?: number): string | null => {
  const result = parseSignalingMessage(text, { direction, ...(maxBytes === undefined ? {} : { maxBytes }) });
  return result.ok ? null : result.error.code;
};

describe('parseSignalingMessage', () => {
  const valid: SignalingMessage[] = [
    { type: 'hello', protocol: 1, roomId: 'room', nodeId: 'a' },
    { type: 'challenge-response', proof: 'a'.repeat(64) },
    { type: 'signal', to: 'b', payload: '{"sdp":"v=0"}' },
    { type: 'challenge', nonce: '0123456789abcdef'.repeat(4) },
    { type: 'joined', roomId: 'room', nodeId: 'a', peers: ['b', 'c'] },
    { type: 'peer-joined', nodeId: 'b' },
    { type: 'peer-left', nodeId: 'b' },
    { type: 'signal', from: 'a', payload: '' },
    { type: 'error', code: 'room-full', message: 'full' },
    { type: 'ping' },
    { type: 'pong' },
  ];
  it.each(valid)('round-trips %j', (message) => {
    expect(parseSignalingMessage(encodeSignalingMessage(message))).toEqual({ ok: true, message });
  });

  it('refuses malformed input with `malformed`', () => {
    for (const text of [
      '', 'not json', '[]', 'null', '42', '{"type":1}', '{}',
      '{"type":"hello","protocol":1,"roomId":"","nodeId":"a"}',
      '{"type":"hello","protocol":1.5,"roomId":"r","nodeId":"a"}',
      '{"type":"hello","protocol":1,"roomId":"r","nodeId":"a\\u0000"}',
      // A lone surrogate: admitted, it would not be a valid NodeId (it cannot travel as UTF-8).
      '{"type":"hello","protocol":1,"roomId":"r","nodeId":"a\\ud800"}',
      '{"type":"hello","protocol":1,"roomId":"r","nodeId":"a","admin":true}',
      '{"type":"challenge-response","proof":"ABC"}',
      '{"type":"signal","to":"b","payload":{"sdp":1}}',
      '{"type":"joined","roomId":"r","nodeId":"a","peers":"b"}',
      '{"type":"error","code":"made-up","message":"x"}',
    ]) {
      expect(errorCode(text), text).toBe('malformed');
    }
  });

  it('refuses unknown types, and types of the other direction', () => {
    expect(errorCode('{"type":"shutdown"}')).toBe('unknown-type');
    expect(errorCode('{"type":"challenge","nonce":"' + 'a'.repeat(64) + '"}', 'from-client')).toBe('unknown-type');
    expect(errorCode('{"type":"hello","protocol":1,"roomId":"r","nodeId":"a"}', 'from-server')).toBe('unknown-type');
  });

  it('never accepts `from` on a signal written by a client', () => {
    expect(errorCode('{"type":"signal","to":"b","from":"a","payload":"x"}', 'from-client')).toBe('malformed');
    expect(errorCode('{"type":"signal","from":"a","payload":"x"}', 'from-client')).toBe('malformed');
  });

  it('refuses oversized messages before parsing them, counting UTF-8 bytes', () => {
    const big = JSON.stringify({ type: 'signal', to: 'b', payload: 'x'.repeat(signalingProtocolLimits.maxMessageBytes) });
    expect(errorCode(big)).toBe('too-large');
    const multibyte = JSON.stringify({ type: 'signal', to: 'b', payload: 'é'.repeat(600) });
    expect(errorCode(multibyte, 'from-client', 1000)).toBe('too-large');
    expect(errorCode(multibyte, 'from-client', 2000)).toBeNull();
    expect(fitsInBytes('é'.repeat(10), 20)).toBe(true);
    expect(fitsInBytes('é'.repeat(10), 19)).toBe(false);
  });

  it('bounds ids and peer lists', () => {
    const longId = 'n'.repeat(signalingProtocolLimits.maxNodeIdLength + 1);
    expect(errorCode(JSON.stringify({ type: 'peer-joined', nodeId: longId }))).toBe('malformed');
    const peers = Array.from({ length: signalingProtocolLimits.maxPeersListed + 1 }, (_, index) => `p${index}`);
    expect(errorCode(JSON.stringify({ type: 'joined', roomId: 'r', nodeId: 'a', peers }))).toBe('malformed');
  });
});
