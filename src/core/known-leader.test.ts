// Guards where a node that follows no leader sends its proposals and reads: to the leader a voter
// of its configuration named for its current term (forwardingTarget). An outside review
// (2026-12-07, third session; seed 29 of a membership/transfer fuzz, reduced) found a learner
// removed while cut off, whose configuration's only voter had since handed leadership over,
// learning who led (followVouchedLeader pins it with leaderId null) but sending nothing there:
// the leader never replicates to a non-member, so leaderId stayed null and its proposals and
// reads waited for good, where the leader answers the first with notMember.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { nodeId } from './types.ts';

const [b, c, d] = ['b', 'c', 'd'].map((name) => nodeId(name));

const settledProposals = (node: HarnessNode): unknown[] => node.outcomes.filter((outcome) => outcome.type !== 'accepted');

/**
 * d, a learner of { voters: [c], learners: [d, ...] }, is cut off while c removes it and makes
 * `newLeader` a voter, then hands leadership to it; d comes back and asks c who leads.
 */
function removedWhileLeadershipMoved(newLeader: 'b' | 'e'): { harness: CoreHarness; removed: HarnessNode } {
  const harness = createCoreHarness(['b', 'c', 'd', 'e'], 5, ['c']);
  harness.advance(600);
  const leader = harness.node('c');
  expect(leader.core.role).toBe('leader');
  // b is a learner d's configuration lists; e is a stranger to it, admitted while d is away.
  leader.core.changeMembership(harness.now, 1, { voters: [c!], learners: [b!, d!] });
  harness.advance(600);
  expect(harness.node('d').core.membership).toEqual({ voters: [c], learners: [b, d] });
  harness.isolate('d');
  leader.core.changeMembership(harness.now, 2, { voters: [c!, nodeId(newLeader)] });
  harness.advance(600);
  expect(leader.core.membershipPayload).toEqual({ old: null, new: { voters: [c, nodeId(newLeader)] } });
  leader.core.transferLeadership(harness.now, 3, nodeId(newLeader));
  harness.advance(600);
  expect(harness.node(newLeader).core.role).toBe('leader');
  harness.heal();
  harness.advance(2_000);
  return { harness, removed: harness.node('d') };
}

describe('a learner removed while cut off, once a voter of its configuration has named the current leader', () => {
  it('sends its proposals and reads there, and they fail (NotMemberError) on the leader\'s notMember instead of waiting for ever', () => {
    const { harness, removed } = removedWhileLeadershipMoved('b');
    // It knows the leader but follows none: the public `leader` does not claim one.
    expect(removed.core.leader).toBeNull();
    removed.core.propose(harness.now, 42, new Uint8Array([42]), null);
    removed.core.requestRead(harness.now, 7);
    harness.advance(1_000);
    // Sent before it knew: the outcome is unknown (NotMemberError with outcomeUnknown) as for any
    // proposal that reached a leader, which cannot tell this node's forwards apart.
    expect(settledProposals(removed)).toEqual([{ type: 'failed', proposalId: 42, failure: 'removedWhileInFlight' }]);
    expect(removed.reads).toEqual([{ readId: 7, failure: 'notMember' }]);
    // Told now, and told again while the notice ages (the leader is asked too: outside-cluster.ts),
    // so a proposal long after fails at once, never sent.
    harness.advance(5_000);
    removed.core.propose(harness.now, 43, new Uint8Array([43]), null);
    harness.settle();
    expect(settledProposals(removed)).toContainEqual({ type: 'failed', proposalId: 43, failure: 'notMember' });
  });

  it('believes the notice of that leader even when its configuration does not list it (admitted while it was away)', () => {
    const { harness, removed } = removedWhileLeadershipMoved('e');
    expect(removed.core.membership).toEqual({ voters: [c], learners: [b, d] });
    removed.core.propose(harness.now, 42, new Uint8Array([42]), null);
    removed.core.requestRead(harness.now, 7);
    harness.advance(1_000);
    expect(settledProposals(removed)).toEqual([{ type: 'failed', proposalId: 42, failure: 'removedWhileInFlight' }]);
    expect(removed.reads).toEqual([{ readId: 7, failure: 'notMember' }]);
    expect(removed.core.leader).toBeNull();
  });
});
