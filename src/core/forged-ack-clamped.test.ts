// Guards that a success answer's match index is clamped to the leader's own last index: a voter's
// ack past it neither commits past the quorum nor pushes nextIndex out of the log, and a
// learner's ack (any match index, any read round) neither commits nor confirms a read.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { nodeId } from './types.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('a success ack past what the follower can have', () => {
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
