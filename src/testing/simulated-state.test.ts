import { describe, expect, it } from 'vitest';
import { drawSnapshotConditions } from './snapshot-conditions.ts';
import { advanceDigest, decodeSimulatedSnapshot, encodeSimulatedSnapshot, simulatedSnapshotBytes, simulatedSnapshotHeaderBytes, type SnapshotSizeProfile } from './simulated-state.ts';

const chunk = 16 * 1024;
const profile: SnapshotSizeProfile = { maxBytes: 20 * chunk, chunkBytes: chunk, salt: 12345 };
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The digest after applying `count` entries p1, p2, ... of term 1 at indices 1.. */
function digestThrough(count: number): number {
  let digest = 0;
  for (let index = 1; index <= count; index += 1) digest = advanceDigest(digest, { index, term: 1, command: bytes(`p${index}`) });
  return digest;
}

describe('simulated application state and its snapshots', () => {
  it('a snapshot decodes to the digest it was made from, only at its own index', () => {
    const digest = digestThrough(40);
    const state = encodeSimulatedSnapshot(profile, 40, digest);
    expect(state.length).toBeGreaterThanOrEqual(simulatedSnapshotHeaderBytes);
    expect(decodeSimulatedSnapshot(profile, 40, state)).toBe(digest);
    expect(decodeSimulatedSnapshot(profile, 41, state)).toMatch(/header says index 40/);
    // Every node publishes the same bytes for the same state.
    expect(encodeSimulatedSnapshot(profile, 40, digestThrough(40))).toEqual(state);
  });

  it('any changed, missing or extra byte is caught', () => {
    const digest = digestThrough(7);
    let index = 7;
    let state = encodeSimulatedSnapshot(profile, index, digest);
    while (state.length < 3 * chunk) state = encodeSimulatedSnapshot(profile, ++index, digest);
    const flipped = state.slice();
    flipped[2 * chunk + 5] = (flipped[2 * chunk + 5] as number) ^ 1;
    expect(decodeSimulatedSnapshot(profile, index, flipped)).toMatch(/byte 32773/);
    expect(decodeSimulatedSnapshot(profile, index, state.subarray(0, state.length - 1))).toMatch(/bytes where the state/);
    // A chunk delivered twice in a row instead of the next one.
    const doubled = state.slice();
    doubled.set(state.subarray(chunk, 2 * chunk), 2 * chunk);
    expect(typeof decodeSimulatedSnapshot(profile, index, doubled)).toBe('string');
  });

  it('the state chains over every applied entry: a different command or term gives a different state', () => {
    const base = digestThrough(3);
    expect(advanceDigest(base, { index: 4, term: 1, command: bytes('a') })).not.toBe(advanceDigest(base, { index: 4, term: 1, command: bytes('b') }));
    expect(advanceDigest(base, { index: 4, term: 1, command: bytes('a') })).not.toBe(advanceDigest(base, { index: 4, term: 2, command: bytes('a') }));
  });

  it('sizes span the empty state (0 bytes), the header alone, chunk boundaries and one byte either side, up to the maximum', () => {
    const sizes = new Set<number>();
    let digest = 0;
    for (let index = 1; index <= 4000; index += 1) {
      // Internal markers now and then: some reset the state to empty.
      digest = advanceDigest(digest, index % 10 === 0 ? { index, term: null, command: null } : { index, term: 1, command: bytes(`p${index}`) });
      sizes.add(simulatedSnapshotBytes(profile, index, digest));
    }
    expect(sizes.has(0)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(profile.maxBytes);
    expect(Math.max(...sizes)).toBeGreaterThan(15 * chunk);
    for (const multiple of [chunk, 2 * chunk, 5 * chunk]) {
      expect(sizes.has(multiple) || sizes.has(multiple - 1) || sizes.has(multiple + 1)).toBe(true);
    }
    expect([...sizes].filter((size) => size > 0 && size % chunk === 0).length).toBeGreaterThan(5);
    expect(encodeSimulatedSnapshot(profile, 9, 0)).toEqual(new Uint8Array(0));
    expect(decodeSimulatedSnapshot(profile, 9, new Uint8Array(0))).toBe(0);
  });

  it('seeds draw paces from the default to unpaced and slow, and sizes from the header alone to 20 chunks', () => {
    const drawn = Array.from({ length: 400 }, (_, seed) => drawSnapshotConditions(seed + 1));
    const paces = new Set(drawn.map((conditions) => conditions.snapshotBytesPerSecond));
    expect(paces).toEqual(new Set([undefined, Number.POSITIVE_INFINITY, 4096 * 1024, 256 * 1024, 64 * 1024]));
    expect(drawn.some((conditions) => conditions.profile.maxBytes === simulatedSnapshotHeaderBytes)).toBe(true);
    expect(drawn.some((conditions) => conditions.profile.maxBytes === 20 * chunk)).toBe(true);
    expect(drawn.some((conditions) => conditions.snapshotChunkCeiling !== undefined)).toBe(true);
    // A seed's largest snapshot streams within 1.2 s at its pace (liveness after the heal must not
    // hinge on a transfer slower than the deadline).
    for (const conditions of drawn) {
      const pace = conditions.snapshotBytesPerSecond ?? 1024 * 1024;
      expect(conditions.profile.maxBytes / pace).toBeLessThanOrEqual(1.2);
    }
  });
});
