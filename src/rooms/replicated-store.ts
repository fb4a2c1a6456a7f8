// createReplicatedStore: an application reducer on top of a RaftNode. Commands are proposed with
// dedup keys and retried (same request id) across leader changes; committed entries are folded
// in log order, each at most once thanks to a ClientSessionTable kept inside the store's own
// snapshot; a snapshot is published every N commands and restored from `install`; reads are
// linearizable (read index, then wait until applied here), retried like a dispatch while the
// peer is outside the cluster; the UI gets an optimistic view. Commands and snapshots carry the
// store's version (above 0), and a newer one stops it (`outdated`) instead of splitting the state.
import { parseAutoClientId } from '../core/auto-client-id.ts';
import { LeadershipLostError, RaftClosedError } from '../core/errors.ts';
import type { ClientSessionTable } from '../core/client-session-table.ts';
import type { ClientId, DedupKey } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createPendingCommands } from './pending-commands.ts';
import { proposeWithRetries } from './propose-with-retries.ts';
import { readWithRetries } from './read-with-retries.ts';
import { createStoreApplier, type OwnOutcome, type StoreApplier } from './store-applier.ts';
import { stampCommand } from './store-command-stamp.ts';
import { resolveStoreOptions, type DispatchResult, type ReplicatedStore, type ReplicatedStoreOptions } from './store-options.ts';

export type { DispatchResult, ReplicatedStore, ReplicatedStoreOptions, StoreStats } from './store-options.ts';

export function createReplicatedStore<State, Command>(options: ReplicatedStoreOptions<State, Command> & { readonly node: RaftNode }): ReplicatedStore<State, Command> {
  const resolved = resolveStoreOptions(options);
  const { node } = options;
  const pending = createPendingCommands<State, Command>(options.initialState, resolved.apply);
  // Request ids start at 1 in every run: they are this incarnation's client id's, and the node
  // mints a fresh auto id at every start.
  let nextRequestId = 1;
  /**
   * For a RaftNode that does not name its client id (RaftNode.clientId is optional; every node of
   * raftmesh names it): learned from our first committed proposal, and until then guessed by the
   * node id an auto client id starts with, as before RaftNode.clientId existed. The guess can take
   * an earlier run's entries (same node id, same small request ids) for this run's dispatches,
   * which is why raftmesh's nodes name their id; without the guess, such a node's first dispatches
   * folded before their proposal resolved were not counted as ours at all, and reported an
   * unknown outcome though they applied (a review, 2026-12-06).
   */
  let learnedClientId: ClientId | null = null;
  const ownClientId = (): ClientId | null => (node.clientId === undefined ? learnedClientId : node.clientId.value);
  /** What this peer saw the reducer make of each pending command of ours that it folded itself. */
  const outcomes = new Map<number, OwnOutcome>();
  const isOwn = (key: DedupKey): boolean => {
    const own = ownClientId();
    if (own !== null || node.clientId !== undefined) return key.clientId === own;
    return parseAutoClientId(key.clientId)?.nodeId === node.id;
  };
  /** Our pending commands that an installed snapshot covers: they are in its state already. */
  const coveredBy = (sessions: ClientSessionTable): number[] => {
    const clientId = ownClientId();
    return clientId === null ? [] : pending.requestIds().filter((requestId) => sessions.hasApplied({ clientId, requestId }));
  };
  const applier = createStoreApplier<State, Command>({
    node,
    initialState: options.initialState,
    resolved,
    ownPending: (key) => (isOwn(key) && pending.has(key.requestId) ? key.requestId : undefined),
    confirmed: (state, requestId) => pending.confirmedChanged(state, requestId === undefined ? [] : [requestId]),
    ownFolded: (requestId, outcome) => outcomes.set(requestId, outcome),
    installed: (state, sessions) => pending.confirmedChanged(state, coveredBy(sessions)),
  });
  void follow(node, applier);

  const dispatch = async (command: Command, dispatchOptions: { signal?: AbortSignal } = {}): Promise<DispatchResult<State>> => {
    if (applier.stopped !== null) throw applier.stopped;
    const durable = durableIdentityRefusal(node);
    if (durable !== null) throw durable;
    if (pending.size >= resolved.maxPendingCommands) throw new RangeError(`${resolved.maxPendingCommands} commands are already pending; wait for some to apply`);
    const bytes = stampCommand(resolved.version, resolved.commands.encode(command));
    let requestId = nextRequestId++;
    pending.add(requestId, command);
    // A retry after attempts that all were refused before the log takes the newest id
    // (propose-with-retries.ts): the old one may have fallen out of the window meanwhile.
    const freshRequestId = (refused: number): number => {
      requestId = nextRequestId++;
      pending.renumber(refused, requestId);
      return requestId;
    };
    try {
      const entry = await proposeWithRetries(node, bytes, requestId, resolved, dispatchOptions.signal, applier.stoppedSignal, freshRequestId);
      if (entry.dedupKey !== undefined) learnedClientId = entry.dedupKey.clientId;
      const after = await applier.waitApplied(entry.index);
      const outcome = outcomes.get(requestId);
      // A keyless entry (identity none) cannot be told apart from anyone else's: not judged.
      if (outcome === undefined && entry.dedupKey !== undefined) throw new LeadershipLostError(unseenOutcome);
      if (outcome?.type === 'refused') throw outcome.error;
      return { index: entry.index, state: after };
    } finally {
      outcomes.delete(requestId);
      pending.drop(requestId);
    }
  };

  return {
    node,
    state: applier.state,
    optimisticState: pending.optimistic,
    appliedIndex: applier.appliedIndex,
    outdated: applier.outdated,
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

/**
 * Why a committed command can end in "outcome unknown": this peer did not fold its entry itself.
 * It came inside an installed snapshot (this peer lagged while the others compacted), and a
 * snapshot holds the state and the session table, not what the reducer made of each command.
 */
const unseenOutcome =
  'the command committed, but its entry reached this peer inside a snapshot (or under a client id the node has since replaced), so whether the reducer applied or refused it is unknown here; the outcome is unknown';

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

/**
 * The store numbers its requests from 1 in every run, which is exactly-once only under a client id
 * that is new in every run: the auto id a node mints at each start. Under a durable id the session
 * table keeps the previous run's high-water mark, so this run's first commands were skipped as
 * replays of that run's and their dispatches resolved with an earlier command's entry, applied
 * nowhere (a newcomer's first hour in the browser, 2026-12-07). So dispatch refuses on such a node.
 * The store itself is fine there: it folds the log, each key once, and an application that
 * proposes on the node with its own request ids (README "Exactly-once") gets exactly-once across
 * restarts with the store's state. A node that does not name its client id (RaftNode.clientId is
 * optional) cannot be checked here.
 */
function durableIdentityRefusal(node: RaftNode): TypeError | null {
  const clientId = node.clientId?.value ?? null;
  if (clientId === null || parseAutoClientId(clientId) !== null) return null;
  return new TypeError(
    `ReplicatedStore.dispatch: node ${node.id} stamps its proposals with the durable client id ${JSON.stringify(clientId)}, but the store numbers its requests from 1 in every run, so under an id that outlives a run they would be skipped as the earlier run's replays. ` +
      'Start the node with the default identity ({ type: "auto" }) to dispatch. For exactly-once across restarts, make the command idempotent in the reducer (a command id the state remembers), or propose on the node itself with your own request ids (README "Exactly-once"): the store folds those once each.',
  );
}
