// Review (core, hostile frames): a learner keeps a leaderless cluster leaderless with vote
// requests. handleRequestVote answers a learner "as a voter" when it claims a log strictly ahead
// with a last term below the term it asks for (aheadWithNewerConfiguration), and a real
// (non-pre-vote) request then makes the voter adopt the term, give its vote and restart its
// election timer. Sent to every voter a little faster than an election timeout, no voter ever
// campaigns to the end. The project fixed the same outcome reached with notMember notices ("a
// learner sending notices for the next term, one per election timeout, kept a leaderless
// cluster's voters from campaigning", outside-cluster.ts).
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from '../core/core-harness.test-support.ts';
import { nodeId } from '../core/types.ts';

describe('a learner asking for votes while the leader is gone (review of src/core, hostile frames)', () => {
  it('cannot keep the voters from electing a leader', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const learner = nodeId('d');
    leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [learner] });
    harness.advance(300);
    expect(harness.node('d').core.role).toBe('learner');
    // The leader dies; the learner (its frames injected directly) asks the two others for votes.
    harness.isolate(leader.id);
    harness.isolate('d');
    const voters = [...harness.nodes.values()].filter((node) => node !== leader && node.id !== learner);
    for (let elapsed = 0; elapsed < 5_000; elapsed += 100) {
      for (const voter of voters) {
        voter.core.receive(harness.now, learner, { type: 'requestVote', term: voter.core.term + 1, lastLogIndex: voter.core.lastIndex + 1_000, lastLogTerm: voter.core.term, preVote: false, transfer: false });
      }
      harness.advance(100);
    }
    // Two live voters of three, connected to each other, for 5 s (about 11 election timeouts).
    expect(harness.leaders().filter((node) => node !== leader).length).toBe(1);
  });

  it("control (passes): without the learner's requests the two voters elect a leader at once", () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [nodeId('d')] });
    harness.advance(300);
    harness.isolate(leader.id);
    harness.isolate('d');
    harness.advance(5_000);
    expect(harness.leaders().filter((node) => node !== leader).length).toBe(1);
  });
});
