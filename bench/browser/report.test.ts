// The memory criterion of bench:browser: flat means the later half of the samples is not above
// the earlier half, whatever phase of the compaction sawtooth single samples land on.
import { describe, expect, it } from 'vitest';
import type { HeapSizes } from './cdp.ts';
import type { MemoryFigures } from './memory-phase.ts';
import { memoryGrowth } from './report.ts';

const mebibyte = 1024 * 1024;

function figures(totalsInMebibytes: readonly number[]): MemoryFigures {
  const samples = totalsInMebibytes.map((total, position) => {
    const heaps: Record<string, HeapSizes> = { a: { pageBytes: (total / 2) * mebibyte, workerBytes: (total / 2) * mebibyte } };
    return { commits: position * 1000, atMs: position, heaps };
  });
  return { commits: 10_000, commitsPerSecond: 1, samples, loads: [], stalled: false, startedAtMs: 0, endedAtMs: 1 };
}

describe('memoryGrowth', () => {
  it('calls a sawtooth flat although its last sample is 13 % above an early one', () => {
    // Before load, then sawtooth between 16 and 18 MiB; the old rule (last / second) said 1.125.
    const { growth } = memoryGrowth(figures([10, 16, 18, 16.5, 17.8, 16.2, 17.9, 16.1, 18, 16.4, 18]));
    expect(growth).toBeGreaterThan(0.95);
    expect(growth).toBeLessThan(1.05);
  });

  it('catches steady growth: 16 MiB rising by 1 MiB per sample ends far above 1.10', () => {
    const { growth, firstBytes, lastBytes } = memoryGrowth(figures([10, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]));
    expect(firstBytes).toBe(18 * mebibyte); // mean of 16..20
    expect(lastBytes).toBe(23 * mebibyte); // mean of 21..25
    expect(growth).toBeGreaterThan(1.1);
  });

  it('leaves out the sample taken before any load, and copes with two samples (the tiny run)', () => {
    expect(memoryGrowth(figures([1, 20, 20, 20])).growth).toBe(1);
    expect(memoryGrowth(figures([10, 11])).growth).toBeCloseTo(1.1);
  });
});
