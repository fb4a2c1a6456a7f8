// Guards: copyBytes copies, whatever Uint8Array it is given. A Node Buffer's slice() is a view of
// the same memory, and the library's copies were made with slice(); a review of the session's
// fixes found it (2026-12-07, third session).
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { copyBytes } from './bytes.ts';

describe('copyBytes', () => {
  it('gives a plain Uint8Array in a buffer of its own, for a Node Buffer and a view alike', () => {
    const sources = [(): Uint8Array => Buffer.from([1, 2, 3, 4, 5]), (): Uint8Array => Buffer.from([1, 2, 3, 4, 5]).subarray(1, 4), (): Uint8Array => new Uint8Array([7, 8, 9]).subarray(1)];
    for (const source of sources.map((make) => make())) {
      const copy = copyBytes(source);
      expect(Object.getPrototypeOf(copy)).toBe(Uint8Array.prototype);
      expect([...copy]).toEqual([...source]);
      expect([copy.byteOffset, copy.buffer.byteLength]).toEqual([0, source.length]);
      source.fill(0);
      expect(copy.some((byte) => byte !== 0)).toBe(true);
    }
  });
});
