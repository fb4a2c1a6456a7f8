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
