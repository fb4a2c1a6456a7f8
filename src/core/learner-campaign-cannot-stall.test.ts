// Guards that a learner's real vote requests (claiming a log ahead, the exception kept for a
// learner promoted by a configuration the voters lack) cannot keep a leaderless cluster
// leaderless: a non-voter moves a voter's term or takes its vote at most once per two longest
// election timeouts.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import type { RaftMessage } from './messages.ts';
import { nodeId } from './types.ts';

const learner = nodeId('d');

/** a, b, c voters and d a learner; the leader and d then cut off. Returns the two live voters. */
function leaderlessWithLearner(): { harness: CoreHarness; leader: HarnessNode; voters: HarnessNode[] } {
  const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [learner] });
  harness.advance(300);
  expect(harness.node('d').core.role).toBe('learner');
  // The leader dies; the learner (its frames injected directly) asks the two others for votes.
  harness.isolate(leader.id);
  harness.isolate('d');
  const voters = [...harness.nodes.values()].filter((node) => node !== leader && node.id !== learner);
  return { harness, leader, voters };
}

const voteRequest = (term: number, lastLogIndex: number, lastLogTerm: number): RaftMessage => ({ type: 'requestVote', term, lastLogIndex, lastLogTerm, preVote: false, transfer: false });

describe('a learner asking for votes while the leader is gone', () => {
  it('cannot keep the voters from electing a leader: a request for each voter term + 1 every 100 ms', () => {
    const { harness, leader, voters } = leaderlessWithLearner();
    for (let elapsed = 0; elapsed < 5_000; elapsed += 100) {
      for (const voter of voters) voter.core.receive(harness.now, learner, voteRequest(voter.core.term + 1, voter.core.lastIndex + 1_000, voter.core.term));
      harness.advance(100);
    }
    // Two live voters of three, connected to each other, for 5 s (about 11 election timeouts).
    expect(harness.leaders().filter((node) => node !== leader).length).toBe(1);
  });

  it('cannot either with a request every 10 ms for one term above the highest voter term', () => {
    const { harness, leader, voters } = leaderlessWithLearner();
    for (let elapsed = 0; elapsed < 5_000; elapsed += 10) {
      const term = Math.max(...voters.map((voter) => voter.core.term)) + 1;
      for (const voter of voters) voter.core.receive(harness.now, learner, voteRequest(term, voter.core.lastIndex + 1_000, term - 1));
      harness.advance(10);
    }
    expect(harness.leaders().filter((node) => node !== leader).length).toBe(1);
  });

  it('still gets the vote by the usual rules once two longest election timeouts have passed', () => {
    const { harness, voters } = leaderlessWithLearner();
    const voter = voters[0]!;
    const request = (): RaftMessage => voteRequest(voter.core.term + 1, voter.core.lastIndex + 1_000, voter.core.term);
    // Delivered straight to the voter, its clock past the leader's last contact and no tick run.
    const start = harness.now + 400;
    const term = voter.core.term;
    voter.core.receive(start, learner, request());
    expect(voter.core.term).toBe(term + 1);
    voter.core.receive(start + 1, learner, request());
    expect(voter.core.term).toBe(term + 1);
    voter.core.receive(start + 600, learner, request());
    expect(voter.core.term).toBe(term + 2);
    const answers = voter.core.takeReady()?.messagesAfterPersist.filter((outbound) => outbound.to === learner).map((outbound) => outbound.message) ?? [];
    expect(answers.map((message) => message.type === 'requestVoteResponse' && message.granted)).toEqual([true, true]);
  });
});
