// Guards that a non-voter's answer (AppendEntries, InstallSnapshot or RequestVote response) never
// makes a node adopt a higher term: it is refused (senderNotVoter) and changes nothing.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import type { RaftMessage } from './messages.ts';
import { nodeId } from './types.ts';

const learner = nodeId('d');

/** a, b, c voters, d admitted as a learner; returns the settled harness and its leader. */
function clusterWithLearner(): { harness: CoreHarness; leader: HarnessNode } {
  const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [learner] });
  harness.advance(300);
  expect(leader.core.membership.learners).toEqual([learner]);
  expect(harness.node('d').core.role).toBe('learner');
  return { harness, leader };
}

const responses = (term: number): Array<[string, RaftMessage]> => [
  ['appendEntriesResponse', { type: 'appendEntriesResponse', term, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 }],
  ['requestVoteResponse (pre-vote denial)', { type: 'requestVoteResponse', term, preVote: true, granted: false, denialReason: 'staleTerm' }],
  ['requestVoteResponse (vote denial)', { type: 'requestVoteResponse', term, preVote: false, granted: false, denialReason: 'staleTerm' }],
  ['installSnapshotResponse', { type: 'installSnapshotResponse', term, lastIncludedIndex: 0, nextOffset: 0, installed: false }],
];

describe('a learner answering with a term ahead', () => {
  for (const [name] of responses(0)) {
    it(`does not depose a healthy leader with one ${name} of term + 1`, () => {
      const { harness, leader } = clusterWithLearner();
      const termBefore = leader.core.term;
      const message = responses(termBefore + 1).find(([label]) => label === name)![1];
      leader.core.receive(harness.now, learner, message);
      harness.settle();
      expect({ role: leader.core.role, term: leader.core.term }).toEqual({ role: 'leader', term: termBefore });
    });
  }

  it('does not bump a follower to term + 1 with an unsolicited answer, which then deposes the leader', () => {
    const { harness, leader } = clusterWithLearner();
    const termBefore = leader.core.term;
    const follower = [...harness.nodes.values()].find((node) => node !== leader && node.id !== learner)!;
    // A follower sent the learner nothing: any answer from it is unsolicited.
    follower.core.receive(harness.now, learner, { type: 'appendEntriesResponse', term: termBefore + 1, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    harness.advance(100);
    expect(follower.core.term).toBe(termBefore);
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
    expect(leader.core.term).toBe(termBefore);
  });

  it('cannot keep a cluster leaderless: one frame per 100 ms to the current leader', () => {
    const { harness } = clusterWithLearner();
    const start = harness.now;
    let leaderless = 0;
    for (let elapsed = 0; elapsed < 5_000; elapsed += 50) {
      const current = harness.leaders()[0];
      if (current === undefined) leaderless += 50;
      else if (elapsed % 100 === 0) current.core.receive(harness.now, learner, { type: 'appendEntriesResponse', term: current.core.term + 1, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
      harness.advance(50);
    }
    expect(harness.now - start).toBe(5_000);
    // A healthy 3-voter cluster with a live leader is never leaderless; here most of the time.
    expect(leaderless).toBe(0);
  });
});

describe('a non-voter answer with a term ahead, counted', () => {
  it('is a frameRefused (senderNotVoter) and no wedge; a voter answering the same still deposes the leader', () => {
    const { harness, leader } = clusterWithLearner();
    const term = leader.core.term;
    leader.core.receive(harness.now, learner, { type: 'appendEntriesResponse', term: term + 1, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    harness.settle();
    expect(leader.metrics.filter((metric) => metric.type === 'frameRefused' || metric.type === 'wedgeSuspected')).toEqual([{ type: 'frameRefused', from: learner, reason: 'senderNotVoter' }]);
    const voter = [...harness.nodes.values()].find((node) => node !== leader && node.id !== learner)!;
    leader.core.receive(harness.now, voter.id, { type: 'appendEntriesResponse', term: term + 1, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    expect({ role: leader.core.role, term: leader.core.term }).toEqual({ role: 'follower', term: term + 1 });
  });
});
