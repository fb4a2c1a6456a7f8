// Memory under compaction: all three pages propose until the cluster has committed
// `memoryCommits` more entries, each node publishing a small snapshot every `compactEvery`
// applied entries. The retained memory of every page and of every engine worker (JS and Blink
// heaps and ArrayBuffer backing stores, cdp.ts) is read through CDP after a forced garbage
// collection, at the start and at evenly spaced commit marks, so flat means nothing grows with
// the number of commits. Each reading also takes the bytes each process's IndexedDB holds on
// disk (disk-usage.ts).
import path from 'node:path';
import type { LoadResult } from '../pages/browser-load.ts';
import type { HeapSizes } from './cdp.ts';
import type { BenchProcess } from './cluster.ts';
import { folderBytes, indexedDbFolder } from './disk-usage.ts';
import { load, settled, sleep, status, stopAllLoads, waitFor, wallClockMs } from './driving.ts';
import type { BenchSizes } from './options.ts';

export interface MemorySample {
  readonly commits: number;
  readonly atMs: number;
  /** By process id. */
  readonly heaps: Readonly<Record<string, HeapSizes>>;
  /** Bytes of each process's IndexedDB folder on disk, by process id. */
  readonly diskBytes: Readonly<Record<string, number>>;
  /** Where each node was in its compaction cycle when the reading began (before it compacted for it), by process id. */
  readonly logs: Readonly<Record<string, LogAtReading>>;
  /** Whether every node had compacted through what it applied before its heap was read. */
  readonly compacted: boolean;
}

export interface LogAtReading {
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly compactionFloor: number;
}

export interface MemoryFigures {
  readonly commits: number;
  readonly commitsPerSecond: number;
  readonly samples: readonly MemorySample[];
  readonly loads: readonly LoadResult[];
  /** The cluster stopped committing for stallMs and the phase was cut short. */
  readonly stalled: boolean;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  /** The highest term any page reported when the phase began and when it ended: elections under the load. */
  readonly termAtStart: number;
  readonly termAtEnd: number;
}

const stallMs = 60_000;
const compactionWaitMs = 10_000;

/**
 * Each reading is taken right after every node has compacted through what it applied. Read where
 * they happened to be in the cycle, the log each held (up to compactEvery entries, about 3.6 MiB
 * of the leader's worker at 10,000, a heap snapshot study found on 2026-12-07) moves a reading by
 * as much as that, and the one run that read 1.11 (a step of the leader's worker from about 5 to
 * 7.3 MiB) could not be told from that sawtooth, since where each node was in its cycle was not
 * kept. What is left after a compaction is what would grow with the number of commits. Where each node was in its cycle is kept with the
 * reading. A node that does not compact within 10 s (a compaction held for a lagging follower's
 * stream) is read as it is, and the reading says so.
 */
async function compactForReading(processes: readonly BenchProcess[]): Promise<{ logs: Record<string, LogAtReading>; compacted: boolean }> {
  const logs: Record<string, LogAtReading> = {};
  try {
    await waitFor('every page to apply what its node committed', compactionWaitMs, async () => ((await Promise.all(processes.map(status))).every((each) => each.appliedIndex >= each.commitIndex) ? true : null));
  } catch (error) {
    console.error(`  memory: ${(error as Error).message}; compacting through what was applied`);
  }
  for (const each of processes) {
    const { commitIndex, appliedIndex, compactionFloor } = await status(each);
    logs[each.id] = { commitIndex, appliedIndex, compactionFloor };
  }
  const through = await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.compactNow())));
  try {
    await waitFor('every node to compact', compactionWaitMs, async () => ((await Promise.all(processes.map(status))).every((each, position) => each.compactionFloor >= (through[position] ?? 0)) ? true : null));
    return { logs, compacted: true };
  } catch (error) {
    console.error(`  memory: ${(error as Error).message}; read as it is`);
    return { logs, compacted: false };
  }
}

/**
 * Every page's and worker's retained memory, read through CDP after a forced full garbage
 * collection. Under load on this machine's two cores such a reading held a process up for
 * 240–1,040 ms (2026-12-05, one process at a time), longer than an election timeout: runs until
 * that morning saw up to eight elections in this phase, which came with the readings, and batches
 * of proposals failed with LeadershipLostError. A browser never collects that way by itself, so the loads are
 * held for the reading (no new proposal; those in flight finish first), and the processes are
 * read one after the other, not all at once.
 */
async function reading(processes: readonly BenchProcess[], profilesDirectory: string, commits: number): Promise<MemorySample> {
  try {
    // Each page answers once its proposals in flight have settled.
    await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.holdLoads())));
    const { logs, compacted } = await compactForReading(processes);
    const atMs = wallClockMs();
    const heaps: Record<string, HeapSizes> = {};
    const diskBytes: Record<string, number> = {};
    const took: string[] = [];
    for (const each of processes) {
      const startedAt = performance.now();
      heaps[each.id] = await each.devTools.heapSizes();
      took.push(`${each.id} ${Math.round(performance.now() - startedAt)} ms`);
      diskBytes[each.id] = folderBytes(indexedDbFolder(path.join(profilesDirectory, each.id)));
    }
    console.error(`  memory: a reading (collection and heap sizes, page then worker) took ${took.join(', ')}`);
    return { commits, atMs, heaps, diskBytes, logs, compacted };
  } finally {
    await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.releaseLoads())));
  }
}

/** The highest term any of the pages reports. */
async function highestTerm(processes: readonly BenchProcess[]): Promise<number> {
  return Math.max(...(await Promise.all(processes.map(async (each) => (await status(each)).term))));
}

export async function measureMemory(processes: readonly BenchProcess[], sizes: BenchSizes, profilesDirectory: string): Promise<MemoryFigures> {
  const { commitIndex: startIndex } = await settled(processes);
  const termAtStart = await highestTerm(processes);
  const startedAtMs = wallClockMs();
  const samples: MemorySample[] = [await reading(processes, profilesDirectory, 0)];
  const target = startIndex + sizes.memoryCommits;
  const options = { inFlight: sizes.memoryInFlightPerPage, durationMs: 3_600_000, untilCommitIndex: target, pauseMs: 0, keepAll: false };
  let finished = false;
  const loads = Promise.all(processes.map((each) => load(each, options))).finally(() => (finished = true));
  const step = sizes.memoryCommits / sizes.memorySamples;
  let nextMark = startIndex + step;
  let lastReport = wallClockMs();
  let lastProgress = { atMs: wallClockMs(), commitIndex: startIndex };
  let stalled = false;
  while (!finished) {
    await sleep(250);
    const commitIndex = Math.max(...(await Promise.all(processes.map(async (each) => (await status(each)).commitIndex))));
    if (commitIndex > lastProgress.commitIndex) lastProgress = { atMs: wallClockMs(), commitIndex };
    else if (!stalled && wallClockMs() - lastProgress.atMs > stallMs) {
      // Reported, not hidden: the run ends this phase with what it has so the table still prints.
      stalled = true;
      console.error(`  memory: no commit for ${stallMs / 1000} s, stopping the load`);
      await stopAllLoads(processes);
    }
    if (wallClockMs() - lastReport > 10_000) {
      lastReport = wallClockMs();
      const statuses = await Promise.all(processes.map(async (each) => `${each.id} ${JSON.stringify(await status(each))}`));
      console.error(`  memory: ${commitIndex - startIndex} of ${sizes.memoryCommits} commits\n    ${statuses.join('\n    ')}`);
    }
    if (commitIndex >= nextMark && commitIndex < target) {
      samples.push(await reading(processes, profilesDirectory, commitIndex - startIndex));
      nextMark += step;
      // A reading holds the load: its time is no stall of the cluster's.
      lastProgress = { atMs: wallClockMs(), commitIndex: lastProgress.commitIndex };
    }
  }
  const results = await loads;
  const endedAtMs = wallClockMs();
  const commits = stalled ? lastProgress.commitIndex - startIndex : (await settled(processes)).commitIndex - startIndex;
  samples.push(await reading(processes, profilesDirectory, commits));
  const termAtEnd = await highestTerm(processes);
  return { commits, commitsPerSecond: commits / ((endedAtMs - startedAtMs) / 1000), samples, loads: results, stalled, startedAtMs, endedAtMs, termAtStart, termAtEnd };
}
