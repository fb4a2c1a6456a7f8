// The apply side of a replicated store: folds the committed stream into the confirmed state in
// log order, each command at most once (the session table travels in the store's snapshot),
// publishes a snapshot every N commands, restores from `install`, and settles whoever waits for
// an index to be applied. A command or snapshot stamped with a newer version than the store's
// stops it there (store-command-stamp.ts, store-version-error.ts): nothing after it is folded.
import { ClientSessionTable } from '../core/client-session-table.ts';
import { createWatchable, type Watchable } from '../core/observable.ts';
import type { Committed, DedupKey, LogEntry } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { readCommandStamp, type CommandStamp } from './store-command-stamp.ts';
import type { ResolvedStoreOptions, StoreStats } from './store-options.ts';
import { decodeStoreSnapshot, encodeStoreSnapshot } from './store-snapshot.ts';
import { StoreVersionError } from './store-version-error.ts';

interface AppliedWaiter<State> {
  readonly index: number;
  /** Settled with the state right after its index was applied (not a later one). */
  resolve(state: State): void;
  reject(error: unknown): void;
}

export interface StoreApplierOptions<State, Command> {
  readonly node: RaftNode;
  readonly initialState: State;
  readonly resolved: ResolvedStoreOptions<State, Command>;
  /** The request id if this key is one of this peer's pending dispatches. */
  readonly ownPending: (key: DedupKey) => number | undefined;
  /** The confirmed state changed, maybe by applying our pending `requestId`. */
  readonly confirmed: (state: State, requestId: number | undefined) => void;
  /** Our pending `requestId` was folded here (not skipped as a duplicate): what the reducer made of it. */
  readonly ownFolded: (requestId: number, outcome: OwnOutcome) => void;
  /**
   * A snapshot replaced the confirmed state. Our pending commands that its session table holds
   * are in `state` already, but whether the reducer applied or refused them is not recorded.
   */
  readonly installed: (state: State, sessions: ClientSessionTable) => void;
}

/** What the reducer made of one of our commands, as this peer folded it. */
export type OwnOutcome = { readonly type: 'applied' } | { readonly type: 'refused'; readonly error: unknown };

export interface StoreApplier<State> {
  readonly state: Watchable<State>;
  readonly appliedIndex: Watchable<number>;
  readonly stats: StoreStats;
  /** Set, once, when a newer version's command or snapshot stopped the applier (`stopped` is then that error). */
  readonly outdated: Watchable<StoreVersionError | null>;
  readonly stopped: Error | null;
  /** Aborted, with the `stopped` error as its reason, once the applier stops: ends waits that no applied index will end. */
  readonly stoppedSignal: AbortSignal;
  consume(committed: Committed): void;
  waitApplied(index: number): Promise<State>;
  stop(error: Error): void;
}

export function createStoreApplier<State, Command>(options: StoreApplierOptions<State, Command>): StoreApplier<State> {
  const { node, resolved } = options;
  const state = createWatchable<State>(options.initialState);
  const appliedIndex = createWatchable(0);
  const outdated = createWatchable<StoreVersionError | null>(null);
  const stats: StoreStats = { applied: 0, duplicates: 0, undecodable: 0, failed: 0, snapshotsPublished: 0, snapshotsInstalled: 0 };
  let sessions = new ClientSessionTable();
  let appliedSinceSnapshot = 0;
  let waiters: AppliedWaiter<State>[] = [];
  let stopped: Error | null = null;
  const stopping = new AbortController();

  /** Never throws: the outcome is the same on every peer (bytes this store did not write, a reducer that threw). */
  const applyCommand = (stamp: CommandStamp, current: State): { readonly state: State; readonly outcome: OwnOutcome } => {
    let command: Command;
    try {
      if (stamp.type === 'garbled') throw new RangeError(stamp.reason);
      command = resolved.commands.decode(stamp.body);
    } catch (error) {
      stats.undecodable += 1;
      return { state: current, outcome: { type: 'refused', error } };
    }
    try {
      const next = resolved.apply(current, command);
      stats.applied += 1;
      return { state: next, outcome: { type: 'applied' } };
    } catch (error) {
      stats.failed += 1;
      return { state: current, outcome: { type: 'refused', error } };
    }
  };

  const applyEntry = (entry: LogEntry, stamp: CommandStamp): void => {
    const key = entry.dedupKey;
    const own = key === undefined ? undefined : options.ownPending(key);
    let next = state.value;
    if (!sessions.shouldApply(key)) {
      stats.duplicates += 1;
    } else {
      const folded = applyCommand(stamp, next);
      next = folded.state;
      if (own !== undefined) options.ownFolded(own, folded.outcome);
      appliedSinceSnapshot += 1;
    }
    state.set(next);
    options.confirmed(next, own);
  };

  /**
   * Stops at a newer version's entry or snapshot: `state` and `appliedIndex` stay before it, and
   * waiters reject (stop) before `outdated` announces it, so a listener finds the store refusing.
   */
  const stopOutdated = (seenVersion: number, index: number): void => {
    const error = new StoreVersionError(resolved.version, seenVersion, index);
    stop(error);
    outdated.set(error);
  };

  const consumeEntry = (entry: LogEntry): void => {
    const stamp = readCommandStamp(entry.command);
    if (stamp.type === 'versioned' && stamp.version > resolved.newestFolded) return stopOutdated(stamp.version, entry.index);
    applyEntry(entry, stamp);
    appliedIndex.set(entry.index);
    maybePublishSnapshot();
  };

  const install = (throughIndex: number, bytes: Uint8Array): void => {
    const parts = decodeStoreSnapshot(bytes);
    if (parts.reducerVersion > resolved.newestFolded) return stopOutdated(parts.reducerVersion, throughIndex);
    sessions = parts.sessions;
    const restored = resolved.restore(parts.state);
    state.set(restored);
    options.installed(restored, sessions);
    appliedSinceSnapshot = 0;
    stats.snapshotsInstalled += 1;
    appliedIndex.set(throughIndex);
  };

  const maybePublishSnapshot = (): void => {
    if (appliedSinceSnapshot < resolved.snapshotEvery) return;
    appliedSinceSnapshot = 0;
    try {
      node.publishSnapshot({ throughIndex: appliedIndex.value, state: encodeStoreSnapshot(sessions, resolved.snapshot(state.value), resolved.version) });
      stats.snapshotsPublished += 1;
    } catch {
      // The node closed under us: the apply loop ends on its own.
    }
  };

  const settleWaiters = (): void => {
    const ready = waiters.filter((waiter) => waiter.index <= appliedIndex.value);
    if (ready.length === 0) return;
    waiters = waiters.filter((waiter) => waiter.index > appliedIndex.value);
    for (const waiter of ready) waiter.resolve(state.value);
  };

  function stop(error: Error): void {
    if (stopped !== null) return;
    stopped = error;
    stopping.abort(error);
    const all = waiters;
    waiters = [];
    for (const waiter of all) waiter.reject(error);
  }

  return {
    state,
    appliedIndex,
    stats,
    outdated,
    get stopped() {
      return stopped;
    },
    stoppedSignal: stopping.signal,
    consume(committed) {
      if (stopped !== null) return;
      if (committed.type === 'entry') consumeEntry(committed.entry);
      else if (committed.type === 'internal') appliedIndex.set(committed.index);
      else install(committed.snapshot.throughIndex, committed.snapshot.state);
      settleWaiters();
    },
    waitApplied: (index) =>
      new Promise<State>((resolve, reject) => {
        if (stopped !== null) return reject(stopped);
        if (appliedIndex.value >= index) return resolve(state.value);
        waiters.push({ index, resolve, reject });
      }),
    stop,
  };
}
