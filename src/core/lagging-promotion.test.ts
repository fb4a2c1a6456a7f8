// SPEC says a learner "never votes". A candidate asks only the voters of its own configuration,
// so a learner is asked only by a candidate whose log already makes it a voter: a learner promoted
// while it lagged, that has not yet received the entries promoting it. That learner must answer
// like any voter. Here the promotion commits on the two old voters alone (a majority of old and of
// new), the leader then dies, and the survivor needs the lagging learner's vote: were it refused,
// no leader could ever be elected again, since only a leader can bring the learner its promotion.
// etcd's raft grants votes from learners for the same reason.
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import { nodeId, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];

describe('a learner promoted while it lagged', () => {
  it('votes for the candidate whose log promotes it, so the cluster elects again after the leader dies', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 7, ['a', 'b']);
    harness.advance(2_000);
    const [first] = harness.leaders();
    expect(first).toBeDefined();
    const leader = first?.id === a ? harness.node('a') : harness.node('b');
    const survivor = leader.id === a ? harness.node('b') : harness.node('a');

    leader.core.changeMembership(harness.now, 1, { voters: [a, b], learners: [c] });
    harness.advance(500);
    expect(harness.node('c').core.role).toBe('learner');
    expect(harness.node('c').core.membership).toEqual({ voters: [a, b], learners: [c] });

    // c stops hearing anything; the promotion commits on a and b alone.
    harness.blocked.add(`${a}->${c}`).add(`${b}->${c}`);
    leader.core.changeMembership(harness.now, 2, { voters: [a, b, c] });
    harness.advance(500);
    expect(leader.core.membership).toEqual({ voters: [a, b, c] });
    expect(leader.core.membershipPayload.old).toBeNull();
    expect(survivor.core.membershipPayload).toEqual({ old: null, new: { voters: [a, b, c] } });
    expect(harness.node('c').core.role).toBe('learner');

    // The leader dies; the link from the survivor to c comes back.
    harness.isolate(leader.id);
    harness.blocked.delete(`${survivor.id}->${c}`);
    const termBefore = survivor.core.term;
    harness.advance(3_000);

    const grantedByLearner = harness.sent.filter((item) => item.from === c && item.message.type === 'requestVoteResponse' && item.message.granted && !item.message.preVote);
    expect(grantedByLearner.length).toBeGreaterThan(0);
    expect(survivor.core.role).toBe('leader');
    expect(survivor.core.term).toBeGreaterThan(termBefore);
    // Once it leads, the survivor brings c its promotion: c is a voter now.
    expect(harness.node('c').core.role).toBe('follower');
    expect(harness.node('c').core.membership).toEqual({ voters: [a, b, c] });
  });
});
