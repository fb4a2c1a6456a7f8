import { describe, expect, it } from 'vitest';
import { deriveSeed, seededRandom } from './seeded-random.ts';

describe('seededRandom', () => {
  it('is deterministic: one seed, one sequence', () => {
    const first = seededRandom(7);
    const second = seededRandom(7);
    const a = Array.from({ length: 100 }, () => first());
    const b = Array.from({ length: 100 }, () => second());
    expect(a).toEqual(b);
  });

  it('gives different sequences for different seeds', () => {
    const a = seededRandom(1)();
    const b = seededRandom(2)();
    expect(a).not.toBe(b);
  });

  it('stays in [0, 1) and spreads evenly', () => {
    const random = seededRandom(12345);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let draw = 0; draw < 100_000; draw += 1) {
      const value = random();
      if (!(value >= 0 && value < 1)) outside += 1;
      const bucket = Math.floor(value * 10);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(600);
  });

  it('derives stable, label-specific child seeds', () => {
    expect(deriveSeed(5, 'network')).toBe(deriveSeed(5, 'network'));
    expect(deriveSeed(5, 'network')).not.toBe(deriveSeed(5, 'disk-n1'));
    expect(deriveSeed(5, 'network')).not.toBe(deriveSeed(6, 'network'));
  });
});
