// The benchmark's proposal load: its percentiles leave out the proposals of a warm-up when told
// to (the saturation phase's, where the first proposals wait behind a cold engine), and keep
// every proposal in the per-second buckets. A stand-in node answers in 20 ms for the first 100 ms
// of virtual time (five proposals per lane, 2.7 % of them all), then in 5 ms.
import { afterEach, expect, it, vi } from 'vitest';
import type { RaftNode } from '../../src/index.ts';
import { createLoad, type LoadOptions } from './browser-load.ts';

afterEach(() => {
  vi.useRealTimers();
});

function slowThenQuickNode(slowForMs: number, slowMs: number, quickMs: number): RaftNode {
  const startedAt = performance.now();
  const node = {
    commitIndex: { value: 0 },
    propose: () =>
      new Promise((resolve) => {
        setTimeout(resolve, performance.now() - startedAt < slowForMs ? slowMs : quickMs);
      }),
  };
  return node as unknown as RaftNode;
}

async function runLoad(measureAfterMs: number | undefined) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  const options: LoadOptions = { inFlight: 2, durationMs: 1_000, untilCommitIndex: Number.MAX_SAFE_INTEGER, pauseMs: 0, keepAll: true, ...(measureAfterMs === undefined ? {} : { measureAfterMs }) };
  const { finished } = createLoad(slowThenQuickNode(100, 20, 5), options);
  await vi.advanceTimersByTimeAsync(1_500);
  return finished;
}

it('without measureAfterMs every proposal counts in the percentiles, the slow first ones included', async () => {
  const result = await runLoad(undefined);
  expect(result.p99Ms).toBe(20);
  expect(result.p50Ms).toBe(5);
});

it('with measureAfterMs the proposals sent in the warm-up are left out of the percentiles, not out of the buckets', async () => {
  const result = await runLoad(150);
  expect(result.p99Ms).toBe(5);
  expect(result.p50Ms).toBe(5);
  // Each lane's five slow proposals (sent at 0–80 ms) and 180 quick ones (100–995 ms) are all in the per-second counts.
  expect(result.commits).toBe(2 * (5 + 180));
  expect(Math.max(...result.buckets.map((bucket) => bucket.p99Ms))).toBe(20);
});
