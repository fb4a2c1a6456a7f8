// `npm run bench:browser-diagnose`: the benchmark's three-process cluster taken apart, for finding
// out WHY a figure of bench:browser is what it is. It runs one light-load latency measurement and
// one saturation window, and prints what the benchmark does not: who lost the leader first and
// when (role and leader changes on every page), each page's frames sent, received and dropped,
// main-thread long tasks, and with the engine on the page, every IndexedDB write's duration and
// size. Options compare the benchmark's setup with variants:
//   --engine=worker|page       where the engine runs (benchmark: worker); with page, the light
//                              load is also split by the leader's trace, with every node's writes
//   --durability=strict|relaxed  IndexedDB durability (benchmark: strict)
//   --in-flight=N              proposals in flight per proposing page (default 256)
//   --seconds=N                length of the saturation window (default 10)
//   --leader-only              only the leader's page proposes (no forwarding)
//   --pause=MS                 pause between a page's proposals in the saturation window (default 0);
//                              with --in-flight=1 --leader-only the window is a paced light load,
//                              and the threads' CPU below says what the machine spends on it
//   --light=N                  light-load commits first (default 300; 0 skips)
//   --every=MS                 also print every page's role/leader/term/commit every MS ms
//   --profile                  also write CPU profiles of every page and engine worker over the
//                              saturation window to bench/results/ (summed up by
//                              bench/browser/profile-summary.ts); profiling slows the run,
//                              here by about a third (6 rounds on 2026-12-05: 3,984-4,924
//                              commits/s against 5,574-7,380 without)
//   --profile-leader           the same for the leader's page and worker only, as bench:browser
//                              takes them (in a window of its own since 2026-12-05)
//   --allocations              also write sampling heap profiles of every page and engine worker
//                              over the saturation window, freed objects included: what each
//                              thread allocates, by function (the same summary script reads them)
//   --max-inflight-messages=N  the leader's AppendEntries window per follower (default: the engine's)
//   --timeline=N               after the light load, N more light-load commits timed stage by stage
//                              across the three processes (engine in a worker only): each engine
//                              worker marks, on the wall clock all processes share, the proposal
//                              arriving, every AppendEntries and answer handed to or received from
//                              a data channel, every storage write (called, requests issued,
//                              complete) and every event batch posted to its page
//                              (bench/pages/commit-timeline-recorder.ts); the leader's page marks
//                              propose(), the post to its worker and the resolved promise. Printed:
//                              p50 / p90 / mean of each stage; the critical path's means add up to
//                              the total's (bench/browser/commit-timeline.ts). Then the floor as
//                              bench:browser measures it, in the same run: a bare channel's round
//                              trip after 5 ms quiet plus a 1-entry strict write, 3 pages at once
//   --timeline-pause=MS        pause between the timeline's commits (default 0, as the light load)
//   --timeline-json=FILE       also write the timeline's raw marks to FILE, for a closer look
//   --snapshot=N               after the light load, bench:browser's snapshot phase with N transfers
//                              of a 4 MiB snapshot (bench/browser/snapshot-phase.ts): the other
//                              follower's leader silences without and during them, the small
//                              proposals' p99 and the slowest transfer
//   --fill=N                   before the snapshot phase, N commits from the leader's page (64 in
//                              flight), so the lagging follower restarts with a long log to apply
//                              through its stored commit index, as after bench:browser's saturation
//                              phase (each page compacts every 10,000 entries)
//                              On Linux, per transfer: each browser's CPU (all its processes and
//                              threads) and its browser process's thread pool, where Chromium runs
//                              IndexedDB's database work
//   --snapshot-bytes-per-second=N  the leader's snapshot pace (RaftConfig.snapshotBytesPerSecond;
//                              default the engine's, 1 MiB/s; Infinity turns pacing off)
//   --aging=N                  before anything else, N strict 1-entry IndexedDB transactions one
//                              after another on all three pages at once, each into a new database
//                              (no Raft): p50 / p90 per block of 1,000, to see how the floor's
//                              write changes as a database takes more writes
// On Linux it also prints the CPU time of every Chromium thread over the saturation window (from
// /proc; bench/browser/thread-cpu.ts), which CPU profiles cannot show: IPC, network and storage.
// Not a benchmark: no figure here is a target, and nothing is written to bench/results/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchServing, startBenchCluster, type BenchProcess } from './browser/cluster.ts';
import { load, percentile, settled, sleep, status, wallClockMs } from './browser/driving.ts';
import { benchSizes, refuseUnknownArguments } from './browser/options.ts';
import { storageOriginPage } from './browser/phases.ts';
import { measureHeartbeatsDuringSnapshot, type TransferObserver } from './browser/snapshot-phase.ts';
import { takeThreadCpuSnapshot, threadCpuAvailable, threadCpuBetween, type ThreadCpuRow, type ThreadCpuSnapshot } from './browser/thread-cpu.ts';
import { joinTimelines, stageTable, timelineCounts } from './browser/commit-timeline.ts';
import type { StorageWrite, Transition } from './pages/browser-diagnostics.ts';

const outside = Object.values(os.networkInterfaces()).flat().filter((address) => address !== undefined && !address.internal);
if (outside.length > 0) {
  console.error('bench/browser-diagnose.ts must run in a loopback-only network namespace: use `npm run bench:browser-diagnose`');
  process.exit(1);
}

const switches = ['--leader-only', '--profile', '--profile-leader', '--allocations', '--dev-server'];
const valued = ['engine', 'durability', 'in-flight', 'seconds', 'light', 'every', 'max-inflight-messages', 'pause', 'timeline', 'timeline-pause', 'timeline-json', 'snapshot', 'fill', 'snapshot-bytes-per-second', 'aging'];
try {
  refuseUnknownArguments(process.argv.slice(2), switches, valued);
} catch (error) {
  console.error(`npm run bench:browser-diagnose: ${error instanceof Error ? error.message : String(error)} (the options are listed at the top of bench/browser-diagnose.ts)`);
  process.exit(2);
}

function option(name: string): string | undefined {
  return process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);
}
function count(name: string, fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`--${name} needs a non-negative integer`);
  return value;
}
function choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const text = option(name) ?? fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new RangeError(`--${name} must be one of ${allowed.join(', ')}`);
  return text as T;
}

const engine = choice('engine', ['worker', 'page'] as const, 'worker');
const durability = choice('durability', ['strict', 'relaxed'] as const, 'strict');
const inFlight = count('in-flight', 256);
const seconds = count('seconds', 10);
const lightCommits = count('light', 300);
const everyMs = count('every', 0);
const leaderOnly = process.argv.includes('--leader-only');
const pauseMs = count('pause', 0);
const profileLeader = process.argv.includes('--profile-leader');
const profile = profileLeader || process.argv.includes('--profile');
const allocations = process.argv.includes('--allocations');
const timelineCommits = count('timeline', 0);
const agingWrites = count('aging', 0);
const snapshotTrials = count('snapshot', 0);
const fillCommits = count('fill', 0);
const snapshotRateText = option('snapshot-bytes-per-second');
const snapshotBytesPerSecond = snapshotRateText === undefined ? undefined : snapshotRateText === 'Infinity' ? Number.POSITIVE_INFINITY : count('snapshot-bytes-per-second', 0);
const timelinePauseMs = count('timeline-pause', 0);
const timelineJson = option('timeline-json');
const maxInflightMessages = option('max-inflight-messages') === undefined ? undefined : count('max-inflight-messages', 0);

const format = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const describe = (each: { role: string; leader: string | null; term: number; commitIndex: number } | null): string => (each === null ? 'unreachable' : `${each.role}/${each.leader ?? '-'}/t${each.term}/c${each.commitIndex}`);

const raftConfig = {
  ...(maxInflightMessages === undefined ? {} : { maxInflightMessages }),
  ...(snapshotBytesPerSecond === undefined ? {} : { snapshotBytesPerSecond }),
};
const cluster = await startBenchCluster(10_000, { engine, durability, raftConfig }, benchServing(process.argv));
try {
  const processes = cluster.processes;
  if (agingWrites > 0) await printAging(processes, agingWrites);
  await Promise.all(processes.map((each) => each.startNode()));
  const { leader } = await settled(processes);
  console.log(`engine ${engine}, ${durability} IndexedDB, leader ${leader.id}, load average ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  if (lightCommits > 0) {
    const light = await load(leader, { inFlight: 1, durationMs: 120_000, untilCommitIndex: (await status(leader)).commitIndex + lightCommits, pauseMs: 0, keepAll: true });
    console.log(`light load: ${light.commits} commits one at a time on the leader's page, p50 ${format(light.p50Ms, 2)} ms, p99 ${format(light.p99Ms, 2)} ms`);
    if (engine === 'page') {
      const from = wallClockMs();
      const split = await leader.page.evaluate((count) => window.browserBench.commitSplit(count), lightCommits);
      console.log(`  split of ${split.commits} more (medians): propose → appended ${format(split.proposeToAppend, 2)} ms, appended → committed ${format(split.appendToCommit, 2)} ms, committed → resolved ${format(split.commitToResolved, 2)} ms, total ${format(split.total, 2)} ms`);
      for (const each of processes) {
        const writes = ((await each.page.evaluate(() => window.browserBench.storageWrites())) as readonly StorageWrite[]).filter((write) => write.startMs >= from);
        const durations = writes.map((write) => write.endMs - write.startMs);
        console.log(`  ${each.id}${each === leader ? ' (leader)' : ''}: ${writes.length} IndexedDB writes meanwhile, p50 ${format(percentile(durations, 0.5), 2)} ms, p90 ${format(percentile(durations, 0.9), 2)} ms`);
      }
    }
  }
  if (timelineCommits > 0) await printTimeline(processes, leader);
  if (snapshotTrials > 0) await printSnapshotPhase(processes, snapshotTrials, cluster.profilesDirectory);
  const proposers: readonly BenchProcess[] = leaderOnly ? [leader] : processes;
  const startMs = wallClockMs();
  const startStatus = await status(leader);
  const loads = Promise.all(proposers.map((each) => load(each, { inFlight, durationMs: seconds * 1000, untilCommitIndex: Number.MAX_SAFE_INTEGER, pauseMs, keepAll: true })));
  let running = true;
  // One second in, when every page is proposing, until the load ends: the steady state.
  const cpu: { before: ThreadCpuSnapshot | null } = { before: null };
  const profilers: Promise<StartedProfiles>[] = [];
  const cpuTimer = setTimeout(() => {
    cpu.before = takeThreadCpuSnapshot(cluster.profilesDirectory);
    if (profile || allocations) for (const each of profileLeader ? [leader] : processes) profilers.push(startProfiles(each));
  }, 1000);
  void loads.finally(() => {
    running = false;
  });
  while (running && everyMs > 0) {
    const statuses = await Promise.all(processes.map((each) => status(each).catch(() => null)));
    console.log(`${format((wallClockMs() - startMs) / 1000, 2)} s  ${statuses.map((each, position) => `${processes[position]?.id}:${describe(each)}`).join('  ')}`);
    await sleep(everyMs);
  }
  const results = await loads;
  clearTimeout(cpuTimer);
  const cpuAfter = takeThreadCpuSnapshot(cluster.profilesDirectory);
  const profilePrefix = path.join('bench', 'results', `diagnose-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  for (const started of await Promise.all(profilers)) {
    fs.mkdirSync(path.dirname(profilePrefix), { recursive: true });
    for (const each of started.profiles) fs.writeFileSync(`${profilePrefix}-${started.id}-${each.file}`, JSON.stringify(await each.stop()));
  }
  if (profile) console.log(`CPU profiles of the saturation window: ${profilePrefix}-<node>-{page,worker}.cpuprofile (node --import tsx bench/browser/profile-summary.ts FILE)`);
  if (allocations) console.log(`allocation profiles of the saturation window: ${profilePrefix}-<node>-{page,worker}.heapprofile (the same summary script)`);
  const endStatuses = await Promise.all(processes.map((each) => status(each).catch(() => null)));
  const endIndex = Math.max(...endStatuses.map((each) => each?.commitIndex ?? 0));
  const elapsedSeconds = (wallClockMs() - startMs) / 1000;
  console.log(`saturation: ${proposers.length} page(s) x ${inFlight} in flight${pauseMs > 0 ? `, ${pauseMs} ms between proposals,` : ""} for ${seconds} s: ${format((endIndex - startStatus.commitIndex) / elapsedSeconds, 0)} commits/s, term ${startStatus.term} -> ${Math.max(...endStatuses.map((each) => each?.term ?? 0))}`);
  results.forEach((result, position) => console.log(`  ${proposers[position]?.id}: ${result.commits} commits, p50 ${format(result.p50Ms)} ms, p99 ${format(result.p99Ms)} ms, ${result.errors} failed${result.firstError === null ? '' : ` (first: ${result.firstError})`}`));

  const windowStart = startMs + 1000;
  const windowEnd = startMs + seconds * 1000;
  for (const each of processes) {
    const writes = (await each.page.evaluate(() => window.browserBench.storageWrites())) as readonly StorageWrite[];
    const inWindow = writes.filter((write) => write.startMs >= windowStart && write.startMs < windowEnd);
    const longTasks = [...(await each.page.evaluate(() => window.browserBench.longTasks()))].sort((left, right) => right - left);
    const counters = await each.page.evaluate(() => window.browserBench.transportCounters());
    const dropped = Object.entries(counters).filter(([name, value]) => name.startsWith('framesDropped') && value > 0);
    console.log(`${each.id}: frames sent ${counters['framesSent']} (${format((counters['bytesSent'] ?? 0) / 1048576)} MiB) in ${counters['messagesSent']} messages, received ${counters['framesReceived']} (${format((counters['bytesReceived'] ?? 0) / 1048576)} MiB) in ${counters['messagesReceived']} messages, dropped ${dropped.length === 0 ? 'none' : dropped.map(([name, value]) => `${name} ${value}`).join(', ')}; long tasks ${longTasks.length} (longest ${longTasks.slice(0, 5).map((duration) => format(duration, 0)).join(', ') || '—'} ms)`);
    if (inWindow.length > 0) {
      const durations = inWindow.map((write) => write.endMs - write.startMs);
      const busy = durations.reduce((sum, duration) => sum + duration, 0) / (windowEnd - windowStart);
      const entries = inWindow.reduce((sum, write) => sum + write.entries, 0) / inWindow.length;
      console.log(`  IndexedDB writes during the window: ${format(inWindow.length / ((windowEnd - windowStart) / 1000), 0)}/s, ${format(entries)} entries each, p50 ${format(percentile(durations, 0.5))} ms, p90 ${format(percentile(durations, 0.9))} ms, busy ${format(100 * busy, 0)} % of the time`);
    }
  }
  if (cpu.before !== null && threadCpuAvailable()) {
    const rows = threadCpuBetween(cpu.before, cpuAfter);
    const total = rows.reduce((sum, row) => sum + row.userPercent + row.systemPercent, 0);
    const commitsPerSecond = (endIndex - startStatus.commitIndex) / elapsedSeconds;
    console.log(`Chromium threads during the load (percent of one core, summed over the 3 browsers; ${os.cpus().length} cores): total ${format(total, 0)} %, ${format((10_000 * total) / Math.max(1, commitsPerSecond), 0)} µs of CPU per commit`);
    for (const row of rows.filter((each) => each.userPercent + each.systemPercent >= 1)) {
      console.log(`  ${row.processType.padEnd(12)} ${row.threadName.padEnd(16)} ${format(row.userPercent + row.systemPercent).padStart(5)} %  (user ${format(row.userPercent)}, system ${format(row.systemPercent)})`);
    }
  }
  const transitions: Transition[] = [];
  for (const each of processes) transitions.push(...((await each.page.evaluate(() => window.browserBench.transitions())) as readonly Transition[]));
  const duringLoad = transitions.filter((transition) => transition.atMs >= startMs).sort((left, right) => left.atMs - right.atMs);
  console.log(`role and leader changes during the saturation window: ${duringLoad.length}${duringLoad.length > 0 ? ' (first 30)' : ''}`);
  for (const transition of duringLoad.slice(0, 30)) console.log(`  ${format((transition.atMs - startMs) / 1000, 3)} s  ${transition.node} ${transition.role}, leader ${transition.leader ?? 'none'}, term ${transition.term}`);
} finally {
  await cluster.close();
}

/** --timeline: light-load commits timed stage by stage across the three processes. */
async function printTimeline(processes: readonly BenchProcess[], leader: BenchProcess): Promise<void> {
  if (engine !== 'worker') throw new RangeError('--timeline needs --engine=worker');
  await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.timelineStart())));
  const commits = await leader.page.evaluate(([count, pauseMs]) => window.browserBench.timelineCommits(count, pauseMs), [timelineCommits, timelinePauseMs] as const);
  const marks = await Promise.all(processes.map((each) => each.page.evaluate(() => window.browserBench.timelineCollect())));
  if (timelineJson !== undefined) fs.writeFileSync(timelineJson, JSON.stringify({ leader: leader.id, commits, marks }));
  const { timelines, missing } = joinTimelines(commits, marks, leader.id);
  const counts = timelineCounts(timelines);
  console.log(`commit timeline: ${timelines.length} of ${commits.length} commits joined (${missing} without every mark), ${timelinePauseMs} ms between them, load average ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  for (const note of marks.flatMap((each) => each.notes.map((text) => `${each.node}: ${text}`))) console.log(`  note: ${note}`);
  const throughPage = marks.reduce((sum, each) => sum + each.framesThroughPage.length, 0);
  if (throughPage > 0) console.log(`  note: ${throughPage} frame batches went through a page`);
  const width = Math.max(...stageTable([]).map((row) => row.stage.length));
  console.log(`  ${'stage'.padEnd(width)}      p50      p90     mean  (ms)`);
  for (const row of stageTable(timelines)) {
    console.log(`  ${row.stage.padEnd(width)} ${format(row.p50Ms, 3).padStart(8)} ${format(row.p90Ms, 3).padStart(8)} ${format(row.meanMs, 3).padStart(8)}`);
  }
  // The one-way stages read two processes' clocks: how far apart those are, as far as Node can tell.
  const offsets = await Promise.all(processes.map(clockOffset));
  const leaderOffset = offsets[processes.indexOf(leader)]?.offsetMs ?? 0;
  const described = processes.map((each, position) => `${each.id} ${format((offsets[position]?.offsetMs ?? 0) - leaderOffset, 3)} ms (probe round trip ${format(offsets[position]?.roundTripMs ?? Number.NaN, 3)})`);
  console.log(`  clocks against the leader's, from Node's shortest probe of each page: ${described.join(', ')}`);
  const onPathMean = stageTable(timelines).filter((row) => row.onPath).reduce((sum, row) => sum + row.meanMs, 0);
  console.log(`  critical path stages' means add up to ${format(onPathMean, 3)} ms; the leader's own write completed after the first answer in ${counts.leaderWriteLast} of ${counts.commits}; the first follower's frame waited for a write of its own in ${counts.followerWaitedForWrite}`);
  await printFloor(processes, leader);
}

/**
 * The light-load floor as bench:browser's raw phase takes it (bench/browser/phases.ts), in this
 * run, right after the timeline: a bare channel's round trip between the leader's page and a
 * follower's after 5 ms of quiet, and one 1-entry strict IndexedDB write with all three pages
 * writing at once (the middle page's p50).
 */
async function printFloor(processes: readonly BenchProcess[], leader: BenchProcess): Promise<void> {
  const follower = processes.find((each) => each !== leader);
  if (follower === undefined) return;
  // On a second origin, as bench:browser takes it: on the nodes' origin these writes slow the nodes' later ones.
  const storagePages = await Promise.all(processes.map(storageOriginPage));
  const writes = await Promise.all(storagePages.map((page) => page.evaluate(() => window.browserBench.indexedDbWriteLatency(300))));
  await Promise.all(storagePages.map((page) => page.close()));
  const write = [...writes].sort((left, right) => left.p50Ms - right.p50Ms)[1] ?? { p50Ms: Number.NaN };
  const offer = await leader.page.evaluate(() => window.browserBench.bareOffer());
  const answer = await follower.page.evaluate((text) => window.browserBench.bareAnswer(text), offer);
  await leader.page.evaluate((text) => window.browserBench.bareAccept(text), answer);
  const roundTrip = await leader.page.evaluate(() => window.browserBench.bareRoundTrip(300, 5));
  console.log(`  floor in this run: bare channel round trip after 5 ms quiet, page to page, p50 ${format(roundTrip.p50Ms, 3)} ms + 1-entry strict write with 3 pages writing at once p50 ${format(write.p50Ms, 3)} ms = ${format(roundTrip.p50Ms + write.p50Ms, 3)} ms`);
}

/** How far a page's wall clock is ahead of this process's, from the probe with the shortest round trip (the error is at most half of it). */
async function clockOffset(benchProcess: BenchProcess): Promise<{ offsetMs: number; roundTripMs: number }> {
  let best = { roundTripMs: Number.POSITIVE_INFINITY, offsetMs: 0 };
  for (let probe = 0; probe < 40; probe += 1) {
    const before = wallClockMs();
    const theirs = await benchProcess.page.evaluate(() => window.browserBench.wallClockMs());
    const after = wallClockMs();
    if (after - before < best.roundTripMs) best = { roundTripMs: after - before, offsetMs: theirs - (before + after) / 2 };
  }
  return best;
}

/** --aging: the floor's 1-entry strict write, block by block as three databases fill at once. */
async function printAging(processes: readonly BenchProcess[], writes: number): Promise<void> {
  const block = Math.min(1_000, writes);
  const perPage = await Promise.all(processes.map((each) => each.page.evaluate(([total, size]) => window.browserBench.indexedDbWriteAging(total, size), [writes, block] as const)));
  console.log(`IndexedDB aging: ${writes} strict 1-entry transactions one after another on each of ${processes.length} pages at once, p50 / p90 per block of ${block} (ms), load average ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  (perPage[0] ?? []).forEach((first, position) => {
    const cells = perPage.map((blocks, page) => `${processes[page]?.id ?? page}: ${format(blocks[position]?.p50Ms ?? Number.NaN, 2)} / ${format(blocks[position]?.p90Ms ?? Number.NaN, 2)}`);
    console.log(`  through ${String(first.through).padStart(6)}   ${cells.join('   ')}`);
  });
}

interface StartedProfiles {
  readonly id: string;
  readonly profiles: readonly { readonly file: string; stop(): Promise<unknown> }[];
}

/** Starts the profilers the options ask for on one process's page and (engine in a worker) worker. */
async function startProfiles(each: BenchProcess): Promise<StartedProfiles> {
  const started: { file: string; stop(): Promise<unknown> }[] = [];
  const add = async (file: string, start: () => Promise<{ stop(): Promise<unknown> }>): Promise<void> => {
    const { stop } = await start();
    started.push({ file, stop });
  };
  if (profile) {
    if (engine === 'worker') await add('worker.cpuprofile', () => each.devTools.startWorkerProfile());
    await add('page.cpuprofile', () => each.devTools.startPageProfile());
  }
  if (allocations) {
    if (engine === 'worker') await add('worker.heapprofile', () => each.devTools.startWorkerAllocationSampling());
    await add('page.heapprofile', () => each.devTools.startPageAllocationSampling());
  }
  return { id: each.id, profiles: started };
}

/**
 * Each browser's CPU over each transfer of the snapshot phase (percent of one core), in total and
 * in its browser process's thread pool (ThreadPoolForegroundWorker threads: IndexedDB's work).
 */
function transferCpuObserver(profilesDirectory: string): TransferObserver & { readonly lines: string[] } {
  const lines: string[] = [];
  let opened: { trial: number; roles: [string, string][]; snapshots: ThreadCpuSnapshot[] } | null = null;
  const percent = (rows: readonly ThreadCpuRow[]): number => rows.reduce((sum, row) => sum + row.userPercent + row.systemPercent, 0);
  return {
    lines,
    opened(trial, roles) {
      const ordered = Object.entries(roles);
      opened = { trial, roles: ordered, snapshots: ordered.map(([, id]) => takeThreadCpuSnapshot(path.join(profilesDirectory, id))) };
    },
    closed(trial) {
      if (opened === null || opened.trial !== trial) return;
      const { roles, snapshots } = opened;
      const cells = roles.map(([role, id], index) => {
        const before = snapshots[index];
        if (before === undefined) return `${role} —`;
        const rows = threadCpuBetween(before, takeThreadCpuSnapshot(path.join(profilesDirectory, id)));
        const pool = rows.filter((row) => row.processType === 'browser' && row.threadName.startsWith('ThreadPoolForeg'));
        return `${role} ${format(percent(rows), 0)} % (thread pool ${format(percent(pool), 0)} %)`;
      });
      lines.push(`  transfer ${trial + 1}: ${cells.join(', ')}`);
      opened = null;
    },
  };
}

async function printSnapshotPhase(processes: readonly BenchProcess[], trials: number, profilesDirectory: string): Promise<void> {
  if (fillCommits > 0) {
    const { leader } = await settled(processes);
    const filled = await load(leader, { inFlight: 64, durationMs: 300_000, untilCommitIndex: (await status(leader)).commitIndex + fillCommits, pauseMs: 0, keepAll: false });
    console.log(`fill: ${filled.commits} commits from the leader's page before the snapshot phase`);
  }
  const sizes = { ...benchSizes([]), snapshotTrials: trials };
  const cpu = threadCpuAvailable() ? transferCpuObserver(profilesDirectory) : null;
  const figures = await measureHeartbeatsDuringSnapshot(processes, sizes, cpu ?? undefined);
  const gaps = (each: typeof figures.baseline): string => `p50 ${format(each.gapP50Ms)} ms, p99 ${format(each.gapP99Ms)} ms, max ${format(each.gapMaxMs)} ms over ${each.frames} frames; small proposals p99 ${format(each.proposalP99Ms)} ms`;
  console.log(`snapshot phase (${trials} × ${(sizes.snapshotBytes / 1024 / 1024).toFixed(0)} MiB): leader silence at the other follower, baseline ${gaps(figures.baseline)}`);
  console.log(`  during the transfers: ${gaps(figures.duringSnapshot)}; slowest transfer ${format(figures.transferSeconds, 2)} s; p99 per transfer ${figures.trialGapP99Ms.map((each) => format(each)).join(', ')} ms; leadership moved during ${figures.electionsDuringTransfers} transfers, ${figures.transfersWithoutInstall} ended without an install, ${figures.trialsBegunAgain} trials were begun again because leadership moved before theirs, and it moved ${figures.electionsBetweenTrials} times between trials`);
  if (cpu !== null) {
    console.log("  each browser's CPU over each transfer (percent of one core; its browser process's thread pool, IndexedDB's work, in brackets):");
    for (const line of cpu.lines) console.log(line);
  }
}
