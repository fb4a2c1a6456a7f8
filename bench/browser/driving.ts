// Helpers the phases share: reading node status across the three processes, waiting for a settled
// cluster, and sampling the cluster's commit index over time for the chart.
import type { LoadOptions, LoadResult, SecondBucket } from '../pages/browser-load.ts';
import type { NodeStatus } from '../pages/browser-node.ts';
import type { BenchProcess } from './cluster.ts';

export const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

export function status(benchProcess: BenchProcess): Promise<NodeStatus> {
  return benchProcess.page.evaluate(() => window.browserBench.status());
}

export function load(benchProcess: BenchProcess, options: LoadOptions): Promise<LoadResult> {
  return benchProcess.page.evaluate((given) => window.browserBench.load(given), options);
}

/** How long past its window a load started by startLoadsUntilStopped runs if nothing stops it. */
const unstoppedMarginMs = 30_000;

/**
 * Every page proposes with `inFlight` lanes until stopAllLoads, called once the window over
 * `windowMs` has been read. Not to a deadline from the load's own start: the window opens after
 * CDP round trips (counter and status reads, starting profilers) that such a load does not wait
 * for, so it would wind down inside the window and lower its rate. The margin only bounds a load
 * whose window threw before stopping it.
 */
export function startLoadsUntilStopped(processes: readonly BenchProcess[], inFlight: number, windowMs: number, keepAll: boolean, measureAfterMs = 0): Promise<LoadResult[]> {
  const options = { inFlight, durationMs: windowMs + unstoppedMarginMs, untilCommitIndex: Number.MAX_SAFE_INTEGER, pauseMs: 0, keepAll, measureAfterMs };
  return Promise.all(processes.map((each) => load(each, options)));
}

/** Ends every running load on every page after its lanes' current proposals. */
export async function stopAllLoads(processes: readonly BenchProcess[]): Promise<void> {
  await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.stopLoads())));
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** All three nodes agree on one leader, see both peers, and have applied the same commit index. */
export async function settled(processes: readonly BenchProcess[], timeoutMs = 60_000): Promise<{ leader: BenchProcess; commitIndex: number }> {
  return waitFor('a settled cluster', timeoutMs, async () => {
    const statuses = await Promise.all(processes.map(status));
    const leaderId = statuses[0]?.leader ?? null;
    const commitIndex = statuses[0]?.commitIndex ?? 0;
    const agree = statuses.every((each) => each.leader === leaderId && each.peers === processes.length - 1 && each.commitIndex === commitIndex && each.appliedIndex === commitIndex);
    const leader = processes.find((each) => each.id === leaderId);
    return agree && leaderId !== null && commitIndex > 0 && leader !== undefined ? { leader, commitIndex } : null;
  });
}

export interface CommitSample {
  readonly atMs: number;
  readonly commitIndex: number;
}

/** Samples the highest commit index any open page reports, every `intervalMs`, until stopped. */
export function sampleCommits(processes: readonly BenchProcess[], intervalMs: number): { samples: CommitSample[]; stop(): Promise<void> } {
  const samples: CommitSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const indices = await Promise.all(processes.map((each) => (each.page.isClosed() ? Promise.resolve(0) : status(each).then((found) => found.commitIndex, () => 0))));
      samples.push({ atMs: wallClockMs(), commitIndex: Math.max(...indices) });
      await sleep(intervalMs);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Latency per wall-clock second over several pages' loads: the worst page's p50 and p99. */
export function mergeBuckets(results: readonly LoadResult[]): SecondBucket[] {
  const bySecond = new Map<number, SecondBucket>();
  for (const bucket of results.flatMap((result) => result.buckets)) {
    const known = bySecond.get(bucket.second);
    bySecond.set(
      bucket.second,
      known === undefined ? bucket : { second: bucket.second, commits: known.commits + bucket.commits, p50Ms: Math.max(known.p50Ms, bucket.p50Ms), p99Ms: Math.max(known.p99Ms, bucket.p99Ms) },
    );
  }
  return [...bySecond.values()].sort((left, right) => left.second - right.second);
}

export function percentile(values: readonly number[], quantile: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * quantile) - 1))] ?? Number.NaN;
}
