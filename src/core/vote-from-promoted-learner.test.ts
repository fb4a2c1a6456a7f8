// A voter whose configuration lists the candidate only as a learner lacks the entry that promoted
// it, when the candidate's log is strictly more up to date than its own: it answers that
// candidate by the usual rules instead of refusing it as a non-voter. Refused, a joint
// configuration whose old half held such a voter elected nobody (5-node simulation seed 10572
// with --removals --duration 20000: no leader after the heal).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c, stranger] = ['a', 'b', 'c', 'f'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array(0), isNoOp: true });

/** a: a voter of {a, b} with c a learner, at term 4, its log ending at (3, 4), hearing no leader. */
function laggingVoter(): RaftCore {
  const core = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b], learners: [c] }, hardState: { term: 4, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3), entry(3, 4)] });
  core.takeReady();
  return core;
}
const voteRequest = (lastLogIndex: number, lastLogTerm: number, preVote: boolean): RaftMessage => ({ type: 'requestVote', term: 5, lastLogIndex, lastLogTerm, preVote, transfer: false });
const answersTo = (core: RaftCore, to: NodeId): RaftMessage[] => {
  const ready = core.takeReady();
  return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].filter((outbound) => outbound.to === to).map((outbound) => outbound.message);
};

describe('a vote asked by a learner of ours whose log is ahead (it holds its promotion, we do not)', () => {
  it('is granted by the usual rules, a pre-vote and then the vote, which moves us to its term', () => {
    const core = laggingVoter();
    core.receive(1_000, c, voteRequest(5, 4, true));
    expect(answersTo(core, c)).toEqual([{ type: 'requestVoteResponse', term: 5, preVote: true, granted: true, denialReason: null }]);
    expect(core.term).toBe(4);
    core.receive(1_001, c, voteRequest(5, 4, false));
    expect(answersTo(core, c)).toEqual([{ type: 'requestVoteResponse', term: 5, preVote: false, granted: true, denialReason: null }]);
    expect(core.term).toBe(5);
  });

  it('is refused as before when its log is not ahead of ours, or it is no member of ours', () => {
    const core = laggingVoter();
    core.receive(1_000, c, voteRequest(3, 4, false));
    expect(answersTo(core, c).filter((message) => message.type === 'requestVoteResponse' && message.granted)).toEqual([]);
    core.receive(1_001, stranger, voteRequest(9, 9, false));
    expect(answersTo(core, stranger).filter((message) => message.type === 'requestVoteResponse')).toEqual([]);
    expect(core.term).toBe(4);
  });

  it('gets no more than its word is worth: a claimed last term at or above its campaign term is refused, and its transfer flag does not override a live leader', () => {
    const core = laggingVoter();
    core.receive(1_000, c, { type: 'requestVote', term: 5, lastLogIndex: 9, lastLogTerm: 1_000_000, preVote: false, transfer: false });
    expect(answersTo(core, c).filter((message) => message.type === 'requestVoteResponse' && message.granted)).toEqual([]);
    expect(core.term).toBe(4);
    // A leads {a} with learner c (its election timer ran out and it won alone); c claims a log
    // ahead of a's and a transfer. Voters honour a transfer's flag; a learner's is ignored.
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a], learners: [c] }, hardState: { term: 4, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 4)] });
    for (let now = 0; leader.role !== 'leader' && now < 10_000; now += 50) {
      leader.tick(now);
      leader.takeReady();
    }
    expect(leader.role).toBe('leader');
    const term = leader.term;
    leader.receive(10_001, c, { type: 'requestVote', term: term + 1, lastLogIndex: 100, lastLogTerm: term, preVote: false, transfer: true });
    expect(answersTo(leader, c)).toEqual([{ type: 'requestVoteResponse', term, preVote: false, granted: false, denialReason: 'leaderAlive', leader: a }]);
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(term);
  });
});
