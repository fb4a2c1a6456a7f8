// Options, defaults and bounds of a replicated store (createReplicatedStore).
import { describeValue } from '../core/describe-value.ts';
import type { Clock } from '../core/config.ts';
import type { Unsubscribe, Watchable } from '../core/observable.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { realClock } from '../driver/node-options.ts';
import { jsonSerializer, type Serializer } from './serializer.ts';
import { maxStoreVersion } from './store-command-stamp.ts';
import type { StoreVersionError } from './store-version-error.ts';

export interface ReplicatedStoreOptions<State, Command> {
  readonly initialState: State;
  /**
   * The reducer. Must be deterministic (the same state and command give the same state on
   * every peer) and must not mutate `state`: the optimistic view folds pending commands over
   * the confirmed state and must not change it. A throw leaves the state as it was (on every
   * peer alike) and rejects the dispatch that proposed the command.
   */
  apply(state: State, command: Command): State;
  /** State to snapshot bytes (default: `stateSerializer.encode`). */
  snapshot?(state: State): Uint8Array;
  /** Snapshot bytes to state (default: `stateSerializer.decode`). */
  restore?(bytes: Uint8Array): State;
  /**
   * Publish a snapshot (and let Raft compact) every this many applied commands: an integer from 1
   * to 10,000,000, default 1,000; or `Infinity`: never. Never is for a store that cannot compute
   * the state from the commands (an edge peer that does not know the application's reducer): its
   * log then grows without bound, compacted only by the snapshots the cluster installs on it.
   */
  readonly snapshotEvery?: number;
  /** Commands as log bytes; default JSON (UTF-8). */
  readonly commandSerializer?: Serializer<Command>;
  /** State as snapshot bytes when snapshot/restore are not given; default JSON (UTF-8). */
  readonly stateSerializer?: Serializer<State>;
  /** Proposal attempts per dispatch across leader changes (same request id), default 8. */
  readonly maxAttempts?: number;
  /** First retry delay, doubled per attempt up to 2 s; default 50 ms. */
  readonly retryDelayMs?: number;
  /** Dispatches in flight at most (each is also an optimistic command); default 256. */
  readonly maxPendingCommands?: number;
  /** Time for retry delays; default real timers (a test passes its virtual clock). */
  readonly clock?: Clock;
  /**
   * The version of this reducer and of the command and state formats: an integer from 0 to
   * 2^31-1, default 0 (unversioned: commands and snapshots are written as before versions existed).
   * Contract: a reducer at version V folds every command, and restores every snapshot, of the
   * versions up to V. Bump it whenever a release adds a command kind or changes the meaning or the
   * format of commands or state. A store above 0 stamps each command and snapshot it writes with
   * its version. A store that meets a command or an installed snapshot of a higher version than
   * its own stops folding there, rather than fold the log differently from the newer peers (whose
   * states would then split for good, with no error anywhere): see `ReplicatedStore.outdated`.
   * Entries written before the application set a version read as version 0. Peers that run a
   * release from before versions existed cannot tell: they count stamped commands as undecodable
   * (`stats.undecodable`) and skip them.
   */
  readonly version?: number;
}

export interface DispatchResult<State> {
  /** The log index the command committed at. */
  readonly index: number;
  /** The confirmed state right after this peer applied it. */
  readonly state: State;
}

export interface StoreStats {
  /** Commands applied to the confirmed state. */
  applied: number;
  /** Entries skipped because their dedup key was already applied (a retry that committed twice). */
  duplicates: number;
  /** Entries whose bytes the command serializer refused (not written by this store). */
  undecodable: number;
  /** Commands whose reducer threw (state left unchanged). */
  failed: number;
  snapshotsPublished: number;
  snapshotsInstalled: number;
}

export interface ReplicatedStore<State, Command> {
  readonly node: RaftNode;
  /** Committed state, as applied on this peer. */
  readonly state: Watchable<State>;
  /** `state` with this peer's pending commands applied over it, for the UI. */
  readonly optimisticState: Watchable<State>;
  /** Index of the last committed entry folded into `state`. */
  readonly appliedIndex: Watchable<number>;
  /** Dispatches not yet applied or failed. */
  readonly pendingCount: number;
  readonly stats: Readonly<StoreStats>;
  /**
   * Null while the store folds; a StoreVersionError once it met a command or an installed snapshot
   * written by a newer version of the application (`ReplicatedStoreOptions.version`). From then on
   * `state` and `appliedIndex` stay as they were before that entry, no snapshot is published,
   * pending dispatches and reads reject with that error and later calls throw it: the page should
   * ask its user to reload it with the newer app. A dispatch rejected this way has an unknown
   * outcome: its command may have committed and been applied by the newer peers. The node is not
   * stopped (it votes, stores and acknowledges as before), so nothing is lost: a store with the
   * newer reducer on the same storage folds the log (or the snapshot) from the start again.
   */
  readonly outdated: Watchable<StoreVersionError | null>;
  /** Listens to the optimistic state (what a UI renders). */
  subscribe(listener: (state: State) => void): Unsubscribe;
  /**
   * Proposes, retrying with the same request id across leader changes; resolves once applied here.
   * Rejected with a StoreVersionError when the store stops at a newer version's entry (`outdated`)
   * first: the outcome is then unknown (the command may have committed, applied by newer peers).
   */
  dispatch(command: Command, options?: { signal?: AbortSignal }): Promise<DispatchResult<State>>;
  /**
   * A linearizable read: the confirmed state at least as new as every write finished before the
   * call. Retried, like a dispatch, while this peer is outside the cluster (NotMemberError), for up
   * to `readmissionPatienceMs`; the signal or `close()` ends that wait, and the wait to apply the
   * read index here, at once.
   */
  read(options?: { signal?: AbortSignal }): Promise<State>;
  /**
   * Stops applying; pending dispatches and reads reject with one RaftClosedError, at once unless an
   * attempt is in flight at the node (that one settles there first; no new attempt starts). The
   * node is the caller's to close.
   */
  close(): void;
}

/**
 * Marks the options of a store whose reducer reads no command (an edge peer without the
 * application's reducer, a witness): it must not stop at a newer version of an application it
 * does not know, so it folds every version, and writes as version 0 (the bytes it is handed,
 * unstamped). Not public: src/edge's store options set it.
 */
export const foldsEveryVersion: unique symbol = Symbol('raftmesh: the store folds every version');

export interface PassThroughStoreOptions {
  readonly [foldsEveryVersion]?: true;
}

export interface ResolvedStoreOptions<State, Command> {
  readonly apply: (state: State, command: Command) => State;
  readonly snapshot: (state: State) => Uint8Array;
  readonly restore: (bytes: Uint8Array) => State;
  readonly commands: Serializer<Command>;
  /** Infinity: never. */
  readonly snapshotEvery: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly maxPendingCommands: number;
  readonly clock: Clock;
  /** The version the store writes (stamps) and names in a StoreVersionError. */
  readonly version: number;
  /** The newest version it folds: `version`, or Infinity for a store that reads no command. */
  readonly newestFolded: number;
}

function boundedInteger(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`ReplicatedStoreOptions.${name} = ${describeValue(value)} must be an integer in ${min}..${max}`);
  return value;
}

/**
 * Infinity (never) rather than a large count for a store that cannot compute its state: a count is
 * reached in the end (ten million commands take a day at 100 writes/s), and a wrong state published.
 */
function snapshotEveryOf(value: number | undefined): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (value === undefined || (Number.isSafeInteger(value) && value >= 1 && value <= 10_000_000)) return value ?? 1_000;
  throw new RangeError(`ReplicatedStoreOptions.snapshotEvery = ${describeValue(value)} must be an integer in 1..10000000, or Infinity to never publish`);
}

export function resolveStoreOptions<State, Command>(options: ReplicatedStoreOptions<State, Command> & PassThroughStoreOptions): ResolvedStoreOptions<State, Command> {
  if (typeof options.apply !== 'function') throw new TypeError('ReplicatedStoreOptions.apply must be a reducer (state, command) => state');
  const states = options.stateSerializer ?? jsonSerializer<State>();
  const version = boundedInteger('version', options.version, 0, 0, maxStoreVersion);
  return {
    apply: options.apply,
    snapshot: options.snapshot ?? ((state) => states.encode(state)),
    restore: options.restore ?? ((bytes) => states.decode(bytes)),
    commands: options.commandSerializer ?? jsonSerializer<Command>(),
    snapshotEvery: snapshotEveryOf(options.snapshotEvery),
    maxAttempts: boundedInteger('maxAttempts', options.maxAttempts, 8, 1, 100),
    retryDelayMs: boundedInteger('retryDelayMs', options.retryDelayMs, 50, 0, 60_000),
    maxPendingCommands: boundedInteger('maxPendingCommands', options.maxPendingCommands, 256, 1, 1_000),
    clock: options.clock ?? realClock,
    version,
    newestFolded: options[foldsEveryVersion] === true ? Number.POSITIVE_INFINITY : version,
  };
}
