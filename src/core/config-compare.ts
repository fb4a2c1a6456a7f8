// Order-insensitive comparison of cluster configurations.
import type { ClusterConfig, NodeId } from './types.ts';

export function sameMembers(left: readonly NodeId[], right: readonly NodeId[]): boolean {
  if (left.length !== right.length) return false;
  const set = new Set(left);
  return right.every((id) => set.has(id));
}

export function sameConfig(left: ClusterConfig, right: ClusterConfig): boolean {
  return sameMembers(left.voters, right.voters) && sameMembers(left.learners ?? [], right.learners ?? []);
}

/**
 * The same configuration as the engine holds it: voters and learners in order, learners present
 * or not. What a node's `membership` watchable compares with: each config entry a follower
 * decodes (and each state snapshot a worker's page receives) is a fresh object, so identity would
 * announce C_new again after C_old,new had shown its new half, though nothing changed.
 */
export function sameConfigInOrder(left: ClusterConfig, right: ClusterConfig): boolean {
  return sameIdsInOrder(left.voters, right.voters) && sameIdsInOrder(left.learners ?? [], right.learners ?? []) && (left.learners === undefined) === (right.learners === undefined);
}

function sameIdsInOrder(left: readonly NodeId[], right: readonly NodeId[]): boolean {
  return left.length === right.length && left.every((id, position) => right[position] === id);
}
