// The page's copies of a worker node's observables. State snapshots reach the page by two routes
// (pushed events and call outcomes), so each carries a version and an older one never overwrites
// a newer one.
import { sameConfigInOrder } from '../core/config-compare.ts';
import { createStagedWatchable, setTogether, stagedChange, type StagedWatchable } from '../core/observable.ts';
import type { ClientId, ClusterConfig, NodeId, RaftRole } from '../core/types.ts';
import type { NodeState, SerializedError } from './protocol.ts';

export interface StateMirror {
  readonly role: StagedWatchable<RaftRole>;
  readonly leader: StagedWatchable<NodeId | null>;
  readonly term: StagedWatchable<number>;
  readonly membership: StagedWatchable<ClusterConfig>;
  readonly commitIndex: StagedWatchable<number>;
  readonly compactionFloor: StagedWatchable<number>;
  readonly clientId: StagedWatchable<ClientId | null>;
  /** The leader's per-peer match index as last reported (RaftNode.replicationProgress). */
  readonly replicationProgress: () => ReadonlyMap<NodeId, number>;
  /** The leader's peers not answering it, as last reported (RaftNode.silentPeers). */
  readonly silentPeers: () => ReadonlySet<NodeId>;
  /**
   * The worker's applied index as this page knows it (RaftNode.applied): the last reported, or
   * more when an entry handed out or a proposal resolved shows it applied further (raiseApplied).
   */
  readonly applied: StagedWatchable<number>;
  /** An entry handed out or a proposal resolved through `index`: applied in the worker by then. */
  raiseApplied(index: number): void;
  /** Applies a newer snapshot; returns the error that stopped the node in the worker, if any. */
  apply(state: NodeState | null): SerializedError | null;
}

export function createStateMirror(initial: NodeState): StateMirror {
  let version = initial.version;
  let progress: ReadonlyMap<NodeId, number> = new Map(initial.replicationProgress);
  let silent: ReadonlySet<NodeId> = new Set(initial.silentPeers);
  const mirror: StateMirror = {
    role: createStagedWatchable<RaftRole>(initial.role),
    leader: createStagedWatchable<NodeId | null>(initial.leader),
    term: createStagedWatchable(initial.term),
    membership: createStagedWatchable<ClusterConfig>(initial.membership, sameConfigInOrder),
    commitIndex: createStagedWatchable(initial.commitIndex),
    compactionFloor: createStagedWatchable(initial.compactionFloor),
    clientId: createStagedWatchable<ClientId | null>(initial.clientId),
    replicationProgress: () => progress,
    silentPeers: () => silent,
    applied: createStagedWatchable(initial.appliedIndex),
    raiseApplied(index) {
      if (index > mirror.applied.value) mirror.applied.set(index);
    },
    apply(state) {
      if (state === null || state.version <= version) return null;
      version = state.version;
      progress = new Map(state.replicationProgress);
      silent = new Set(state.silentPeers);
      // Stored together, then announced: a role listener reading the term sees the new one.
      setTogether([
        stagedChange(mirror.role, state.role),
        stagedChange(mirror.leader, state.leader),
        stagedChange(mirror.term, state.term),
        stagedChange(mirror.membership, state.membership),
        stagedChange(mirror.commitIndex, state.commitIndex),
        stagedChange(mirror.compactionFloor, state.compactionFloor),
        stagedChange(mirror.clientId, state.clientId),
        // Never lowered: what the page saw handed out or resolved stays applied.
        stagedChange(mirror.applied, Math.max(mirror.applied.value, state.appliedIndex)),
      ]);
      return state.stopped;
    },
  };
  return mirror;
}
