// createReplicatedStore: an application reducer on top of a RaftNode. Commands are proposed with
// dedup keys and retried (same request id) across leader changes; committed entries are folded
// in log order, each at most once thanks to a ClientSessionTable kept inside the store's own
// snapshot; a snapshot is published every N commands and restored from `install`; reads are
// linearizable (read index, then wait until applied here); the UI gets an optimistic view.
import { parseAutoClientId } from '../core/auto-client-id.ts';
import { ClientSessionTable } from '../core/client-session-table.ts';
import { RaftClosedError } from '../core/errors.ts';
import { createWatchable } from '../core/observable.ts';
import type { ClientId, Committed, DedupKey, LogEntry } from '../core/types.ts';
import { awaitRead } from '../driver/await-read.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createPendingCommands } from './pending-commands.ts';
import { proposeWithRetries } from './propose-with-retries.ts';
import { resolveStoreOptions, type DispatchResult, type ReplicatedStore, type ReplicatedStoreOptions, type StoreStats } from './store-options.ts';
import { decodeStoreSnapshot, encodeStoreSnapshot } from './store-snapshot.ts';

export type { DispatchResult, ReplicatedStore, ReplicatedStoreOptions, StoreStats } from './store-options.ts';

interface AppliedWaiter<State> {
  readonly index: number;
  /** Settled with the state right after its index was applied (not a later one). */
  resolve(state: State): void;
  reject(error: unknown): void;
}

export function createReplicatedStore<State, Command>(options: ReplicatedStoreOptions<State, Command> & { readonly node: RaftNode }): ReplicatedStore<State, Command> {
  const resolved = resolveStoreOptions(options);
  const { node } = options;
  const state = createWatchable<State>(options.initialState);
  const appliedIndex = createWatchable(0);
  const pending = createPendingCommands<State, Command>(options.initialState, resolved.apply);
  const stats: StoreStats = { applied: 0, duplicates: 0, undecodable: 0, failed: 0, snapshotsPublished: 0, snapshotsInstalled: 0 };
  let sessions = new ClientSessionTable();
  let appliedSinceSnapshot = 0;
  let nextRequestId = 1;
  /** This node's client id, learned from its first committed proposal (auto ids are minted inside the node). */
  let ownClientId: ClientId | null = null;
  /** Reducer failures of our own pending commands, reported to their dispatch. */
  const applyErrors = new Map<number, unknown>();
  let waiters: AppliedWaiter<State>[] = [];
  let stopped: Error | null = null;

  const isOwn = (key: DedupKey): boolean =>
    ownClientId !== null ? key.clientId === ownClientId : parseAutoClientId(key.clientId)?.nodeId === node.id;

  const applyEntry = (entry: LogEntry): void => {
    const key = entry.dedupKey;
    let next = state.value;
    if (!sessions.shouldApply(key)) {
      stats.duplicates += 1;
    } else {
      let command: Command;
      try {
        command = resolved.commands.decode(entry.command);
      } catch {
        stats.undecodable += 1;
        return;
      }
      try {
        next = resolved.apply(next, command);
        stats.applied += 1;
      } catch (error) {
        stats.failed += 1;
        if (key !== undefined && isOwn(key) && pending.has(key.requestId)) applyErrors.set(key.requestId, error);
      }
      appliedSinceSnapshot += 1;
    }
    state.set(next);
    pending.confirmedChanged(next, key !== undefined && isOwn(key) ? key.requestId : undefined);
  };

  const install = (throughIndex: number, bytes: Uint8Array): void => {
    const parts = decodeStoreSnapshot(bytes);
    sessions = parts.sessions;
    const restored = resolved.restore(parts.state);
    state.set(restored);
    pending.confirmedChanged(restored);
    appliedSinceSnapshot = 0;
    stats.snapshotsInstalled += 1;
    appliedIndex.set(throughIndex);
  };

  const maybePublishSnapshot = (): void => {
    if (appliedSinceSnapshot < resolved.snapshotEvery) return;
    appliedSinceSnapshot = 0;
    try {
      node.publishSnapshot({ throughIndex: appliedIndex.value, state: encodeStoreSnapshot(sessions, resolved.snapshot(state.value)) });
      stats.snapshotsPublished += 1;
    } catch {
      // The node closed under us: the apply loop ends on its own.
    }
  };

  const consume = (committed: Committed): void => {
    switch (committed.type) {
      case 'entry':
        applyEntry(committed.entry);
        appliedIndex.set(committed.entry.index);
        maybePublishSnapshot();
        break;
      case 'internal':
        appliedIndex.set(committed.index);
        break;
      case 'install':
        install(committed.snapshot.throughIndex, committed.snapshot.state);
        break;
    }
    settleWaiters();
  };

  const settleWaiters = (): void => {
    const ready = waiters.filter((waiter) => waiter.index <= appliedIndex.value);
    if (ready.length === 0) return;
    waiters = waiters.filter((waiter) => waiter.index > appliedIndex.value);
    for (const waiter of ready) waiter.resolve(state.value);
  };

  const stop = (error: Error): void => {
    if (stopped !== null) return;
    stopped = error;
    const all = waiters;
    waiters = [];
    for (const waiter of all) waiter.reject(error);
  };

  void (async () => {
    try {
      for await (const committed of node.committedFrom(1)) {
        if (stopped !== null) return;
        consume(committed);
      }
      stop(new RaftClosedError());
    } catch (error) {
      stop(error instanceof Error ? error : new Error(String(error)));
    }
  })();

  const waitApplied = (index: number): Promise<State> =>
    new Promise<State>((resolve, reject) => {
      if (stopped !== null) return reject(stopped);
      if (appliedIndex.value >= index) return resolve(state.value);
      waiters.push({ index, resolve, reject });
    });

  const dispatch = async (command: Command, dispatchOptions: { signal?: AbortSignal } = {}): Promise<DispatchResult<State>> => {
    if (stopped !== null) throw stopped;
    if (pending.size >= resolved.maxPendingCommands) throw new RangeError(`${resolved.maxPendingCommands} commands are already pending; wait for some to apply`);
    const bytes = resolved.commands.encode(command);
    const requestId = nextRequestId++;
    pending.add(requestId, command);
    try {
      const entry = await proposeWithRetries(node, bytes, requestId, resolved, dispatchOptions.signal);
      if (entry.dedupKey !== undefined) ownClientId = entry.dedupKey.clientId;
      const after = await waitApplied(entry.index);
      const failure = applyErrors.get(requestId);
      applyErrors.delete(requestId);
      if (failure !== undefined) throw failure;
      return { index: entry.index, state: after };
    } finally {
      applyErrors.delete(requestId);
      pending.drop(requestId);
    }
  };

  return {
    node,
    state,
    optimisticState: pending.optimistic,
    appliedIndex,
    get pendingCount() {
      return pending.size;
    },
    stats,
    subscribe: (listener) => pending.optimistic.subscribe(listener),
    dispatch,
    read: async (readOptions = {}) => {
      if (stopped !== null) throw stopped;
      await awaitRead(node, appliedIndex, readOptions);
      return state.value;
    },
    close: () => stop(new RaftClosedError('the replicated store was closed')),
  };
}
