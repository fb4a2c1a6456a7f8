// How big a run is: the full benchmark (npm run bench:browser) or the tiny one npm test runs so the
// benchmark cannot rot (a few hundred commits, 2 failover trials, a small snapshot).
export interface BenchSizes {
  readonly tiny: boolean;
  readonly indexedDbEntries: number;
  readonly indexedDbBatch: number;
  readonly pings: number;
  readonly channelBytes: number;
  readonly latencyCommits: number;
  /**
   * Proposals in flight per page at each step of the saturation ramp, ascending; the throughput
   * figure is the best step's rate. One fixed level (256 until 2026-12-06) measured a load, not
   * saturation: batches grow with the proposals waiting, and on the Intel host 256 per page gave
   * 19,840 commits/s where 1,024 gave 28,182 and 2,048 29,472 (`npm run bench:browser-diagnose --
   * --seconds=10 --light=0 --in-flight=N`, docs/performance-history.md "Saturation is a ramp").
   */
  readonly saturationInFlightLevels: readonly number[];
  /** Warm-up before each step's measured window, and the window's length. */
  readonly saturationWarmUpMs: number;
  readonly saturationMs: number;
  /** Proposals in flight per page while the memory phase drives its million commits. */
  readonly memoryInFlightPerPage: number;
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

export const benchUsage = 'usage: npm run bench:browser -- [--tiny] [--profile] [--dev-server] [--failover-trials=N] [--memory-commits=N] [--in-flight=N[,N...]]';
const switches = ['--tiny', '--profile', '--dev-server'];
const numbers = ['failover-trials', 'memory-commits', 'in-flight'];

/** The text after `--name=`, if the flag was given. */
function flagText(argv: readonly string[], name: string): string | undefined {
  return argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** A positive safe integer written in digits only, or NaN. */
function positiveInteger(text: string): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) && value > 0 ? value : Number.NaN;
}

function numberArgument(argv: readonly string[], name: string): number | undefined {
  const text = flagText(argv, name);
  if (text === undefined) return undefined;
  const value = positiveInteger(text);
  if (Number.isNaN(value)) throw new RangeError(`--${name} needs a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/** `--in-flight=256,1024`: the saturation ramp's steps, positive integers, sorted ascending. */
function levelsArgument(argv: readonly string[]): number[] | undefined {
  const text = flagText(argv, 'in-flight');
  if (text === undefined) return undefined;
  const levels = text.split(',').map(positiveInteger);
  if (levels.some(Number.isNaN)) throw new RangeError(`--in-flight needs positive integers separated by commas, got ${JSON.stringify(text)}`);
  return [...new Set(levels)].sort((left, right) => left - right);
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
    ? { tiny, indexedDbEntries: 4_096, indexedDbBatch: 1_024, pings: 50, channelBytes: 2 * mebibyte, latencyCommits: 100, saturationInFlightLevels: [16, 64], saturationWarmUpMs: 500, saturationMs: 1_500, memoryInFlightPerPage: 32, snapshotBytes: 256 * 1024, snapshotTrials: 1, heartbeatBaselineMs: 500, failoverTrials: 2, memoryCommits: 300, memorySamples: 2, compactEvery: 100, profile: true, profileMs: 1_000 }
    : { tiny, indexedDbEntries: 200_000, indexedDbBatch: 1_024, pings: 1_000, channelBytes: 32 * mebibyte, latencyCommits: 2_000, saturationInFlightLevels: [256, 512, 1_024, 2_048], saturationWarmUpMs: 3_000, saturationMs: 10_000, memoryInFlightPerPage: 256, snapshotBytes: 4 * mebibyte, snapshotTrials: 5, heartbeatBaselineMs: 3_000, failoverTrials: 20, memoryCommits: 1_000_000, memorySamples: 10, compactEvery: 10_000, profile: true, profileMs: 5_000 };
  return {
    ...sizes,
    failoverTrials: numberArgument(argv, 'failover-trials') ?? sizes.failoverTrials,
    memoryCommits: numberArgument(argv, 'memory-commits') ?? sizes.memoryCommits,
    saturationInFlightLevels: levelsArgument(argv) ?? sizes.saturationInFlightLevels,
    profile: argv.includes('--profile') || sizes.profile,
  };
}
