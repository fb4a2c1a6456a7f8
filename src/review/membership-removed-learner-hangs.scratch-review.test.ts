// Review (membership): a learner removed while cut off, whose configuration's only voter has since
// stepped down, learns who leads from that voter (a probe: elections.ts probeForLeader and
// followVouchedLeader pin the named leader) but never uses it: followVouchedLeader pins the leader
// with leaderId null, sendForward only forwards to leaderId, and the leader never replicates to a
// non-member, so leaderId stays null. Its proposals then wait for good (abortably), where the
// leader would have answered the first forward with notMember and the call would fail with
// NotMemberError (README "A removed node knows it"). Found by a randomized core run (seed 29 of a
// membership/transfer fuzz), reduced here.
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from '../core/core-harness.test-support.ts';
import { nodeId } from '../core/types.ts';

const [b, c, d] = ['b', 'c', 'd'].map((name) => nodeId(name));

describe('review: a learner removed while cut off, after leadership moved to a node its configuration lists as a learner', () => {
  it('settles its proposals (notMember) once a voter of its configuration has named the current leader, instead of waiting for ever', () => {
    const harness = createCoreHarness(['b', 'c', 'd'], 5, ['c']);
    harness.advance(600);
    const leader = harness.node('c');
    expect(leader.core.role).toBe('leader');
    leader.core.changeMembership(harness.now, 1, { voters: [c!], learners: [b!, d!] });
    harness.advance(600);
    expect(harness.node('d').core.membership).toEqual({ voters: [c], learners: [b, d] });

    // d is cut off while it is removed and b promoted, and while leadership moves to b.
    harness.isolate('d');
    leader.core.changeMembership(harness.now, 2, { voters: [c!, b!] });
    harness.advance(600);
    expect(leader.core.membershipPayload).toEqual({ old: null, new: { voters: [c, b] } });
    leader.core.transferLeadership(harness.now, 3, b!);
    harness.advance(600);
    expect(harness.node('b').core.role).toBe('leader');

    // d comes back. Its configuration's one voter, c, names b as the leader when d asks.
    harness.heal();
    harness.advance(2_000);
    const removed = harness.node('d');
    removed.core.propose(harness.now, 42, new Uint8Array([42]), null);
    harness.advance(5_000);
    const settled = removed.outcomes.filter((outcome) => outcome.proposalId === 42 && outcome.type !== 'accepted');
    expect(settled).toEqual([{ type: 'failed', proposalId: 42, failure: 'notMember' }]);
  });
});
