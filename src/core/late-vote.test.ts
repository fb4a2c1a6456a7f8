// A candidate whose election times out starts pre-voting for the next term and collects
// pre-votes in the same tally as votes. A vote of the old term that arrives late must not be
// added to those pre-votes: one real vote plus two pre-votes is not a majority of votes, and
// counting it let two nodes lead one term (the 5-node simulation, seed 10015).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage, RequestVote } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type NodeId } from './types.ts';

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];

function vote(term: number, preVote: boolean): RaftMessage {
  return { type: 'requestVoteResponse', term, preVote, granted: true, denialReason: null };
}

function requestsIn(core: RaftCore): RequestVote[] {
  const ready = core.takeReady();
  return (ready?.messages ?? []).map((outbound) => outbound.message).filter((message): message is RequestVote => message.type === 'requestVote');
}

/** Node a of five, candidate in term 1 after winning its pre-vote with b and c. */
function candidateInTerm1(): RaftCore {
  const core = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c, d, e] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
  core.tick(1_000);
  expect(requestsIn(core).every((request) => request.preVote && request.term === 1)).toBe(true);
  core.receive(1_001, b, vote(1, true));
  core.receive(1_002, c, vote(1, true));
  expect(core.role).toBe('candidate');
  expect(core.term).toBe(1);
  expect(requestsIn(core).every((request) => !request.preVote && request.term === 1)).toBe(true);
  return core;
}

describe('a late vote after the election timed out', () => {
  it('is not counted with the pre-votes of the next round', () => {
    const core = candidateInTerm1();
    // The election of term 1 times out: a pre-votes for term 2.
    core.tick(3_000);
    const preVotes = requestsIn(core);
    expect(preVotes.length).toBeGreaterThan(0);
    expect(preVotes.every((request) => request.preVote && request.term === 2)).toBe(true);
    core.receive(3_001, d, vote(2, true));
    // e's vote of term 1 arrives now: a, d (pre-vote) and e (old vote) are three of five.
    core.receive(3_002, e, vote(1, false));
    core.takeReady();
    expect(core.role).not.toBe('leader');
    expect(core.term).toBe(1);
  });

  it('still wins on votes of its own election', () => {
    const core = candidateInTerm1();
    core.receive(1_010, d, vote(1, false));
    core.receive(1_011, e, vote(1, false));
    core.takeReady();
    expect(core.role).toBe('leader');
    expect(core.term).toBe(1);
  });

  it('and the next round still wins on its own pre-votes and votes', () => {
    const core = candidateInTerm1();
    core.tick(3_000);
    requestsIn(core);
    core.receive(3_001, d, vote(2, true));
    core.receive(3_002, e, vote(2, true));
    expect(core.term).toBe(2);
    core.receive(3_003, b, vote(2, false));
    core.receive(3_004, c, vote(2, false));
    core.takeReady();
    expect(core.role).toBe('leader');
    expect(core.term).toBe(2);
  });
});
