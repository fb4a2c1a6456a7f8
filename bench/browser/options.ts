// How big a run is: the full benchmark (npm run bench:browser) or the tiny one npm test runs so the
// benchmark cannot rot (a few hundred commits, 2 failover trials, a small snapshot).
export interface BenchSizes {
  readonly tiny: boolean;
  readonly indexedDbEntries: number;
  readonly indexedDbBatch: number;
  readonly pings: number;
  readonly channelBytes: number;
  readonly latencyCommits: number;
  readonly saturationInFlightPerPage: number;
  readonly saturationWarmUpMs: number;
  readonly saturationMs: number;
  readonly snapshotBytes: number;
  /** Snapshot transfers whose gaps are pooled (snapshot-phase.ts). */
  readonly snapshotTrials: number;
  readonly heartbeatBaselineMs: number;
  readonly failoverTrials: number;
  readonly memoryCommits: number;
  readonly memorySamples: number;
  /** Each node publishes a snapshot every this many applied entries (compaction). */
  readonly compactEvery: number;
  /** Write a CPU profile of the leader's worker during saturation to bench/results/. */
  readonly profile: boolean;
}

function numberArgument(name: string): number | undefined {
  const flag = process.argv.find((argument) => argument.startsWith(`--${name}=`));
  if (flag === undefined) return undefined;
  const value = Number(flag.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`--${name} needs a positive integer`);
  return value;
}

export function benchSizes(argv: readonly string[]): BenchSizes {
  const tiny = argv.includes('--tiny');
  const mebibyte = 1024 * 1024;
  const sizes: BenchSizes = tiny
    ? { tiny, indexedDbEntries: 4_096, indexedDbBatch: 1_024, pings: 50, channelBytes: 2 * mebibyte, latencyCommits: 100, saturationInFlightPerPage: 32, saturationWarmUpMs: 500, saturationMs: 1_500, snapshotBytes: 256 * 1024, snapshotTrials: 1, heartbeatBaselineMs: 500, failoverTrials: 2, memoryCommits: 300, memorySamples: 2, compactEvery: 100, profile: false }
    : { tiny, indexedDbEntries: 200_000, indexedDbBatch: 1_024, pings: 1_000, channelBytes: 32 * mebibyte, latencyCommits: 2_000, saturationInFlightPerPage: 256, saturationWarmUpMs: 3_000, saturationMs: 20_000, snapshotBytes: 4 * mebibyte, snapshotTrials: 5, heartbeatBaselineMs: 3_000, failoverTrials: 20, memoryCommits: 1_000_000, memorySamples: 10, compactEvery: 10_000, profile: true };
  return {
    ...sizes,
    failoverTrials: numberArgument('failover-trials') ?? sizes.failoverTrials,
    memoryCommits: numberArgument('memory-commits') ?? sizes.memoryCommits,
    saturationInFlightPerPage: numberArgument('in-flight') ?? sizes.saturationInFlightPerPage,
    profile: argv.includes('--profile') || sizes.profile,
  };
}
