// propose's copies: small commands share slabs, each view exactly its bytes; large ones alone.
import { describe, expect, it } from 'vitest';
import { createCommandCopier } from './command-copier.ts';

describe('command copier', () => {
  it('copies small commands into shared slabs, each view holding exactly its bytes, unaffected by reuse of the source', () => {
    const copier = createCommandCopier();
    const source = new Uint8Array(100);
    const copies = [1, 2, 3].map((value) => copier.copy(source.fill(value)));
    source.fill(9);
    expect(copies.map((copy) => [copy.length, copy[0], copy[99]])).toEqual([
      [100, 1, 1],
      [100, 2, 2],
      [100, 3, 3],
    ]);
    expect(new Set(copies.map((copy) => copy.buffer)).size).toBe(1);
    expect(copies.map((copy) => copy.byteOffset)).toEqual([0, 100, 200]);
  });

  it('starts a new slab when one is full, and gives large commands a buffer of their own', () => {
    const copier = createCommandCopier();
    const first = copier.copy(new Uint8Array(4096).fill(1));
    for (let count = 0; count < 15; count += 1) copier.copy(new Uint8Array(4096));
    const next = copier.copy(new Uint8Array(10).fill(2));
    expect(next.buffer).not.toBe(first.buffer); // 16 × 4 KiB filled the 64 KiB slab
    expect([next.byteOffset, next[0]]).toEqual([0, 2]);
    const large = copier.copy(new Uint8Array(5000).fill(3));
    expect([large.byteOffset, large.byteLength, large.buffer.byteLength, large[4999]]).toEqual([0, 5000, 5000, 3]);
    expect(copier.copy(new Uint8Array(0)).length).toBe(0);
  });
});
