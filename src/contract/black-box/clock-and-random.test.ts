import { describe, it, expect } from 'vitest';
import * as testing from '../../testing/index.ts';

describe('VirtualClock and seededRandom (API.md Time and randomness)', () => {
  it('seededRandom is deterministic, in [0, 1)', () => {
    const a = testing.seededRandom(42), b = testing.seededRandom(42), c = testing.seededRandom(43);
    const xs = Array.from({ length: 1000 }, () => a());
    const ys = Array.from({ length: 1000 }, () => b());
    const zs = Array.from({ length: 1000 }, () => c());
    expect(xs).toEqual(ys);
    expect(xs).not.toEqual(zs);
    for (const x of xs) { expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThan(1); }
  });
  it('VirtualClock fires timers in time order at their time; clearTimeout cancels; runUntil false on timeout', async () => {
    const clock = new testing.VirtualClock();
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    const h = clock.setTimeout(() => fired.push(['x', clock.now()]), 15);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 20);
    clock.clearTimeout(h);
    await clock.advance(25);
    expect(fired).toEqual([['a', 10], ['b', 20], ['c', 20]]);
    expect(clock.now()).toBe(25);
    expect(await clock.runUntil(() => false, 100)).toBe(false);
    await expect(clock.advance(-1)).rejects.toThrow();
  });
});
