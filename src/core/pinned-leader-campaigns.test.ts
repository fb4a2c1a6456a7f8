// Two liveness fixes of 2026-12-04 (midday), first found by 5-node simulation seeds 200359 and
// 202349 with --removals --duration 20000. Storing the commit index moved those seeds' timings,
// and they no longer reach the states they found, so the states are built here directly:
// - a voter whose removal it has not seen commit, told by its pinned leader that it is not a
//   member, names that leader to whoever asks (elections.ts, leaderOfCurrentTerm);
// - a voter judges the campaign of the leader it pinned by log, term and vote, even when its own
//   configuration does not list that node (elections.ts, handleRequestVote).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type ConfigPayload, type LogEntry, type NodeId } from './types.ts';

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const noOp = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array(0), isNoOp: true });
const config = (index: number, term: number, payload: ConfigPayload): LogEntry => ({ index, term, command: new Uint8Array(0), isNoOp: false, config: payload });

function answersTo(core: RaftCore, to: NodeId): RaftMessage[] {
  const ready = core.takeReady();
  return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].filter((outbound) => outbound.to === to).map((outbound) => outbound.message);
}

describe('a voter told by its pinned leader that it is not a member (seed 200359)', () => {
  /**
   * c, restarted at term 3 with a pinned: its log ends in the joint configuration that removes it
   * ({a, b, c} to {a, b}), uncommitted here, so it is still a voter of its own configuration (and
   * campaigns as one). a has told it, in term 3, that it is not a member.
   */
  function removedVoterToldByItsLeader(told: boolean): RaftCore {
    const entries = [noOp(1, 1), config(2, 3, { old: { voters: [a, b, c] }, new: { voters: [a, b] } })];
    const core = new RaftCore({ id: c, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries });
    expect(core.role).toBe('follower');
    if (told) core.receive(1, a, { type: 'notMember', term: 3, configIndex: 3 });
    core.takeReady();
    return core;
  }
  // d: a member away since a configuration whose only voter was c, asking c who leads.
  const question: RaftMessage = { type: 'requestVote', term: 3, lastLogIndex: 1, lastLogTerm: 1, preVote: true, transfer: false };

  it('names that leader in its answer, so the asker can take the leader it refused', () => {
    const core = removedVoterToldByItsLeader(true);
    core.receive(2, d, question);
    const leaders = answersTo(core, d).flatMap((message) => (message.type === 'requestVoteResponse' && message.leader !== undefined ? [message.leader] : []));
    expect(leaders).toContain(a);
  });

  it('names no one while no leader has told it so (it campaigns, and suspects the leader it pinned)', () => {
    const core = removedVoterToldByItsLeader(false);
    core.receive(2, d, question);
    const leaders = answersTo(core, d).flatMap((message) => (message.type === 'requestVoteResponse' && message.leader !== undefined ? [message.leader] : []));
    expect(leaders).toEqual([]);
  });
});

describe('a voter whose configuration does not list the leader it pinned (seed 202349)', () => {
  /**
   * d, promoted while away: its configuration is {c, d, e}, while the cluster's is {b, d}. A
   * voter of d's configuration named b as term 5's leader, and d pinned it. b now campaigns for
   * term 6 with a log ahead of d's.
   */
  function promotedWhileAway(pinned: NodeId): RaftCore {
    const entries = [noOp(1, 1), config(2, 2, { old: null, new: { voters: [c, d, e] } })];
    const core = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 5, votedFor: null }, leaderPin: { term: 5, leaderId: pinned }, snapshotMeta: null, entries });
    core.takeReady();
    return core;
  }
  const campaignOf = (preVote: boolean): RaftMessage => ({ type: 'requestVote', term: 6, lastLogIndex: 9, lastLogTerm: 5, preVote, transfer: false });
  const votes = (messages: readonly RaftMessage[]): boolean[] => messages.flatMap((message) => (message.type === 'requestVoteResponse' ? [message.granted] : []));

  it('grants the pinned leader its pre-vote and its vote by the usual rules (term, log, vote)', () => {
    const core = promotedWhileAway(b);
    core.receive(1_000, b, campaignOf(true));
    expect(votes(answersTo(core, b))).toEqual([true]);
    core.receive(1_001, b, campaignOf(false));
    expect(votes(answersTo(core, b))).toEqual([true]);
    expect(core.term).toBe(6);
  });

  it('still refuses a stranger to its configuration that it has not pinned, whatever its log', () => {
    const core = promotedWhileAway(a);
    core.receive(1_000, b, campaignOf(false));
    expect(votes(answersTo(core, b))).not.toContain(true);
    expect(core.term).toBe(5);
  });
});
