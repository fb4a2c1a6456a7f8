// SPEC "Roles, terms and elections": a node that leads, or heard its leader within the minimum
// election timeout, denies pre-votes and votes with reason leaderAlive, and the reason a denial
// names is the true one. Guards the requests at the voter's own term: a review found a node back
// from a partition one term behind, asking a pre-vote at exactly the voter's term, denied as
// alreadyVoted by a voter that had voted for no one (elections.ts checked leaderAlive only above
// its term). Which requests are granted is unchanged; only the reason of some denials is.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RequestVote, RequestVoteResponse } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite, type Ready } from './ready.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index & 0xff]), isNoOp: false });
/** Timer armed at 150 ms after the last leader frame (random 0.5): leaderAlive for 100 ms of it. */
const config = resolveRaftConfig({ electionTimeoutMin: 100, electionTimeoutMax: 200, heartbeatInterval: 20 });

function voter(id: NodeId, term: number, votedFor: NodeId | null): RaftCore {
  const core = new RaftCore({ id, config, random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term, votedFor }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 4), entry(2, 4), entry(3, 4)] });
  core.tracing = true;
  return core;
}

/** Takes a ready and acknowledges its write at once. */
function drain(core: RaftCore, now: number): Ready | null {
  const ready = core.takeReady();
  if (ready !== null && readyNeedsWrite(ready)) {
    const last = ready.entries[ready.entries.length - 1];
    core.persisted(now, last === undefined ? null : { index: last.index, term: last.term });
  }
  return ready;
}

/** The leader's frame of term 5, carrying nothing: the voter follows it from `now`. */
function hearLeader(core: RaftCore, leader: NodeId, now: number): void {
  core.receive(now, leader, { type: 'appendEntries', term: 5, prevLogIndex: 3, prevLogTerm: 4, entries: [], leaderCommit: 0, readRound: 0 });
  drain(core, now);
  expect(core.leader).toBe(leader);
}

/** `core` answers `request` from `from` at `now`: its answer and the reason it traced, if any. */
function answer(core: RaftCore, from: NodeId, now: number, request: Omit<RequestVote, 'type' | 'lastLogIndex' | 'lastLogTerm' | 'transfer'>): { response: RequestVoteResponse | undefined; traced: string | undefined; ready: Ready | null } {
  core.receive(now, from, { type: 'requestVote', lastLogIndex: 3, lastLogTerm: 4, transfer: false, ...request });
  const ready = drain(core, now);
  const response = [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].find((outbound) => outbound.to === from && outbound.message.type === 'requestVoteResponse')?.message as RequestVoteResponse | undefined;
  const denied = (ready?.trace ?? []).find((event) => event.type === 'voteDenied');
  return { response, traced: denied?.type === 'voteDenied' ? denied.reason : undefined, ready };
}

describe('a voter that hears a live leader denies requests at its own term as leaderAlive', () => {
  it('a pre-vote for the voter\'s own term, from a node back from a partition one term behind, is denied as leaderAlive, not alreadyVoted (votedFor null)', () => {
    // b moved to term 5 on the leader's first frame, voting for no one in it.
    const follower = voter(b, 4, null);
    follower.receive(10, a, { type: 'appendEntries', term: 5, prevLogIndex: 3, prevLogTerm: 4, entries: [entry(4, 5)], leaderCommit: 0, readRound: 0 });
    drain(follower, 10);
    expect([follower.leader, follower.term]).toEqual([a, 5]);
    const { response, traced } = answer(follower, c, 20, { term: 5, preVote: true });
    expect(response).toMatchObject({ granted: false, term: 5, denialReason: 'leaderAlive', leader: a });
    expect(traced).toBe('leaderAlive');
  });

  it('a real vote for the voter\'s own term, from a node it did not vote for, is denied as leaderAlive and leaves its vote unused', () => {
    const follower = voter(b, 5, null);
    hearLeader(follower, a, 10);
    const { response, traced, ready } = answer(follower, c, 20, { term: 5, preVote: false });
    expect(response).toMatchObject({ granted: false, denialReason: 'leaderAlive' });
    expect(traced).toBe('leaderAlive');
    expect(ready?.hardState ?? null).toBeNull();
  });

  it('one that voted for the leader of its term denies another node of that term as leaderAlive while it hears that leader', () => {
    const follower = voter(b, 5, a);
    hearLeader(follower, a, 10);
    expect(answer(follower, c, 20, { term: 5, preVote: true }).traced).toBe('leaderAlive');
  });

  it('the leader denies a pre-vote for its own term as leaderAlive', () => {
    const leader = voter(b, 4, null);
    leader.tick(leader.nextDeadline());
    leader.receive(200, a, { type: 'requestVoteResponse', term: 5, preVote: true, granted: true, denialReason: null });
    drain(leader, 200);
    leader.receive(201, a, { type: 'requestVoteResponse', term: 5, preVote: false, granted: true, denialReason: null });
    drain(leader, 201);
    expect([leader.role, leader.term]).toEqual(['leader', 5]);
    const { response, traced } = answer(leader, c, 210, { term: 5, preVote: true });
    expect(response).toMatchObject({ granted: false, denialReason: 'leaderAlive', leader: b });
    expect(traced).toBe('leaderAlive');
    expect(leader.role).toBe('leader');
  });

  it('a follower of a leader of its term, not heard for the minimum election timeout, that voted for no one names leaderAlive too: the term has a leader, no vote was given', () => {
    const follower = voter(b, 5, null);
    hearLeader(follower, a, 10);
    // 120 ms later: past the minimum election timeout, short of b's own timer (150 ms).
    const { response, traced } = answer(follower, c, 130, { term: 5, preVote: false });
    expect(response).toMatchObject({ granted: false, denialReason: 'leaderAlive' });
    expect(traced).toBe('leaderAlive');
    expect(follower.role).toBe('follower');
  });
});

describe('what a voter at its own term still grants or denies as before', () => {
  it('a voter that voted for another candidate of its term, and hears no leader, denies as alreadyVoted', () => {
    const follower = voter(b, 5, a);
    drain(follower, 0);
    const { response, traced } = answer(follower, c, 20, { term: 5, preVote: false });
    expect(response).toMatchObject({ granted: false, denialReason: 'alreadyVoted' });
    expect(traced).toBe('alreadyVoted');
  });

  it('a repeated vote request of the candidate it voted for is granted again, even once that candidate leads and is heard', () => {
    const follower = voter(b, 5, c);
    hearLeader(follower, c, 10);
    const { response } = answer(follower, c, 20, { term: 5, preVote: false });
    expect(response).toMatchObject({ granted: true, term: 5, denialReason: null });
    expect(follower.leader).toBe(c);
  });

  it('a voter with no leader and no vote in its term grants a pre-vote and a vote for that term', () => {
    const follower = voter(b, 5, null);
    drain(follower, 0);
    expect(answer(follower, c, 20, { term: 5, preVote: true }).response).toMatchObject({ granted: true, term: 5 });
    expect(answer(follower, c, 21, { term: 5, preVote: false }).response).toMatchObject({ granted: true, term: 5 });
  });
});
