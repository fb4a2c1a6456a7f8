// Review (core, hostile frames): the two suspicions handed over by the last review, checked.
// These tests PASS on the current code: they document what the engine does, not a defect.
// 1. A notMember for term + 1 from a voter that is not the leader: never deposes or re-terms
//    anyone; a follower believes it (no leader is pinned for term + 1, and the sender is a voter:
//    out of scope, SPEC "Untrusted peers": a voter lying in well-formed ways), and its live
//    leader's next frame clears the notice.
// 2. A success ack past the leader's last index: clamped; commit, progress and reads stay sound.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type HarnessNode } from '../core/core-harness.test-support.ts';
import { nodeId } from '../core/types.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('suspicion 1: notMember for term + 1 from a voter that does not lead', () => {
  it('the leader ignores it: still leading, same term', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const other = [...harness.nodes.values()].find((node) => node !== leader)!;
    const term = leader.core.term;
    leader.core.receive(harness.now, other.id, { type: 'notMember', term: term + 1, configIndex: 999 });
    harness.advance(500);
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
    expect(leader.core.term).toBe(term);
  });

  it('a follower keeps its term and role; the live leader clears the notice within a heartbeat', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [victim, liar] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    const term = victim.core.term;
    victim.core.receive(harness.now, liar.id, { type: 'notMember', term: term + 1, configIndex: 999 });
    // Believed until the leader's next frame: a call made now fails at once.
    victim.core.propose(harness.now, 1, bytes('x'), null);
    harness.settle();
    expect(victim.outcomes).toEqual([{ type: 'failed', proposalId: 1, failure: 'notMember' }]);
    expect(victim.core.term).toBe(term);
    expect(victim.core.role).toBe('follower');
    harness.advance(100); // one heartbeat interval
    victim.core.propose(harness.now, 2, bytes('y'), null);
    harness.advance(200);
    expect(victim.outcomes.find((outcome) => outcome.proposalId === 2)?.type).toBe('committed');
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
    expect(leader.core.term).toBe(term);
  });
});

describe('suspicion 2: a success ack past what the follower can have', () => {
  it('is clamped: no commit past the quorum, nextIndex at most lastIndex + 1, replication goes on', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [liar, honest] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    // The honest follower hears nothing: only the liar's ack could commit a new entry.
    harness.blocked.add(`${leader.id}->${honest.id}`);
    harness.blocked.add(`${honest.id}->${leader.id}`);
    harness.blocked.add(`${leader.id}->${liar.id}`);
    const commitBefore = leader.core.commitIndex;
    leader.core.propose(harness.now, 1, bytes('x'), null);
    harness.settle();
    leader.core.receive(harness.now, liar.id, { type: 'appendEntriesResponse', term: leader.core.term, success: true, matchIndex: Number.MAX_SAFE_INTEGER, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    harness.settle();
    // The liar is a voter: its ack counts (out of scope), but never past the leader's own log.
    expect(leader.core.commitIndex).toBeLessThanOrEqual(leader.core.lastIndex);
    expect(leader.core.matchIndexes().get(liar.id)).toBe(leader.core.lastIndex);
    harness.heal();
    leader.core.propose(harness.now, 2, bytes('y'), null);
    harness.advance(300);
    expect(leader.outcomes.filter((outcome) => outcome.type === 'committed').map((outcome) => outcome.proposalId)).toEqual([1, 2]);
    expect(honest.core.lastIndex).toBe(leader.core.lastIndex);
    expect(commitBefore).toBeLessThan(leader.core.commitIndex);
  });

  it('a learner ack (any matchIndex, any read round) neither commits nor confirms a read', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [nodeId('d')] });
    harness.advance(300);
    for (const node of harness.nodes.values()) if (node !== leader) harness.isolate(node.id);
    const commit = leader.core.commitIndex;
    leader.core.propose(harness.now, 5, bytes('x'), null);
    leader.core.requestRead(harness.now, 9);
    harness.settle();
    for (let round = 0; round < 20; round += 1) {
      leader.core.receive(harness.now, nodeId('d'), { type: 'appendEntriesResponse', term: leader.core.term, success: true, matchIndex: leader.core.lastIndex, conflictIndex: 0, conflictTerm: 0, readRound: round });
    }
    harness.settle();
    expect(leader.core.commitIndex).toBe(commit);
    expect(leader.reads).toEqual([]);
  });
});
