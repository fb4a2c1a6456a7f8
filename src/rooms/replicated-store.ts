// createReplicatedStore: an application reducer on top of a RaftNode. Commands are proposed with
// dedup keys and retried (same request id) across leader changes; committed entries are folded
// in log order, each at most once thanks to a ClientSessionTable kept inside the store's own
// snapshot; a snapshot is published every N commands and restored from `install`; reads are
// linearizable (read index, then wait until applied here), retried like a dispatch while the
// peer is outside the cluster; the UI gets an optimistic view.
import { parseAutoClientId } from '../core/auto-client-id.ts';
import { RaftClosedError } from '../core/errors.ts';
import type { ClientId, DedupKey } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createPendingCommands } from './pending-commands.ts';
import { proposeWithRetries } from './propose-with-retries.ts';
import { readWithRetries } from './read-with-retries.ts';
import { createStoreApplier, type StoreApplier } from './store-applier.ts';
import { resolveStoreOptions, type DispatchResult, type ReplicatedStore, type ReplicatedStoreOptions } from './store-options.ts';

export type { DispatchResult, ReplicatedStore, ReplicatedStoreOptions, StoreStats } from './store-options.ts';

export function createReplicatedStore<State, Command>(options: ReplicatedStoreOptions<State, Command> & { readonly node: RaftNode }): ReplicatedStore<State, Command> {
  const resolved = resolveStoreOptions(options);
  const { node } = options;
  const pending = createPendingCommands<State, Command>(options.initialState, resolved.apply);
  let nextRequestId = 1;
  /** This node's client id, learned from its first committed proposal (auto ids are minted inside the node). */
  let ownClientId: ClientId | null = null;
  /** Reducer failures of our own pending commands, reported to their dispatch. */
  const applyErrors = new Map<number, unknown>();
  const isOwn = (key: DedupKey): boolean =>
    ownClientId !== null ? key.clientId === ownClientId : parseAutoClientId(key.clientId)?.nodeId === node.id;
  const applier = createStoreApplier<State, Command>({
    node,
    initialState: options.initialState,
    resolved,
    ownPending: (key) => (isOwn(key) && pending.has(key.requestId) ? key.requestId : undefined),
    confirmed: (state, requestId) => pending.confirmedChanged(state, requestId),
    applyFailed: (requestId, error) => applyErrors.set(requestId, error),
  });
  void follow(node, applier);

  const dispatch = async (command: Command, dispatchOptions: { signal?: AbortSignal } = {}): Promise<DispatchResult<State>> => {
    if (applier.stopped !== null) throw applier.stopped;
    if (pending.size >= resolved.maxPendingCommands) throw new RangeError(`${resolved.maxPendingCommands} commands are already pending; wait for some to apply`);
    const bytes = resolved.commands.encode(command);
    const requestId = nextRequestId++;
    pending.add(requestId, command);
    try {
      const entry = await proposeWithRetries(node, bytes, requestId, resolved, dispatchOptions.signal, applier.stoppedSignal);
      if (entry.dedupKey !== undefined) ownClientId = entry.dedupKey.clientId;
      const after = await applier.waitApplied(entry.index);
      const failure = applyErrors.get(requestId);
      if (failure !== undefined) throw failure;
      return { index: entry.index, state: after };
    } finally {
      applyErrors.delete(requestId);
      pending.drop(requestId);
    }
  };

  return {
    node,
    state: applier.state,
    optimisticState: pending.optimistic,
    appliedIndex: applier.appliedIndex,
    get pendingCount() {
      return pending.size;
    },
    stats: applier.stats,
    subscribe: (listener) => pending.optimistic.subscribe(listener),
    dispatch,
    read: async (readOptions = {}) => {
      if (applier.stopped !== null) throw applier.stopped;
      await readWithRetries(node, applier.appliedIndex, resolved, readOptions, applier.stoppedSignal);
      return applier.state.value;
    },
    close: () => applier.stop(new RaftClosedError('the replicated store was closed')),
  };
}

/** Feeds the node's committed stream, from index 1, to the applier until either stops. */
async function follow<State>(node: RaftNode, applier: StoreApplier<State>): Promise<void> {
  try {
    for await (const committed of node.committedFrom(1)) {
      if (applier.stopped !== null) return;
      applier.consume(committed);
    }
    applier.stop(new RaftClosedError());
  } catch (error) {
    applier.stop(error instanceof Error ? error : new Error(String(error)));
  }
}
