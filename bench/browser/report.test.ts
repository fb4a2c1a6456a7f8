// The memory criterion of bench:browser: flat means a line fitted through the samples does not
// rise by more than 10 % over the run, whatever phase of the compaction sawtooth samples land on.
import { describe, expect, it } from 'vitest';
import type { HeapSizes } from './cdp.ts';
import type { MemoryFigures } from './memory-phase.ts';
import { saturationOf } from './phases.ts';
import { channelCeiling, commitFloorMs, diskGrowth, indexedDbHalfLine, memoryGrowth, rampLine, rows } from './report.ts';

const mebibyte = 1024 * 1024;

function figures(totalsInMebibytes: readonly number[], diskInMebibytes: readonly number[] = totalsInMebibytes.map(() => 1)): MemoryFigures {
  const samples = totalsInMebibytes.map((total, position) => {
    const half = (total / 2) * mebibyte;
    const parts = { javaScriptBytes: half, blinkBytes: 0, arrayBufferBytes: 0 };
    const heaps: Record<string, HeapSizes> = { a: { pageBytes: half, workerBytes: half, pageParts: parts, workerParts: parts } };
    const disk = diskInMebibytes[position] ?? 0;
    return { commits: position * 1000, atMs: position, heaps, diskBytes: { a: (disk / 4) * mebibyte, b: ((3 * disk) / 4) * mebibyte }, logs: {}, compacted: true };
  });
  return { commits: 10_000, commitsPerSecond: 1, samples, loads: [], stalled: false, startedAtMs: 0, endedAtMs: 1, termAtStart: 1, termAtEnd: 1 };
}

describe('memoryGrowth', () => {
  it('calls a sawtooth flat although its last sample is 13 % above an early one', () => {
    // Before load, then sawtooth between 16 and 18 MiB; the old rule (last / second) said 1.125.
    const { growth } = memoryGrowth(figures([10, 16, 18, 16.5, 17.8, 16.2, 17.9, 16.1, 18, 16.4, 18]));
    expect(growth).toBeGreaterThan(0.95);
    expect(growth).toBeLessThan(1.05);
  });

  it('reports a steady leak in full: 16 MiB rising by 1 MiB per sample is 25 / 16', () => {
    const { growth, firstBytes, lastBytes } = memoryGrowth(figures([10, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]));
    expect(firstBytes).toBeCloseTo(16 * mebibyte);
    expect(lastBytes).toBeCloseTo(25 * mebibyte);
    expect(growth).toBeCloseTo(25 / 16);
  });

  it('a 15 % leak under a sawtooth is not called flat', () => {
    const saw = [0, 1.5, 0.2, 1.3, 0.4, 1.6, 0.1, 1.4, 0.3, 1.2];
    const { growth } = memoryGrowth(figures([10, ...saw.map((swing, position) => 16 * (1 + (0.15 * position) / 9) + swing)]));
    expect(growth).toBeGreaterThan(1.1);
  });

  it('leaves out the sample taken before any load, and copes with two samples (the tiny run)', () => {
    expect(memoryGrowth(figures([1, 20, 20, 20])).growth).toBe(1);
    expect(memoryGrowth(figures([10, 11])).growth).toBeCloseTo(1.1);
    expect(memoryGrowth(figures([10])).growth).toBe(1);
  });
});

describe('diskGrowth', () => {
  it('fits the IndexedDB folders of all processes together, apart from the heaps', () => {
    // LevelDB frees space in steps: 30 MiB growing to 40 and dropping back, around a flat line.
    const flat = figures([10, 16, 16, 16, 16, 16], [5, 30, 40, 31, 39, 30]);
    expect(diskGrowth(flat).growth).toBeGreaterThan(0.9);
    expect(diskGrowth(flat).growth).toBeLessThan(1.1);
    expect(memoryGrowth(flat).growth).toBe(1);
    const growing = figures([10, 16, 16, 16, 16, 16], [5, 30, 40, 50, 60, 70]);
    expect(diskGrowth(growing).firstBytes).toBeCloseTo(30 * mebibyte);
    expect(diskGrowth(growing).growth).toBeCloseTo(70 / 30);
  });
});

describe('rows', () => {
  const raw = { indexedDbEntriesPerSecond: 1, indexedDbTransactionsPerSecond: 1, indexedDbBatch: 1, channelRoundTripP50Ms: 1, channelRoundTripP99Ms: 1, channelIdleRoundTripP50Ms: 1, channelIdleRoundTripP99Ms: 1, channelMebibytesPerSecond: 5, indexedDbWriteP50Ms: 1, indexedDbWriteP99Ms: 1, indexedDbWriteAloneP50Ms: 1, channelCpuMillisecondsPerMebibyte: 320, cores: 2 };
  const step = { commitsPerSecond: 4000, inFlightPerPage: 256, seconds: 20, p50Ms: 1, p99Ms: 1, errors: 0, firstError: null, loads: [], channelBytesPerCommit: 300, cpuMicrosecondsPerCommit: 500 };
  const saturation = saturationOf([step]);
  const gaps = { frames: 3000, trials: 5, gapP50Ms: 6, gapP99Ms: 15, gapMaxMs: 40, proposalP99Ms: 30 };
  const snapshot = { snapshotBytes: 4 * mebibyte, baseline: { ...gaps, trials: 1 }, duringSnapshot: gaps, trialGapP99Ms: [15], transferSeconds: 4, laggingConnectionsEstablished: 0, laggingEngineChannelsReopened: 10, electionsDuringTransfers: 0, trialsBegunAgain: 0, transfersWithoutInstall: 0, electionsBetweenTrials: 0, startedAtMs: 0, endedAtMs: 1 };
  const results = { raw, saturation, profiled: null, snapshot, latency: { commits: 1, p50Ms: 1, p99Ms: 1, buckets: [] }, failover: { trials: [300], failed: 0, startedAtMs: 0, endedAtMs: 1 }, memory: figures([10, 16, 16]) };
  const silence = (table: ReturnType<typeof rows>) => table.find((row) => row.measure.startsWith('leader silence p99 during'));

  it('an election during a snapshot transfer, or a transfer without an install, fails the silence target, however low the p99', () => {
    expect(silence(rows(results))?.met).toBe(true);
    const withElection = silence(rows({ ...results, snapshot: { ...snapshot, electionsDuringTransfers: 1 } }));
    expect(withElection?.met).toBe(false);
    expect(withElection?.measure).toContain('1 with an election');
    const withoutInstall = silence(rows({ ...results, snapshot: { ...snapshot, transfersWithoutInstall: 1 } }));
    expect(withoutInstall?.met).toBe(false);
    expect(withoutInstall?.measure).toContain('1 without an install');
  });

  it('prints the profiled window beside the unprofiled rate, never as the throughput figure', () => {
    expect(rows(results).some((row) => row.measure.includes('CPU-profiled'))).toBe(false);
    const table = rows({ ...results, profiled: { commitsPerSecond: 3000, seconds: 5, errors: 0, profileFile: 'bench/results/x' } });
    const profiledRow = table.find((row) => row.measure.includes('CPU-profiled'));
    expect(profiledRow?.value).toBe('3,000');
    expect(profiledRow?.ratio).toBe('0.75');
    expect(profiledRow?.met).toBe(null);
    expect(table.find((row) => row.measure.startsWith('commits/s at saturation (3 pages'))?.value).toBe('4,000');
  });

  it('takes the best step of the saturation ramp as the figure, names its load, and counts every step\'s failures', () => {
    const steps = [step, { ...step, inFlightPerPage: 1024, commitsPerSecond: 9000, p50Ms: 80, errors: 2, firstError: 'LeadershipLostError' }, { ...step, inFlightPerPage: 2048, commitsPerSecond: 8000, p50Ms: 200 }];
    const ramped = saturationOf(steps);
    expect([ramped.commitsPerSecond, ramped.inFlightPerPage, ramped.errors, ramped.firstError, ramped.steps.length]).toEqual([9000, 1024, 2, 'LeadershipLostError', 3]);
    const figure = rows({ ...results, saturation: ramped }).find((row) => row.measure.startsWith('commits/s at saturation (3 pages'));
    expect(figure?.measure).toContain('1,024 in flight each');
    expect(figure?.value).toBe('9,000');
    expect(rampLine(ramped)).toBe("saturation ramp, proposals in flight per page → commits/s (worst page's latency): 256 → 4,000/s (p50 1 ms, 500 µs CPU per commit); 1,024 → 9,000/s (p50 80 ms, 500 µs CPU per commit, 2 failed); 2,048 → 8,000/s (p50 200 ms, 500 µs CPU per commit)");
  });
});

describe('channelCeiling', () => {
  it('divides the cores by the CPU that one commit’s channel bytes cost at the bare channel’s price', () => {
    const raw = { indexedDbEntriesPerSecond: 1, indexedDbTransactionsPerSecond: 1, indexedDbBatch: 1, channelRoundTripP50Ms: 1, channelRoundTripP99Ms: 1, channelIdleRoundTripP50Ms: 1, channelIdleRoundTripP99Ms: 1, channelMebibytesPerSecond: 5, indexedDbWriteP50Ms: 1, indexedDbWriteP99Ms: 1, indexedDbWriteAloneP50Ms: 1, channelCpuMillisecondsPerMebibyte: 320, cores: 2 };
    const saturation = { commitsPerSecond: 4000, inFlightPerPage: 256, seconds: 20, p50Ms: 1, p99Ms: 1, errors: 0, firstError: null, loads: [], channelBytesPerCommit: 300, cpuMicrosecondsPerCommit: 500 };
    // 300 B per commit at 320 ms per MiB is 0.0916 ms of CPU; two cores give 2,000 ms per second.
    expect(channelCeiling(raw, saturation)).toBeCloseTo(2000 / ((320 * 300) / mebibyte), 6);
    expect(Math.round(channelCeiling(raw, saturation))).toBe(21845);
    expect(channelCeiling({ ...raw, cores: 4 }, saturation)).toBeCloseTo(2 * channelCeiling(raw, saturation), 6);
  });
});

describe('indexedDbHalfLine', () => {
  const raw = { indexedDbEntriesPerSecond: 700_000, indexedDbTransactionsPerSecond: 1, indexedDbBatch: 1, channelRoundTripP50Ms: 1, channelRoundTripP99Ms: 1, channelIdleRoundTripP50Ms: 1, channelIdleRoundTripP99Ms: 1, channelMebibytesPerSecond: 20, indexedDbWriteP50Ms: 1, indexedDbWriteP99Ms: 1, indexedDbWriteAloneP50Ms: 1, channelCpuMillisecondsPerMebibyte: 80, cores: 2 };
  const saturation = { commitsPerSecond: 30_000, inFlightPerPage: 2048, seconds: 10, p50Ms: 1, p99Ms: 1, errors: 0, firstError: null, loads: [], channelBytesPerCommit: 280, cpuMicrosecondsPerCommit: 60 };
  it('says when half the IndexedDB rate is beyond what the cores could move over the channels, and when it is not', () => {
    // 280 B at 80 ms per MiB: 2,000 ms of CPU a second carry 93,623 commits/s; half of 700,000 is 3.7 times that.
    expect(indexedDbHalfLine(raw, saturation)).toBe('half the raw IndexedDB rate, 350,000/s, is 3.7 × what the cores could carry over the data channels alone (93,623/s), above it: no engine can meet this half of the target here, whatever it does');
    expect(indexedDbHalfLine({ ...raw, indexedDbEntriesPerSecond: 100_000 }, saturation)).toContain('below it');
    expect(indexedDbHalfLine({ ...raw, channelCpuMillisecondsPerMebibyte: Number.NaN }, saturation)).toContain('Linux only');
  });
});

describe('commitFloorMs', () => {
  it('adds one round trip after quiet and one strict single-entry write, percentile by percentile', () => {
    const raw = { indexedDbEntriesPerSecond: 1, indexedDbTransactionsPerSecond: 1, indexedDbBatch: 1, channelRoundTripP50Ms: 0.25, channelRoundTripP99Ms: 0.75, channelIdleRoundTripP50Ms: 0.5, channelIdleRoundTripP99Ms: 1.5, channelMebibytesPerSecond: 5, indexedDbWriteP50Ms: 2.25, indexedDbWriteP99Ms: 9, indexedDbWriteAloneP50Ms: 1, channelCpuMillisecondsPerMebibyte: 320, cores: 2 };
    expect(commitFloorMs(raw, 'p50')).toBe(2.75);
    expect(commitFloorMs(raw, 'p99')).toBe(10.5);
  });
});
