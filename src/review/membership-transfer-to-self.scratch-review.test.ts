// Review (membership/transfer): transferLeadership(self) while a transfer to another node is in
// progress. etcd's raft aborts the transfer in progress first ("lastLeadTransferee != None ->
// abortLeaderTransfer"), then ignores the request to itself; a transfer to a *different* target
// here cancels the one in progress too (leadership-transfer.ts). The self case returns success at
// once and leaves the earlier transfer running: the caller is told "this node leads", proposals
// stay held, and leadership then moves to the earlier target anyway.
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from '../core/core-harness.test-support.ts';

describe('review: transferLeadership to the leader itself while another transfer is in progress', () => {
  it('cancels the transfer in progress, so the leader keeps leading and its proposals are no longer held', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 9);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const target = [...harness.nodes.values()].find((node) => node !== leader)!;
    // The target lags (its link from the leader is cut), so the first transfer is still catching it up.
    harness.blocked.add(`${leader.id}->${target.id}`);
    leader.core.propose(harness.now, 1, new Uint8Array([1]), null);
    harness.settle();
    leader.core.transferLeadership(harness.now, 1, target.id);
    harness.settle();
    // The application changes its mind: leadership should stay here.
    leader.core.transferLeadership(harness.now, 2, leader.id);
    harness.settle();
    expect(leader.transfers).toContainEqual({ transferId: 2, failure: null });
    // Proposals are accepted again as soon as the call says this node keeps leading.
    leader.core.propose(harness.now, 2, new Uint8Array([2]), null);
    harness.settle();
    expect.soft(leader.outcomes.filter((outcome) => outcome.type === 'committed').map((outcome) => outcome.proposalId)).toContain(2);
    // The first transfer was abandoned rather than left to hand leadership over.
    expect.soft(leader.transfers).toContainEqual({ transferId: 1, failure: 'cancelled' });
    harness.blocked.clear();
    harness.advance(200);
    expect.soft(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
  });
});

describe('review: an invalid transferLeadership while a valid transfer is in progress', () => {
  it('is refused (notVoter) without cancelling the transfer in progress, which still hands leadership over', () => {
    // etcd's raft checks the new transferee before aborting the transfer in progress ("ignored
    // transferring leadership" for a learner). Here a request to a learner first cancels the
    // valid transfer, then fails notVoter: one bad call undoes another caller's transfer.
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 9, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const voters = [...harness.nodes.values()].filter((node) => node !== leader && node.id !== 'd');
    leader.core.changeMembership(harness.now, 1, { voters: [leader.id, ...voters.map((node) => node.id)], learners: [harness.node('d').id] });
    harness.advance(300);
    expect(harness.node('d').core.role).toBe('learner');
    const target = voters[0]!;
    harness.blocked.add(`${leader.id}->${target.id}`);
    leader.core.propose(harness.now, 1, new Uint8Array([1]), null);
    harness.settle();
    leader.core.transferLeadership(harness.now, 1, target.id);
    harness.settle();
    leader.core.transferLeadership(harness.now, 2, harness.node('d').id);
    harness.settle();
    expect(leader.transfers).toContainEqual({ transferId: 2, failure: 'notVoter' });
    harness.blocked.clear();
    harness.advance(200);
    expect(leader.transfers).toContainEqual({ transferId: 1, failure: null });
    expect(target.core.role).toBe('leader');
  });
});
