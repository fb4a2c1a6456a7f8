import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../testing/seeded-random.ts';
import { bytesToHex } from './hmac.ts';
import { sha256 } from './sha256.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('sha256', () => {
  it('gives the published test vectors (FIPS 180-4 examples: one block, two blocks, empty)', () => {
    expect(bytesToHex(sha256(text('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(bytesToHex(sha256(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(bytesToHex(sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agrees with node:crypto on every length around the block and padding boundaries, and on random inputs', () => {
    const random = seededRandom(11);
    for (let length = 0; length <= 200; length += 1) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      expect(bytesToHex(sha256(bytes))).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});
