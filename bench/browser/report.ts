// The table bench/browser.ts prints: each figure beside its raw limit from the same run, the ratio
// between them, and the issue's target with whether it was met.
import type { FailoverFigures } from './failover-phase.ts';
import type { MemoryFigures, MemorySample } from './memory-phase.ts';
import type { LatencyFigures, RawLimits, SaturationFigures, SaturationStep } from './phases.ts';
import type { ProfiledWindow } from './profiled-window.ts';
import type { SnapshotFigures } from './snapshot-phase.ts';
import { percentile } from './driving.ts';

export interface BenchResults {
  readonly raw: RawLimits;
  readonly latency: LatencyFigures;
  readonly saturation: SaturationFigures;
  /** The window the CPU profiles were taken in, after the measured one; null when none was. */
  readonly profiled: ProfiledWindow | null;
  readonly snapshot: SnapshotFigures;
  readonly failover: FailoverFigures;
  readonly memory: MemoryFigures;
}

export interface Row {
  readonly measure: string;
  readonly value: string;
  readonly limit: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: boolean | null;
}

const mebibyte = 1024 * 1024;
const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const whole = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

/**
 * Memory growth over the run: a least-squares line through the samples taken under load (the
 * first, taken before any load, is left out), its value at the last sample against its value at
 * the first. A line, not the last sample against an early one: between snapshots each worker
 * holds up to `compactEvery` + 1,000 entries, so a single sample lands anywhere on a sawtooth of
 * 1-2 MiB per process, and a ratio of two samples said 0.98 or 1.13 for the same flat run; and
 * not means of halves, which would report only about half of a steady leak.
 */
export function memoryGrowth(memory: MemoryFigures): Growth {
  return fittedGrowth(memory, (sample) => Object.values(sample.heaps).reduce((sum, heap) => sum + heap.pageBytes + heap.workerBytes, 0));
}

/**
 * The same fit for the bytes the three processes' IndexedDB folders hold on disk: the logs a
 * compaction discarded must leave the disk too. LevelDB frees space in its own compactions, in
 * steps, which the line rides over as it does the heap's sawtooth.
 */
export function diskGrowth(memory: MemoryFigures): Growth {
  return fittedGrowth(memory, (sample) => Object.values(sample.diskBytes).reduce((sum, bytes) => sum + bytes, 0));
}

export interface Growth {
  readonly firstBytes: number;
  readonly lastBytes: number;
  readonly growth: number;
}

function fittedGrowth(memory: MemoryFigures, total: (sample: MemorySample) => number): Growth {
  const from = memory.samples.length > 2 ? 1 : 0;
  const points = memory.samples.slice(from).map((sample) => ({ x: sample.commits, y: total(sample) }));
  const count = points.length;
  const meanX = points.reduce((sum, point) => sum + point.x, 0) / count;
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / count;
  const spread = points.reduce((sum, point) => sum + (point.x - meanX) ** 2, 0);
  const slope = spread === 0 ? 0 : points.reduce((sum, point) => sum + (point.x - meanX) * (point.y - meanY), 0) / spread;
  const at = (x: number): number => meanY + slope * (x - meanX);
  const firstBytes = at(points[0]?.x ?? 0);
  const lastBytes = at(points[count - 1]?.x ?? 0);
  return { firstBytes, lastBytes, growth: lastBytes / firstBytes };
}

/**
 * Commits per second the machine's cores could carry if they did nothing but move the cluster's
 * data channel bytes, at what the bare channel cost per MiB in the same run: an upper bound on
 * throughput that no engine, worker or storage change can lift (NaN off Linux).
 */
export function channelCeiling(raw: RawLimits, saturation: SaturationStep): number {
  const cpuMsPerCommit = (raw.channelCpuMillisecondsPerMebibyte * saturation.channelBytesPerCommit) / mebibyte;
  return (raw.cores * 1000) / cpuMsPerCommit;
}

/**
 * The least a commit at light load can take here: the leader's append travels to a follower and
 * its answer back (one channel round trip, measured after 5 ms of quiet, since one commit at a
 * time leaves the machine idle in between and an idle machine is slower to wake), and the
 * follower answers only after a strict write of the entry (the leader's own write runs
 * meanwhile). Page, worker and engine time come on top of it.
 */
export function commitFloorMs(raw: RawLimits, which: 'p50' | 'p99'): number {
  return which === 'p50' ? raw.channelIdleRoundTripP50Ms + raw.indexedDbWriteP50Ms : raw.channelIdleRoundTripP99Ms + raw.indexedDbWriteP99Ms;
}

/**
 * The whole saturation ramp on one line, printed under the table, so the throughput figure reads
 * as the top of its curve and not as one load's rate.
 */
export function rampLine(saturation: SaturationFigures): string {
  const steps = saturation.steps.map((step) => `${whole(step.inFlightPerPage)} → ${whole(step.commitsPerSecond)}/s (p50 ${whole(step.p50Ms)} ms, ${whole(step.cpuMicrosecondsPerCommit)} µs CPU per commit${step.errors > 0 ? `, ${step.errors} failed` : ''})`);
  return `saturation ramp, proposals in flight per page → commits/s (worst page's latency): ${steps.join('; ')}`;
}

/**
 * The throughput target's second half, half the raw IndexedDB rate, set against the channel
 * ceiling of the same run: where half the IndexedDB rate is above what the cores could carry over
 * the data channels alone, no engine can meet it on this machine, and the line says so.
 */
export function indexedDbHalfLine(raw: RawLimits, saturation: SaturationStep): string {
  const half = raw.indexedDbEntriesPerSecond / 2;
  const ceiling = channelCeiling(raw, saturation);
  if (!Number.isFinite(ceiling)) return `half the raw IndexedDB rate: ${whole(half)}/s (the channel ceiling is measured on Linux only)`;
  const verdict = half > ceiling ? 'above it: no engine can meet this half of the target here, whatever it does' : 'below it: within reach of the channels';
  return `half the raw IndexedDB rate, ${whole(half)}/s, is ${fixed(half / ceiling, 1)} × what the cores could carry over the data channels alone (${whole(ceiling)}/s), ${verdict}`;
}

export function rows(results: BenchResults): Row[] {
  const { raw, latency, saturation, profiled, snapshot, failover, memory } = results;
  const failoverP50 = percentile(failover.trials, 0.5);
  const failoverMax = failover.trials.length === 0 ? Number.NaN : Math.max(...failover.trials);
  const growth = memoryGrowth(memory);
  const processes = Object.keys(memory.samples[0]?.heaps ?? {}).length;
  const last = memory.samples.at(-1);
  const worstPage = Math.max(...Object.values(last?.heaps ?? {}).map((heap) => heap.pageBytes + heap.workerBytes));
  const disk = diskGrowth(memory);
  const worstDisk = Math.max(...Object.values(last?.diskBytes ?? {}));
  return [
    { measure: `commits/s at saturation (3 pages proposing, ${whole(saturation.inFlightPerPage)} in flight each: the ramp's best)`, value: whole(saturation.commitsPerSecond), limit: `${whole(raw.indexedDbEntriesPerSecond)} IndexedDB entries/s`, ratio: fixed(saturation.commitsPerSecond / raw.indexedDbEntriesPerSecond), target: '≥ 25,000 and ≥ 0.5 of IndexedDB', met: saturation.commitsPerSecond >= 25_000 && saturation.commitsPerSecond >= raw.indexedDbEntriesPerSecond / 2 },
    { measure: 'commits/s at saturation against what the cores could carry over data channels alone', value: whole(saturation.commitsPerSecond), limit: `${whole(channelCeiling(raw, saturation))}/s: ${raw.cores} cores ÷ (${fixed(raw.channelCpuMillisecondsPerMebibyte, 0)} ms CPU per channel MiB × ${whole(saturation.channelBytesPerCommit)} B per commit)`, ratio: fixed(saturation.commitsPerSecond / channelCeiling(raw, saturation)), target: '—', met: null },
    // Not a figure of the library: what the profilers cost, so the profiles can be read against it.
    ...(profiled === null ? [] : [{ measure: "commits/s while the leader's worker and page were CPU-profiled (200 µs sampling)", value: whole(profiled.commitsPerSecond), limit: `${whole(saturation.commitsPerSecond)}/s unprofiled, above`, ratio: fixed(profiled.commitsPerSecond / saturation.commitsPerSecond), target: '—', met: null }]),
    { measure: 'channel bytes at saturation (MiB/s, sent by all pages)', value: fixed((saturation.commitsPerSecond * saturation.channelBytesPerCommit) / mebibyte, 1), limit: `${fixed(raw.channelMebibytesPerSecond, 1)} MiB/s bare channel`, ratio: fixed((saturation.commitsPerSecond * saturation.channelBytesPerCommit) / mebibyte / raw.channelMebibytesPerSecond), target: '—', met: null },
    { measure: 'commit latency p50, light load (ms)', value: fixed(latency.p50Ms), limit: `${fixed(commitFloorMs(raw, 'p50'))} ms floor: RTT after 5 ms quiet ${fixed(raw.channelIdleRoundTripP50Ms)} (busy ${fixed(raw.channelRoundTripP50Ms)}) + 1-entry strict write, 3 pages at once, ${fixed(raw.indexedDbWriteP50Ms)} (alone ${fixed(raw.indexedDbWriteAloneP50Ms)}) (p50s)`, ratio: fixed(latency.p50Ms / commitFloorMs(raw, 'p50'), 1), target: '≤ 3 ms', met: latency.p50Ms <= 3 },
    { measure: 'commit latency p99, light load (ms)', value: fixed(latency.p99Ms), limit: `${fixed(commitFloorMs(raw, 'p99'))} ms: RTT after 5 ms quiet ${fixed(raw.channelIdleRoundTripP99Ms)} + 1-entry strict write, 3 pages at once, ${fixed(raw.indexedDbWriteP99Ms)} (p99s)`, ratio: fixed(latency.p99Ms / commitFloorMs(raw, 'p99'), 1), target: '—', met: null },
    { measure: `failover p50 / max over ${failover.trials.length} trials (ms)`, value: `${whole(failoverP50)} / ${whole(failoverMax)}`, limit: '150–300 ms election timeout', ratio: fixed(failoverMax / 300, 1), target: '≤ 1,000 ms', met: failover.failed === 0 && failoverMax <= 1_000 },
    { measure: 'leader silence p99 at a follower, baseline (ms)', value: fixed(snapshot.baseline.gapP99Ms), limit: `${fixed(raw.channelRoundTripP99Ms)} ms channel RTT p99`, ratio: fixed(snapshot.baseline.gapP99Ms / raw.channelRoundTripP99Ms, 1), target: '—', met: null },
    // An election during a transfer is the failure the target guards against, whatever the p99;
    // a transfer that ended without an install measured no snapshot at all.
    { measure: `leader silence p99 during ${snapshot.duringSnapshot.trials ?? 1} × ${fixed(snapshot.snapshotBytes / mebibyte, 2)} MiB snapshot (ms, ${whole(snapshot.duringSnapshot.frames)} frames${snapshot.electionsDuringTransfers > 0 ? `, ${snapshot.electionsDuringTransfers} with an election` : ''}${snapshot.transfersWithoutInstall > 0 ? `, ${snapshot.transfersWithoutInstall} without an install` : ''})`, value: `${fixed(snapshot.duringSnapshot.gapP99Ms)} (max ${fixed(snapshot.duringSnapshot.gapMaxMs)})`, limit: `${fixed(raw.channelRoundTripP99Ms)} ms channel RTT p99`, ratio: fixed(snapshot.duringSnapshot.gapP99Ms / raw.channelRoundTripP99Ms, 1), target: '≤ 20 ms', met: snapshot.duringSnapshot.gapP99Ms <= 20 && snapshot.electionsDuringTransfers === 0 && snapshot.transfersWithoutInstall === 0 },
    { measure: 'small-proposal p99 during the snapshot (ms)', value: fixed(snapshot.duringSnapshot.proposalP99Ms), limit: `${fixed(snapshot.baseline.proposalP99Ms)} ms without it`, ratio: fixed(snapshot.duringSnapshot.proposalP99Ms / snapshot.baseline.proposalP99Ms, 1), target: '—', met: null },
    { measure: `memory (JS + Blink heaps + ArrayBuffers), page + worker, after ${whole(memory.commits)} commits (MiB, worst of ${processes})`, value: fixed(worstPage / mebibyte, 1), limit: `${fixed(growth.firstBytes / processes / mebibyte, 1)} MiB per process at the start (fitted)`, ratio: fixed(growth.growth), target: 'flat (fitted end ≤ 1.10 × start)', met: growth.growth <= 1.1 },
    { measure: `IndexedDB on disk per process after ${whole(memory.commits)} commits (MiB, worst of ${processes})`, value: fixed(worstDisk / mebibyte, 1), limit: `${fixed(disk.firstBytes / processes / mebibyte, 1)} MiB per process at the start (fitted)`, ratio: fixed(disk.growth), target: '—', met: null },
  ];
}

export function formatTable(table: readonly Row[]): string {
  const header: Row = { measure: 'measure', value: 'value', limit: 'raw limit (same run)', ratio: 'ratio', target: 'target', met: null };
  const widths = (['measure', 'value', 'limit', 'ratio', 'target'] as const).map((key) => Math.max(...[header, ...table].map((row) => row[key].length)));
  const line = (row: Row, met: string): string => `| ${[row.measure, row.value, row.limit, row.ratio, row.target].map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(' | ')} | ${met.padEnd(4)} |`;
  const separator = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} | ---- |`;
  return [line(header, 'met'), separator, ...table.map((row) => line(row, row.met === null ? '' : row.met ? 'yes' : 'NO'))].join('\n');
}
