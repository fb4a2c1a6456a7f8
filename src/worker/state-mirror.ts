// The page's copies of a worker node's observables. State snapshots reach the page by two routes
// (pushed events and call outcomes), so each carries a version and an older one never overwrites
// a newer one.
import { createWatchable, type WritableWatchable } from '../core/observable.ts';
import type { ClusterConfig, NodeId, RaftRole } from '../core/types.ts';
import type { NodeState, SerializedError } from './protocol.ts';

export interface StateMirror {
  readonly role: WritableWatchable<RaftRole>;
  readonly leader: WritableWatchable<NodeId | null>;
  readonly term: WritableWatchable<number>;
  readonly membership: WritableWatchable<ClusterConfig>;
  readonly commitIndex: WritableWatchable<number>;
  readonly compactionFloor: WritableWatchable<number>;
  /** The leader's per-peer match index as last reported (RaftNode.replicationProgress). */
  readonly replicationProgress: () => ReadonlyMap<NodeId, number>;
  /** Applies a newer snapshot; returns the error that stopped the node in the worker, if any. */
  apply(state: NodeState | null): SerializedError | null;
}

export function createStateMirror(initial: NodeState): StateMirror {
  let version = initial.version;
  let progress: ReadonlyMap<NodeId, number> = new Map(initial.replicationProgress);
  const mirror: StateMirror = {
    role: createWatchable<RaftRole>(initial.role),
    leader: createWatchable<NodeId | null>(initial.leader),
    term: createWatchable(initial.term),
    membership: createWatchable<ClusterConfig>(initial.membership),
    commitIndex: createWatchable(initial.commitIndex),
    compactionFloor: createWatchable(initial.compactionFloor),
    replicationProgress: () => progress,
    apply(state) {
      if (state === null || state.version <= version) return null;
      version = state.version;
      mirror.role.set(state.role);
      mirror.leader.set(state.leader);
      mirror.term.set(state.term);
      mirror.membership.set(state.membership);
      mirror.commitIndex.set(state.commitIndex);
      mirror.compactionFloor.set(state.compactionFloor);
      progress = new Map(state.replicationProgress);
      return state.stopped;
    },
  };
  return mirror;
}
