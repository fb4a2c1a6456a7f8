// The measurements that need a steady cluster: raw limits (before the nodes start, so nothing else
// runs), commit latency at light load, and commits per second at saturation.
import os from 'node:os';
import type { Page } from 'playwright';
import type { LoadResult, SecondBucket } from '../pages/browser-load.ts';
import type { BenchProcess } from './cluster.ts';
import { load, settled, sleep, startLoadsUntilStopped, status, stopAllLoads, wallClockMs } from './driving.ts';
import type { BenchSizes } from './options.ts';
import { takeThreadCpuSnapshot, threadCpuAvailable, threadCpuBetween } from './thread-cpu.ts';

/** CPU milliseconds spent by every thread of the benchmark's Chromium processes while `work` runs (NaN off Linux). */
async function chromiumCpuMilliseconds<T>(profilesDirectory: string, work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  if (!threadCpuAvailable()) return { result: await work(), cpuMs: Number.NaN };
  const before = takeThreadCpuSnapshot(profilesDirectory);
  const result = await work();
  const after = takeThreadCpuSnapshot(profilesDirectory);
  const percent = threadCpuBetween(before, after).reduce((sum, row) => sum + row.userPercent + row.systemPercent, 0);
  return { result, cpuMs: (percent / 100) * (after.atMs - before.atMs) };
}

export interface RawLimits {
  readonly indexedDbEntriesPerSecond: number;
  readonly indexedDbTransactionsPerSecond: number;
  readonly indexedDbBatch: number;
  readonly channelRoundTripP50Ms: number;
  readonly channelRoundTripP99Ms: number;
  readonly channelMebibytesPerSecond: number;
  /** The same round trip with 5 ms of quiet before each ping, as at light load. */
  readonly channelIdleRoundTripP50Ms: number;
  readonly channelIdleRoundTripP99Ms: number;
  /**
   * One strict IndexedDB transaction of one entry, sequential, while the other two pages do the
   * same at once (as a commit's three copies are written): p50 and p99 of the middle page (ms).
   * The three browsers share this machine's one disk, which is what makes these slow.
   */
  readonly indexedDbWriteP50Ms: number;
  readonly indexedDbWriteP99Ms: number;
  /** The same with one page writing alone. */
  readonly indexedDbWriteAloneP50Ms: number;
  /**
   * CPU (all threads of the three browsers, milliseconds) per MiB the bare channel moved, warm-up
   * included: what the data channel itself costs this machine, before any Raft (NaN off Linux).
   */
  readonly channelCpuMillisecondsPerMebibyte: number;
  readonly cores: number;
}

/**
 * A page of the same bench page in `benchProcess`'s browser on a second origin (`localhost` for
 * `127.0.0.1`), whose IndexedDB is a LevelDB of its own. The raw IndexedDB limits are measured
 * there: measured on the nodes' origin, the 3,300 one-entry strict transactions of the write
 * floor (databases destroyed after) left every later commit slower, light-load p50 3.71 and 3.80
 * ms without that phase against 4.76 and 4.89 with it, and 3.91 and 3.94 without the floor's
 * writes alone (short runs on the Intel host, 2026-12-06 14:45–14:55 UTC; docs/performance-history.md,
 * "The light-load figure measured the floor").
 */
export async function storageOriginPage(benchProcess: BenchProcess): Promise<Page> {
  const url = new URL(benchProcess.page.url());
  url.hostname = 'localhost';
  const page = await benchProcess.context.newPage();
  await page.goto(url.href);
  await page.waitForFunction(() => window.browserBench !== undefined);
  return page;
}

export async function measureRawLimits(processes: readonly BenchProcess[], sizes: BenchSizes, profilesDirectory: string): Promise<RawLimits> {
  const [first, second] = processes as [BenchProcess, BenchProcess];
  const storagePages = await Promise.all(processes.map(storageOriginPage));
  const [firstStorage] = storagePages as [Page];
  const indexedDb = await firstStorage.evaluate(([batch, total]) => window.browserBench.indexedDbRate(batch, total), [sizes.indexedDbBatch, sizes.indexedDbEntries] as const);
  const alone = await firstStorage.evaluate((transactions) => window.browserBench.indexedDbWriteLatency(transactions), sizes.pings);
  const together = await Promise.all(storagePages.map((page) => page.evaluate((transactions) => window.browserBench.indexedDbWriteLatency(transactions), sizes.pings)));
  await Promise.all(storagePages.map((page) => page.close()));
  const write = [...together].sort((left, right) => left.p50Ms - right.p50Ms)[Math.floor(together.length / 2)] ?? alone;
  const offer = await first.page.evaluate(() => window.browserBench.bareOffer());
  const answer = await second.page.evaluate((text) => window.browserBench.bareAnswer(text), offer);
  await first.page.evaluate((text) => window.browserBench.bareAccept(text), answer);
  const roundTrip = await first.page.evaluate((pings) => window.browserBench.bareRoundTrip(pings), sizes.pings);
  const idleRoundTrip = await first.page.evaluate((pings) => window.browserBench.bareRoundTrip(pings, 5), Math.min(sizes.pings, 300));
  const measured = await chromiumCpuMilliseconds(profilesDirectory, () => first.page.evaluate((bytes) => window.browserBench.bareThroughput(bytes), sizes.channelBytes));
  const throughput = measured.result;
  return {
    indexedDbEntriesPerSecond: indexedDb.entriesPerSecond,
    indexedDbTransactionsPerSecond: indexedDb.transactionsPerSecond,
    indexedDbBatch: sizes.indexedDbBatch,
    channelRoundTripP50Ms: roundTrip.p50Ms,
    channelRoundTripP99Ms: roundTrip.p99Ms,
    channelIdleRoundTripP50Ms: idleRoundTrip.p50Ms,
    channelIdleRoundTripP99Ms: idleRoundTrip.p99Ms,
    channelMebibytesPerSecond: throughput.mebibytesPerSecond,
    indexedDbWriteP50Ms: write.p50Ms,
    indexedDbWriteP99Ms: write.p99Ms,
    indexedDbWriteAloneP50Ms: alone.p50Ms,
    channelCpuMillisecondsPerMebibyte: measured.cpuMs / throughput.mebibytesSent,
    cores: os.cpus().length,
  };
}

export interface LatencyFigures {
  readonly commits: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly buckets: readonly SecondBucket[];
}

/** One proposal at a time on the leader's page: each commit's full path (page → worker → disk and peers → page). */
export async function measureLightLoadLatency(processes: readonly BenchProcess[], sizes: BenchSizes): Promise<LatencyFigures> {
  const { leader, commitIndex } = await settled(processes);
  const result = await load(leader, { inFlight: 1, durationMs: 120_000, untilCommitIndex: commitIndex + sizes.latencyCommits, pauseMs: 0, keepAll: true });
  return { commits: result.commits, p50Ms: result.p50Ms, p99Ms: result.p99Ms, buckets: result.buckets };
}

/** One step of the saturation ramp: every page keeps `inFlightPerPage` proposals in flight. */
export interface SaturationStep {
  readonly commitsPerSecond: number;
  readonly inFlightPerPage: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly loads: readonly LoadResult[];
  /** Data channel payload every page sent over the window, per commit (frames, all peers). */
  readonly channelBytesPerCommit: number;
  /** CPU of every thread of the three browsers over the window, per commit (NaN off Linux). */
  readonly cpuMicrosecondsPerCommit: number;
}

/**
 * Saturation: the ramp's step with the highest rate (its figures at the top level, as before the
 * ramp), every step beside it, and the errors and loads (each second's commits, for the chart) of
 * all of them.
 */
export interface SaturationFigures extends SaturationStep {
  readonly steps: readonly SaturationStep[];
}

/**
 * All three pages propose at once (followers' proposals are forwarded to the leader); the rate is
 * the cluster's commit index over the measured window, after a warm-up, as Node's clock sees it.
 * No profiler runs in it: the CPU profiles are taken in a window of their own afterwards
 * (bench/browser/profiled-window.ts says why).
 */
async function measureSaturationStep(processes: readonly BenchProcess[], inFlightPerPage: number, sizes: BenchSizes, profilesDirectory: string): Promise<SaturationStep> {
  const { leader } = await settled(processes);
  // The percentiles, like the rate, leave the warm-up out (they included it until 2026-12-06).
  const loads = startLoadsUntilStopped(processes, inFlightPerPage, sizes.saturationWarmUpMs + sizes.saturationMs, true, sizes.saturationWarmUpMs);
  await sleep(sizes.saturationWarmUpMs);
  const bytesSent = async (): Promise<number> => (await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.transportCounters())))).reduce((sum, counters) => sum + (counters['bytesSent'] ?? 0), 0);
  const bytesBefore = await bytesSent();
  const startIndex = (await status(leader)).commitIndex;
  const started = wallClockMs();
  const measured = await chromiumCpuMilliseconds(profilesDirectory, async () => {
    await sleep(sizes.saturationMs);
    return (await status(leader)).commitIndex;
  });
  const endIndex = measured.result;
  const seconds = (wallClockMs() - started) / 1000;
  const bytesAfter = await bytesSent();
  await stopAllLoads(processes);
  const commits = Math.max(1, endIndex - startIndex);
  const results = await loads;
  const latencies = results.flatMap((result) => [result.p50Ms, result.p99Ms]);
  return {
    commitsPerSecond: (endIndex - startIndex) / seconds,
    inFlightPerPage,
    seconds,
    // Per page percentiles: the worst page's (followers' proposals also travel to the leader and back).
    p50Ms: Math.max(...results.map((result) => result.p50Ms)),
    p99Ms: Math.max(...latencies),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    firstError: results.find((result) => result.firstError !== null)?.firstError ?? null,
    loads: results,
    channelBytesPerCommit: (bytesAfter - bytesBefore) / commits,
    cpuMicrosecondsPerCommit: (measured.cpuMs * 1000) / commits,
  };
}

/** The best of the steps, with every step and every step's errors. */
export function saturationOf(steps: readonly SaturationStep[]): SaturationFigures {
  const best = steps.reduce((left, right) => (right.commitsPerSecond > left.commitsPerSecond ? right : left));
  const errors = steps.reduce((sum, step) => sum + step.errors, 0);
  const firstError = steps.find((step) => step.firstError !== null)?.firstError ?? null;
  return { ...best, errors, firstError, loads: steps.flatMap((step) => step.loads), steps };
}

/**
 * Saturation is where more proposals in flight stop buying commits: each page's proposals wait
 * in the driver's batches, and bigger batches cost the browsers less per commit (fewer messages,
 * transactions and wake-ups), until the latency they add outgrows what they save. So the load
 * rises step by step (sizes.saturationInFlightLevels) and the best step is the figure.
 */
export async function measureSaturation(processes: readonly BenchProcess[], sizes: BenchSizes, profilesDirectory: string): Promise<SaturationFigures> {
  const steps: SaturationStep[] = [];
  for (const level of sizes.saturationInFlightLevels) steps.push(await measureSaturationStep(processes, level, sizes, profilesDirectory));
  return saturationOf(steps);
}
