// A witness hands its entries to a voter whose campaign it denies because that voter's log is
// behind (catch-up.ts): without it, a room whose only voters that may lead lack entries that
// only the witness and absent members hold could never elect anyone (the simulator with
// witnesses, 5-node seed 6 with two witnesses).
import { describe, expect, it } from 'vitest';
import { drainReady } from './core-harness.test-support.ts';
import { resolveRaftConfig } from './config.ts';
import type { CatchUpEntries, RaftMessage, RequestVote } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { Ready } from './ready.ts';
import { nodeId, type ClusterConfig, type LogEntry, type NodeId } from './types.ts';

const [a, b, w, d] = ['a', 'b', 'w', 'd'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId];
const config: ClusterConfig = { voters: [a, b, w], learners: [d] };
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
/** Entries 1.. with the given terms. */
const logOf = (...terms: number[]): LogEntry[] => terms.map((term, position) => entry(position + 1, term));

function node(id: NodeId, entries: readonly LogEntry[], options: { witness?: boolean; term?: number } = {}): RaftCore {
  const core = new RaftCore({ id, config: resolveRaftConfig({ witness: options.witness ?? false, electionTimeoutMin: 150, electionTimeoutMax: 300 }), random: () => 0.5, now: 0, bootstrap: config, hardState: { term: options.term ?? 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries });
  core.tracing = true;
  core.takeReady();
  return core;
}

function outbound(ready: Ready | null): Array<{ to: NodeId; message: RaftMessage }> {
  return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].map(({ to, message }) => ({ to, message }));
}

const catchUps = (ready: Ready | null): CatchUpEntries[] => outbound(ready).flatMap(({ message }) => (message.type === 'catchUpEntries' ? [message] : []));
const preVote = (term: number, lastLogIndex: number, lastLogTerm: number): RequestVote => ({ type: 'requestVote', term, lastLogIndex, lastLogTerm, preVote: true, transfer: false });
const terms = (core: RaftCore, through: number): number[] => Array.from({ length: through }, (_, position) => core.termAt(position + 1) ?? -1);

describe('a witness asked for a vote by a voter whose log is behind its own', () => {
  it('denies the vote and sends the entries that voter lacks', () => {
    const witness = node(w, logOf(1, 1, 2, 2), { witness: true });
    witness.receive(1_000, b, preVote(4, 2, 1));
    const ready = witness.takeReady();
    expect(outbound(ready)).toContainEqual({ to: b, message: expect.objectContaining({ type: 'requestVoteResponse', granted: false, denialReason: 'logNotUpToDate' }) });
    expect(catchUps(ready)).toEqual([{ type: 'catchUpEntries', term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [entry(3, 2), entry(4, 2)] }]);
    expect(ready?.trace).toContainEqual(expect.objectContaining({ type: 'catchUpSent', to: b, prevLogIndex: 2, count: 2 }));
  });

  it('starts below a tail of the voter that its own log does not share', () => {
    const witness = node(w, logOf(1, 1, 3, 3), { witness: true });
    witness.receive(1_000, b, preVote(4, 3, 2));
    expect(catchUps(witness.takeReady())).toEqual([{ type: 'catchUpEntries', term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [entry(3, 3), entry(4, 3)] }]);
  });

  it('starts a term further back each time a voter asks again with the same log, until the batch starts on its log', () => {
    // The voter holds 2:t2 (a leader of term 2 wrote it to it only); the witness holds 2:t1 and
    // 3:t3, committed by the leader of term 3, now gone. The first batch starts at 2:t1, which the
    // voter does not hold there (logsDiverge), so the voter asks again with the same log.
    const witness = node(w, logOf(1, 1, 3), { witness: true });
    const voter = node(b, logOf(1, 2), { term: 3 });
    const ask = (now: number): CatchUpEntries[] => {
      witness.receive(now, b, preVote(voter.term + 1, voter.lastIndex, voter.termAt(voter.lastIndex) ?? 0));
      const sent = catchUps(witness.takeReady());
      for (const batch of sent) voter.receive(now + 1, w, batch);
      drainReady(voter);
      return sent;
    };
    expect(ask(1_000)).toEqual([expect.objectContaining({ prevLogIndex: 2, prevLogTerm: 1 })]);
    expect(terms(voter, 2)).toEqual([1, 2]);
    expect(ask(1_200)).toEqual([expect.objectContaining({ prevLogIndex: 0, prevLogTerm: 0, entries: logOf(1, 1, 3) })]);
    expect(terms(voter, 3)).toEqual([1, 1, 3]);
    // Now as up to date as the witness: granted, and nothing more is sent.
    witness.receive(1_400, b, preVote(voter.term + 1, 3, 3));
    const ready = witness.takeReady();
    expect(catchUps(ready)).toEqual([]);
    expect(outbound(ready)).toEqual([{ to: b, message: expect.objectContaining({ type: 'requestVoteResponse', granted: true }) }]);
  });

  it('sends one batch per voter per shortest election timeout, however often it is asked', () => {
    const witness = node(w, logOf(1, 1, 2, 2), { witness: true });
    witness.receive(1_000, b, preVote(4, 2, 1));
    expect(catchUps(witness.takeReady())).toHaveLength(1);
    for (let now = 1_001; now < 1_150; now += 10) {
      witness.receive(now, b, preVote(4, 2, 1));
      expect(catchUps(witness.takeReady())).toEqual([]);
    }
    witness.receive(1_150, b, preVote(4, 2, 1));
    expect(catchUps(witness.takeReady())).toHaveLength(1);
  });

  it('sends nothing while it hears a live leader (the leader brings the voter up to date)', () => {
    const witness = node(w, logOf(1, 1, 2, 2), { witness: true });
    witness.receive(1_000, a, { type: 'appendEntries', term: 3, prevLogIndex: 4, prevLogTerm: 2, entries: [], leaderCommit: 2, readRound: 0 });
    witness.takeReady();
    witness.receive(1_010, b, preVote(4, 2, 1));
    expect(catchUps(witness.takeReady())).toEqual([]);
  });

  it('sends nothing to a voter as up to date as itself, to a learner, or when it is no witness', () => {
    const witness = node(w, logOf(1, 1, 2, 2), { witness: true });
    witness.receive(1_000, b, preVote(4, 4, 2));
    witness.receive(1_001, d, preVote(4, 2, 1));
    expect(catchUps(witness.takeReady())).toEqual([]);
    const voter = node(w, logOf(1, 1, 2, 2));
    voter.receive(1_000, b, preVote(4, 2, 1));
    expect(catchUps(voter.takeReady())).toEqual([]);
  });
});

describe('a voter given a witness its entries', () => {
  const batch = (prevLogIndex: number, prevLogTerm: number, entries: LogEntry[], term = 3): CatchUpEntries => ({ type: 'catchUpEntries', term, prevLogIndex, prevLogTerm, entries });

  it('appends them, takes the newest entry term without a vote, and the witness then grants it an election it wins', () => {
    const witness = node(w, logOf(1, 1, 2, 5), { witness: true, term: 5 });
    const voter = node(b, logOf(1, 1), { term: 3 });
    voter.receive(1_000, w, batch(2, 1, [entry(3, 2), entry(4, 5)], 5));
    const ready = drainReady(voter);
    expect(ready?.entries.map(({ index }) => index)).toEqual([3, 4]);
    expect(ready?.hardState).toEqual({ term: 5, votedFor: null });
    expect(ready?.trace).toContainEqual(expect.objectContaining({ type: 'catchUpAccepted', from: w, lastIndex: 4 }));
    expect(voter.term).toBe(5);
    expect(voter.role).toBe('follower');
    expect(voter.leader).toBeNull();
    // Its next campaign: the witness grants the pre-vote and the vote, and it leads.
    voter.tick(voter.nextDeadline());
    const preVotes = outbound(drainReady(voter)).filter(({ to }) => to === w);
    expect(preVotes).toEqual([{ to: w, message: preVote(6, 4, 5) }]);
    witness.receive(2_000, b, preVotes[0]?.message as RaftMessage);
    const preVoteAnswer = outbound(drainReady(witness));
    expect(preVoteAnswer).toEqual([{ to: b, message: expect.objectContaining({ type: 'requestVoteResponse', granted: true, preVote: true }) }]);
    voter.receive(2_001, w, preVoteAnswer[0]?.message as RaftMessage);
    const votes = outbound(drainReady(voter)).filter(({ to }) => to === w);
    witness.receive(2_002, b, votes[0]?.message as RaftMessage);
    const voteAnswer = outbound(drainReady(witness));
    expect(voteAnswer).toEqual([{ to: b, message: expect.objectContaining({ type: 'requestVoteResponse', granted: true, preVote: false, term: 6 }) }]);
    voter.receive(2_003, w, voteAnswer[0]?.message as RaftMessage);
    expect(voter.role).toBe('leader');
    expect(witness.role).toBe('follower');
  });

  it('replaces a tail the witness does not hold only with a batch at least as up to date', () => {
    const voter = node(b, logOf(1, 1, 2), { term: 3 });
    voter.receive(1_000, w, batch(2, 1, [entry(3, 3), entry(4, 3)]));
    drainReady(voter);
    expect(terms(voter, 4)).toEqual([1, 1, 3, 3]);

    const ahead = node(b, logOf(1, 1, 3), { term: 3 });
    ahead.receive(1_000, w, batch(2, 1, [entry(3, 2), entry(4, 2)]));
    const ready = drainReady(ahead);
    expect(ready?.trace).toContainEqual(expect.objectContaining({ type: 'catchUpIgnored', reason: 'notBehind' }));
    expect(terms(ahead, 3)).toEqual([1, 1, 3]);
    expect(ahead.lastIndex).toBe(3);
  });

  it('ignores a batch that does not start on its own log, one while it hears a leader, and leaders ignore them', () => {
    const diverging = node(b, logOf(1, 2), { term: 3 });
    diverging.receive(1_000, w, batch(2, 1, [entry(3, 3)]));
    expect(drainReady(diverging)?.trace).toContainEqual(expect.objectContaining({ type: 'catchUpIgnored', reason: 'logsDiverge' }));
    expect(diverging.lastIndex).toBe(2);

    const following = node(b, logOf(1, 1), { term: 3 });
    following.receive(1_000, a, { type: 'appendEntries', term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 0, readRound: 0 });
    drainReady(following);
    following.receive(1_010, w, batch(2, 1, [entry(3, 3)]));
    expect(drainReady(following)?.trace).toContainEqual(expect.objectContaining({ type: 'catchUpIgnored', reason: 'leaderKnown' }));
    expect(following.lastIndex).toBe(2);
  });

  it('refuses, and counts, a batch from outside its voters or one with entries newer than the frame', () => {
    const voter = node(b, logOf(1, 1), { term: 3 });
    voter.receive(1_000, d, batch(2, 1, [entry(3, 3)]));
    voter.receive(1_001, w, batch(2, 1, [entry(3, 4)], 3));
    const ready = drainReady(voter);
    expect(ready?.metrics).toEqual([
      { type: 'frameRefused', from: d, reason: 'senderNotVoter' },
      { type: 'frameRefused', from: w, reason: 'entryTermAboveFrame' },
    ]);
    expect(voter.lastIndex).toBe(2);
  });
});
