// Quorum arithmetic for simple majorities and joint consensus (§6): while a configuration is
// joint, a decision needs a majority of the old voters AND a majority of the new voters.
import type { ConfigPayload, NodeId } from './types.ts';

export interface Membership {
  readonly payload: ConfigPayload;
  /** Every voter of either half (the nodes whose votes and acknowledgements count). */
  readonly allVoters: ReadonlySet<NodeId>;
  readonly learners: ReadonlySet<NodeId>;
  /** Every node that receives the log: voters of both halves and learners. */
  readonly members: ReadonlySet<NodeId>;
}

export function createMembership(payload: ConfigPayload): Membership {
  const allVoters = new Set<NodeId>([...payload.new.voters, ...(payload.old?.voters ?? [])]);
  const learners = new Set<NodeId>();
  for (const id of [...(payload.new.learners ?? []), ...(payload.old?.learners ?? [])]) {
    if (!allVoters.has(id)) learners.add(id);
  }
  return { payload, allVoters, learners, members: new Set([...allVoters, ...learners]) };
}

function majorityReached(voters: readonly NodeId[], granted: (id: NodeId) => boolean): boolean {
  let count = 0;
  for (const id of voters) if (granted(id)) count += 1;
  return count * 2 > voters.length;
}

/** True once `granted` holds for a majority of each half of the configuration. */
export function hasQuorum(membership: Membership, granted: (id: NodeId) => boolean): boolean {
  const { payload } = membership;
  if (!majorityReached(payload.new.voters, granted)) return false;
  return payload.old === null || majorityReached(payload.old.voters, granted);
}

/** True once a majority of some half can no longer be reached (the election is lost). */
export function quorumImpossible(membership: Membership, denied: (id: NodeId) => boolean): boolean {
  const impossible = (voters: readonly NodeId[]): boolean => {
    let count = 0;
    for (const id of voters) if (denied(id)) count += 1;
    return count * 2 >= voters.length;
  };
  const { payload } = membership;
  return impossible(payload.new.voters) || (payload.old !== null && impossible(payload.old.voters));
}

function majorityValue(voters: readonly NodeId[], value: (id: NodeId) => number): number {
  const values = voters.map(value).sort((a, b) => b - a);
  return values[Math.floor(values.length / 2)] ?? 0;
}

/** The largest value (index, time) that a quorum has reached: the commit point of match indices. */
export function quorumValue(membership: Membership, value: (id: NodeId) => number): number {
  const { payload } = membership;
  const newValue = majorityValue(payload.new.voters, value);
  return payload.old === null ? newValue : Math.min(newValue, majorityValue(payload.old.voters, value));
}
