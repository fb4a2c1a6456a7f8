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
  /**
   * Write CPU profiles of the leader's worker and page to bench/results/, taken under the same
   * load in a window of their own after the measured saturation window (profiled-window.ts).
   */
  readonly profile: boolean;
  /** Length of that profiled window. */
  readonly profileMs: number;
}

export const benchUsage = 'usage: npm run bench:browser -- [--tiny] [--profile] [--dev-server] [--failover-trials=N] [--memory-commits=N] [--in-flight=N]';
const switches = ['--tiny', '--profile', '--dev-server'];
const numbers = ['failover-trials', 'memory-commits', 'in-flight'];

function numberArgument(argv: readonly string[], name: string): number | undefined {
  const flag = argv.find((argument) => argument.startsWith(`--${name}=`));
  if (flag === undefined) return undefined;
  const text = flag.slice(name.length + 3);
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`--${name} needs a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * Throws on the first argument that is neither one of `knownSwitches` nor `--name=value` for one of
 * `valued`: a mistyped flag would otherwise be ignored, and the run measure something else than
 * asked (bench:browser used to start a full five-minute run on the defaults).
 */
export function refuseUnknownArguments(argv: readonly string[], knownSwitches: readonly string[], valued: readonly string[]): void {
  for (const argument of argv) {
    const known = knownSwitches.includes(argument) || valued.some((name) => argument.startsWith(`--${name}=`));
    if (!known) throw new RangeError(`unknown argument ${JSON.stringify(argument)}`);
  }
}

/** `argv` without node and the script. */
export function benchSizes(argv: readonly string[]): BenchSizes {
  refuseUnknownArguments(argv, switches, numbers);
  const tiny = argv.includes('--tiny');
  const mebibyte = 1024 * 1024;
  const sizes: BenchSizes = tiny
    ? { tiny, indexedDbEntries: 4_096, indexedDbBatch: 1_024, pings: 50, channelBytes: 2 * mebibyte, latencyCommits: 100, saturationInFlightPerPage: 32, saturationWarmUpMs: 500, saturationMs: 1_500, snapshotBytes: 256 * 1024, snapshotTrials: 1, heartbeatBaselineMs: 500, failoverTrials: 2, memoryCommits: 300, memorySamples: 2, compactEvery: 100, profile: true, profileMs: 1_000 }
    : { tiny, indexedDbEntries: 200_000, indexedDbBatch: 1_024, pings: 1_000, channelBytes: 32 * mebibyte, latencyCommits: 2_000, saturationInFlightPerPage: 256, saturationWarmUpMs: 3_000, saturationMs: 20_000, snapshotBytes: 4 * mebibyte, snapshotTrials: 5, heartbeatBaselineMs: 3_000, failoverTrials: 20, memoryCommits: 1_000_000, memorySamples: 10, compactEvery: 10_000, profile: true, profileMs: 5_000 };
  return {
    ...sizes,
    failoverTrials: numberArgument(argv, 'failover-trials') ?? sizes.failoverTrials,
    memoryCommits: numberArgument(argv, 'memory-commits') ?? sizes.memoryCommits,
    saturationInFlightPerPage: numberArgument(argv, 'in-flight') ?? sizes.saturationInFlightPerPage,
    profile: argv.includes('--profile') || sizes.profile,
  };
}
