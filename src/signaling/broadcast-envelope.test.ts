import { describe, expect, it } from 'vitest';
import { parseEnvelope } from './broadcast-envelope.ts';

const envelope = { type: 'signal', from: 'peer-a', instance: 'abc', sequence: 1, to: 'peer-b', payload: '{}', mac: null };

describe('parseEnvelope', () => {
  it('takes a well-formed envelope', () => {
    expect(parseEnvelope(envelope)).toEqual(envelope);
  });

  it('drops one whose sender or addressee is not a valid node id (empty, too long, a lone surrogate)', () => {
    expect(parseEnvelope({ ...envelope, from: '' })).toBeNull();
    expect(parseEnvelope({ ...envelope, from: 'x'.repeat(257) })).toBeNull();
    expect(parseEnvelope({ ...envelope, from: 'peer-\ud800' })).toBeNull();
    expect(parseEnvelope({ ...envelope, to: '\udc00' })).toBeNull();
    expect(parseEnvelope({ ...envelope, from: 'peer-\ud83d\ude00' })).not.toBeNull();
  });

  it('drops anything that is not an envelope', () => {
    expect(parseEnvelope(null)).toBeNull();
    expect(parseEnvelope({ ...envelope, type: 'shutdown' })).toBeNull();
    expect(parseEnvelope({ ...envelope, sequence: -1 })).toBeNull();
    expect(parseEnvelope({ ...envelope, mac: 'not hex' })).toBeNull();
  });
});
