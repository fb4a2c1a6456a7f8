// The page's copies of a worker node's observables. State snapshots reach the page by two routes
// (pushed events and call outcomes), so each carries a version and an older one never overwrites
// a newer one.
import { createStagedWatchable, setTogether, stagedChange, type StagedWatchable } from '../core/observable.ts';
import type { ClusterConfig, NodeId, RaftRole } from '../core/types.ts';
import type { NodeState, SerializedError } from './protocol.ts';

export interface StateMirror {
  readonly role: StagedWatchable<RaftRole>;
  readonly leader: StagedWatchable<NodeId | null>;
  readonly term: StagedWatchable<number>;
  readonly membership: StagedWatchable<ClusterConfig>;
  readonly commitIndex: StagedWatchable<number>;
  readonly compactionFloor: StagedWatchable<number>;
  /** The leader's per-peer match index as last reported (RaftNode.replicationProgress). */
  readonly replicationProgress: () => ReadonlyMap<NodeId, number>;
  /** Applies a newer snapshot; returns the error that stopped the node in the worker, if any. */
  apply(state: NodeState | null): SerializedError | null;
}

export function createStateMirror(initial: NodeState): StateMirror {
  let version = initial.version;
  let progress: ReadonlyMap<NodeId, number> = new Map(initial.replicationProgress);
  const mirror: StateMirror = {
    role: createStagedWatchable<RaftRole>(initial.role),
    leader: createStagedWatchable<NodeId | null>(initial.leader),
    term: createStagedWatchable(initial.term),
    membership: createStagedWatchable<ClusterConfig>(initial.membership, sameClusterConfig),
    commitIndex: createStagedWatchable(initial.commitIndex),
    compactionFloor: createStagedWatchable(initial.compactionFloor),
    replicationProgress: () => progress,
    apply(state) {
      if (state === null || state.version <= version) return null;
      version = state.version;
      progress = new Map(state.replicationProgress);
      // Stored together, then announced: a role listener reading the term sees the new one.
      setTogether([
        stagedChange(mirror.role, state.role),
        stagedChange(mirror.leader, state.leader),
        stagedChange(mirror.term, state.term),
        stagedChange(mirror.membership, state.membership),
        stagedChange(mirror.commitIndex, state.commitIndex),
        stagedChange(mirror.compactionFloor, state.compactionFloor),
      ]);
      return state.stopped;
    },
  };
  return mirror;
}

/**
 * Every state snapshot brings a fresh structured clone of the membership, so identity says
 * nothing here: compared by content (in order, as the engine keeps it), membership listeners hear
 * of a new configuration as they do on createRaftNode, not of every commit or term change.
 */
function sameClusterConfig(left: ClusterConfig, right: ClusterConfig): boolean {
  return sameIds(left.voters, right.voters) && sameIds(left.learners ?? [], right.learners ?? []) && (left.learners === undefined) === (right.learners === undefined);
}

function sameIds(left: readonly NodeId[], right: readonly NodeId[]): boolean {
  return left.length === right.length && left.every((id, position) => right[position] === id);
}
