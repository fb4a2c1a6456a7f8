// RaftConfig (API.md "Configuration"): defaults, validation and the resolved form the
// engine uses. Every bound the engine relies on is validated here, together.
import { describeValue } from './describe-value.ts';

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RaftConfig {
  electionTimeoutMin?: number;
  electionTimeoutMax?: number;
  heartbeatInterval?: number;
  slowProposeThreshold?: number;
  snapshotChunkCeiling?: number;
  snapshotTotalCeiling?: number;
  /**
   * Bytes per second a leader streams to one follower installing a snapshot, at most: chunks go
   * out evenly spaced rather than in bursts, so heartbeats and appends to the other followers are
   * not queued behind a burst on the threads the channels share. `Infinity` turns pacing off
   * (only the window of chunks in flight limits the stream). Default 1 MiB/s: on a 2-core
   * machine running three browsers, the other follower's longest silences during a 4 MiB
   * transfer stayed under 20 ms at p99 at 1 MiB/s and reached 18-26 ms at 2 MiB/s (41-58 ms
   * unpaced), and a lagging follower's catch-up is rarely urgent, since the others carry the
   * quorum meanwhile. Raise it for large states on fast machines.
   */
  snapshotBytesPerSecond?: number;
  maxTermJump?: number;
  /**
   * Entries kept behind a published snapshot so slightly lagging peers catch up from the log
   * rather than by a snapshot install. Default 0: API.md's publishSnapshot says "raft compacts up
   * to it", so by default it does, and compactionFloor reaches the snapshot's index at once
   * (unless this node's own forwarded proposals still wait for their entries, or, on a leader, a
   * follower's running stream of an older snapshot still needs the entries after it).
   */
  snapshotTrailingEntries?: number;
  /** Largest AppendEntries payload in bytes (further capped by the transport's maxPayloadBytes). */
  maxAppendBytes?: number;
  /** AppendEntries messages in flight per follower once its match point is found. */
  maxInflightMessages?: number;
  /** Proposals a leader accepts but has not committed yet, before refusing new ones. */
  maxPendingProposals?: number;
  /** Election timeouts of refused progress before `wedgeSuspected` is emitted. */
  wedgeSuspicionTimeouts?: number;
  /**
   * A witness: this node votes and acknowledges appends like any voter but never campaigns and
   * refuses leadership transfers, so it never leads (an always-on tie-breaker for two-peer rooms).
   * Default false.
   */
  witness?: boolean;
  clock?: Clock;
  random?: () => number;
}

export interface ResolvedRaftConfig {
  readonly electionTimeoutMinMs: number;
  readonly electionTimeoutMaxMs: number;
  readonly heartbeatIntervalMs: number;
  readonly slowProposeThresholdMs: number;
  readonly snapshotChunkCeilingBytes: number;
  readonly snapshotTotalCeilingBytes: number;
  readonly snapshotBytesPerSecond: number;
  readonly maxTermJump: number;
  readonly snapshotTrailingEntries: number;
  readonly maxAppendBytes: number;
  readonly maxInflightMessages: number;
  readonly maxPendingProposals: number;
  readonly wedgeSuspicionTimeouts: number;
  readonly witness: boolean;
}

/** The defaults in the engine's resolved form (names with units), as resolveRaftConfig returns them. */
export const defaultResolvedRaftConfig: ResolvedRaftConfig = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  slowProposeThresholdMs: 100,
  snapshotChunkCeilingBytes: 16 * 1024,
  snapshotTotalCeilingBytes: 64 * 1024 * 1024,
  snapshotBytesPerSecond: 1024 * 1024,
  maxTermJump: 10_000,
  snapshotTrailingEntries: 0,
  maxAppendBytes: 1024 * 1024,
  maxInflightMessages: 64,
  maxPendingProposals: 100_000,
  wedgeSuspicionTimeouts: 10,
  witness: false,
};

/**
 * The defaults in RaftConfig's own names, for callers: `{ ...defaultRaftConfig, heartbeatInterval:
 * 20 }` is a valid RaftConfig. Until 2026-12-07 the package root exported the resolved form under
 * this name, whose names carry units, and spreading it into `raftConfig` was refused at run time
 * ("no option heartbeatIntervalMs") while TypeScript let it through (a newcomer's review).
 */
export const defaultRaftConfig: Readonly<Required<Omit<RaftConfig, 'clock' | 'random'>>> = {
  electionTimeoutMin: defaultResolvedRaftConfig.electionTimeoutMinMs,
  electionTimeoutMax: defaultResolvedRaftConfig.electionTimeoutMaxMs,
  heartbeatInterval: defaultResolvedRaftConfig.heartbeatIntervalMs,
  slowProposeThreshold: defaultResolvedRaftConfig.slowProposeThresholdMs,
  snapshotChunkCeiling: defaultResolvedRaftConfig.snapshotChunkCeilingBytes,
  snapshotTotalCeiling: defaultResolvedRaftConfig.snapshotTotalCeilingBytes,
  snapshotBytesPerSecond: defaultResolvedRaftConfig.snapshotBytesPerSecond,
  maxTermJump: defaultResolvedRaftConfig.maxTermJump,
  snapshotTrailingEntries: defaultResolvedRaftConfig.snapshotTrailingEntries,
  maxAppendBytes: defaultResolvedRaftConfig.maxAppendBytes,
  maxInflightMessages: defaultResolvedRaftConfig.maxInflightMessages,
  maxPendingProposals: defaultResolvedRaftConfig.maxPendingProposals,
  wedgeSuspicionTimeouts: defaultResolvedRaftConfig.wedgeSuspicionTimeouts,
  witness: defaultResolvedRaftConfig.witness,
};

/**
 * `defaulted`: the caller left the field out, and its default clashes with a field it did set
 * (`{ electionTimeoutMin: 500 }` against the default maximum of 300): the message says so, or
 * it would blame a value the caller never wrote.
 */
function requireInteger(field: string, value: number, minimum: number, maximum: number, rule: string, defaulted = false): void {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    const source = defaulted ? ` (its default: it was not set, so set it too)` : '';
    throw new RangeError(`RaftConfig.${field} = ${describeValue(value)}${source} is invalid: ${rule}`);
  }
}

/** The injected clock is called on every step, so a malformed one is refused up front like any field. */
function requireClock(clock: unknown): void {
  if (clock === undefined) return;
  const candidate = clock as Partial<Record<keyof Clock, unknown>> | null;
  const complete = typeof clock === 'object' && candidate !== null && typeof candidate.now === 'function' && typeof candidate.setTimeout === 'function' && typeof candidate.clearTimeout === 'function';
  if (!complete) {
    throw new RangeError(`RaftConfig.clock = ${describeValue(clock)} is invalid: must be a Clock with now(), setTimeout(fn, ms) and clearTimeout(handle) methods`);
  }
}

/** Validates a user config and fills defaults; throws RangeError naming field, value and rule. */
/** Every RaftConfig option: another key is a misspelling, refused rather than silently ignored. */
const raftConfigKeys: ReadonlySet<string> = new Set<keyof RaftConfig>([
  'electionTimeoutMin', 'electionTimeoutMax', 'heartbeatInterval', 'slowProposeThreshold', 'snapshotChunkCeiling',
  'snapshotTotalCeiling', 'snapshotBytesPerSecond', 'maxTermJump', 'snapshotTrailingEntries', 'maxAppendBytes',
  'maxInflightMessages', 'maxPendingProposals', 'wedgeSuspicionTimeouts', 'witness', 'clock', 'random',
]);

/**
 * Refuses keys RaftConfig does not have. The resolved form names its fields with units
 * (`heartbeatIntervalMs`); passing those names was silently ignored, defaults and all.
 */
function requireKnownKeys(config: RaftConfig): void {
  if (typeof config !== 'object' || config === null) throw new RangeError(`RaftConfig must be an object, got ${describeValue(config)}`);
  for (const key of Object.keys(config)) {
    if (raftConfigKeys.has(key)) continue;
    const unitless = key.replace(/(Ms|Bytes)$/, '');
    const hint = unitless !== key && raftConfigKeys.has(unitless) ? ` (did you mean ${unitless}? RaftConfig options have no unit suffix)` : '';
    throw new RangeError(`RaftConfig has no option ${JSON.stringify(key)}${hint}`);
  }
}

export function resolveRaftConfig(config: RaftConfig = {}): ResolvedRaftConfig {
  requireKnownKeys(config);
  const defaults = defaultResolvedRaftConfig;
  const resolved: ResolvedRaftConfig = {
    electionTimeoutMinMs: config.electionTimeoutMin ?? defaults.electionTimeoutMinMs,
    electionTimeoutMaxMs: config.electionTimeoutMax ?? defaults.electionTimeoutMaxMs,
    heartbeatIntervalMs: config.heartbeatInterval ?? defaults.heartbeatIntervalMs,
    slowProposeThresholdMs: config.slowProposeThreshold ?? defaults.slowProposeThresholdMs,
    snapshotChunkCeilingBytes: config.snapshotChunkCeiling ?? defaults.snapshotChunkCeilingBytes,
    snapshotTotalCeilingBytes: config.snapshotTotalCeiling ?? defaults.snapshotTotalCeilingBytes,
    snapshotBytesPerSecond: config.snapshotBytesPerSecond ?? defaults.snapshotBytesPerSecond,
    maxTermJump: config.maxTermJump ?? defaults.maxTermJump,
    snapshotTrailingEntries: config.snapshotTrailingEntries ?? defaults.snapshotTrailingEntries,
    maxAppendBytes: config.maxAppendBytes ?? defaults.maxAppendBytes,
    maxInflightMessages: config.maxInflightMessages ?? defaults.maxInflightMessages,
    maxPendingProposals: config.maxPendingProposals ?? defaults.maxPendingProposals,
    wedgeSuspicionTimeouts: config.wedgeSuspicionTimeouts ?? defaults.wedgeSuspicionTimeouts,
    witness: config.witness ?? defaults.witness,
  };
  const hour = 3_600_000;
  requireInteger('electionTimeoutMin', resolved.electionTimeoutMinMs, 2, hour, 'must be an integer number of ms from 2 to 3600000');
  requireInteger('electionTimeoutMax', resolved.electionTimeoutMaxMs, resolved.electionTimeoutMinMs + 1, hour, `must be an integer number of ms above electionTimeoutMin (${resolved.electionTimeoutMinMs}) and at most 3600000`, config.electionTimeoutMax === undefined);
  requireInteger('heartbeatInterval', resolved.heartbeatIntervalMs, 1, resolved.electionTimeoutMinMs - 1, `must be an integer number of ms >= 1 and < electionTimeoutMin (${resolved.electionTimeoutMinMs})`, config.heartbeatInterval === undefined);
  requireInteger('slowProposeThreshold', resolved.slowProposeThresholdMs, 0, hour, 'must be an integer number of ms from 0 to 3600000');
  // The two snapshot ceilings are independent: the chunk ceiling bounds what this node sends as
  // a leader, the total ceiling what it reassembles as a follower (from chunks sized by another
  // node's ceiling), so neither constrains the other. Small chunks are slow, not unsafe: the
  // sender keeps a bounded window of them in flight.
  requireInteger('snapshotChunkCeiling', resolved.snapshotChunkCeilingBytes, 1, 16 * 1024 * 1024, 'must be an integer from 1 to 16777216 bytes');
  requireInteger('snapshotTotalCeiling', resolved.snapshotTotalCeilingBytes, 1, 2 ** 32, 'must be an integer from 1 to 4294967296 bytes');
  if (resolved.snapshotBytesPerSecond !== Number.POSITIVE_INFINITY) {
    requireInteger('snapshotBytesPerSecond', resolved.snapshotBytesPerSecond, 1024, 2 ** 40, 'must be an integer from 1024 to 1099511627776 bytes per second, or Infinity');
  }
  requireInteger('maxTermJump', resolved.maxTermJump, 1, 2 ** 20, 'must be an integer from 1 to 1048576');
  requireInteger('snapshotTrailingEntries', resolved.snapshotTrailingEntries, 0, 10_000_000, 'must be an integer from 0 to 10000000');
  requireInteger('maxAppendBytes', resolved.maxAppendBytes, 1024, 64 * 1024 * 1024, 'must be an integer from 1024 to 67108864 bytes');
  requireInteger('maxInflightMessages', resolved.maxInflightMessages, 1, 4096, 'must be an integer from 1 to 4096');
  requireInteger('maxPendingProposals', resolved.maxPendingProposals, 1, 10_000_000, 'must be an integer from 1 to 10000000');
  requireInteger('wedgeSuspicionTimeouts', resolved.wedgeSuspicionTimeouts, 1, 1_000_000, 'must be an integer from 1 to 1000000');
  if (typeof resolved.witness !== 'boolean') throw new RangeError(`RaftConfig.witness = ${describeValue(resolved.witness)} is invalid: must be a boolean`);
  if (config.random !== undefined && typeof config.random !== 'function') {
    throw new RangeError(`RaftConfig.random = ${describeValue(config.random)} is invalid: must be a function returning numbers in [0, 1)`);
  }
  requireClock(config.clock);
  return resolved;
}
