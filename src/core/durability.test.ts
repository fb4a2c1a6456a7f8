// The durability rule and Figure 8, checked at the step level where they are decided.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite } from './ready.ts';
import { nodeId, type LogEntry } from './types.ts';

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>];
const entry = (index: number, term: number, size = 0): LogEntry => ({ index, term, command: new Uint8Array(size), isNoOp: false });

function core(id: ReturnType<typeof nodeId>, term: number, entries: LogEntry[], voters = [a, b, c], overrides = {}): RaftCore {
  return new RaftCore({ id, config: resolveRaftConfig(overrides), random: () => 0.5, now: 0, bootstrap: { voters }, hardState: { term, votedFor: null }, leaderPin: null, snapshotMeta: null, entries });
}

describe('durability rule', () => {
  it('a follower acknowledges appended entries only after they are persisted', () => {
    const follower = core(b, 1, [entry(1, 1)]);
    follower.receive(10, a, { type: 'appendEntries', term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 1)], leaderCommit: 1, readRound: 0 });
    const ready = follower.takeReady()!;
    expect(ready.entries.map((item) => item.index)).toEqual([2]);
    expect(ready.messages.some((outbound) => outbound.message.type === 'appendEntriesResponse')).toBe(false);
    expect(ready.messagesAfterPersist.some((outbound) => outbound.message.type === 'appendEntriesResponse')).toBe(true);
  });

  it('a vote is sent only after the new term and vote are persisted', () => {
    const voter = core(b, 1, [entry(1, 1)]);
    voter.receive(1_000, c, { type: 'requestVote', term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false, transfer: false });
    const ready = voter.takeReady()!;
    expect(ready.hardState).toEqual({ term: 2, votedFor: c });
    expect(ready.messages.some((outbound) => outbound.message.type === 'requestVoteResponse')).toBe(false);
    expect(ready.messagesAfterPersist.find((outbound) => outbound.message.type === 'requestVoteResponse')?.message).toMatchObject({ granted: true, term: 2 });
  });

  it('a leader counts its own entries toward a quorum only once persisted', () => {
    const leader = core(a, 0, [], [a]);
    leader.tick(1_000); // single voter: pre-vote and election win at once
    expect(leader.role).toBe('leader');
    leader.takeReady();
    expect(leader.commitIndex).toBe(0); // its no-op is not durable yet
    leader.persisted(1_000, { index: 1, term: 1 });
    expect(leader.commitIndex).toBe(1);
  });

  it('a leader of three with a follower\'s acknowledgement in still commits only once its own write of the entry lands', () => {
    // c is down: a and b make the quorum, so b's acknowledgement alone commits nothing.
    const leader = core(a, 1, [entry(1, 1)]);
    const follower = core(b, 1, [entry(1, 1)]);
    /** Takes a ready, acknowledging its write at once, and hands what it sends `to` over. */
    const exchange = (from: RaftCore, to: RaftCore, now: number): void => {
      const ready = from.takeReady();
      if (ready === null) return;
      if (readyNeedsWrite(ready)) from.persisted(now, ready.entries.length === 0 ? null : { index: ready.entries[ready.entries.length - 1]!.index, term: ready.entries[ready.entries.length - 1]!.term });
      for (const outbound of [...ready.messages, ...ready.messagesAfterPersist]) if (outbound.to === to.id) to.receive(now, from.id, outbound.message);
    };
    let now = 0;
    while (leader.role !== 'leader' && now < 2_000) {
      now += 5;
      leader.tick(now);
      exchange(leader, follower, now);
      exchange(follower, leader, now);
    }
    expect(leader.role).toBe('leader');
    for (let round = 0; round < 5; round += 1) {
      exchange(leader, follower, now);
      exchange(follower, leader, now);
    }
    const committedBefore = leader.commitIndex;
    leader.propose(now, 1, new Uint8Array([7]), null);
    const write = leader.takeReady()!;
    expect(write.entries.map((item) => item.index)).toEqual([leader.lastIndex]);
    // The AppendEntries may leave before the leader's own write (it does not depend on it): b
    // writes the entry and acknowledges it.
    for (const outbound of write.messages) if (outbound.to === b) follower.receive(now, a, outbound.message);
    exchange(follower, leader, now);
    expect(leader.commitIndex).toBe(committedBefore);
    const last = write.entries[write.entries.length - 1]!;
    leader.persisted(now, { index: last.index, term: last.term });
    expect(leader.commitIndex).toBe(last.index);
  });
});

describe('a term is on disk before anything of it leaves the node', () => {
  /** The only voter, a, with a learner b: it wins its election without asking anyone. */
  function loneVoterLeading(): RaftCore {
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a], learners: [b] }, hardState: { term: 4, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 4)] });
    leader.tick(1_000);
    expect(leader.role).toBe('leader');
    return leader;
  }
  const framesTo = (outbound: readonly { to: unknown; message: { type: string } }[]): string[] => outbound.filter((item) => item.to === b).map((item) => item.message.type);

  it('the lone voter, leading at once, holds its frames until its new term is written', () => {
    const leader = loneVoterLeading();
    const ready = leader.takeReady()!;
    expect(ready.hardState).toEqual({ term: 5, votedFor: a });
    expect(framesTo(ready.messages)).toEqual([]);
    expect(framesTo(ready.messagesAfterPersist)).toEqual(['appendEntries']);
    // Frames made before that write lands wait too (a proposal, a heartbeat), each behind it.
    leader.propose(1_000, 1, new Uint8Array([1]), null);
    leader.tick(1_100);
    const before = leader.takeReady()!;
    expect(framesTo(before.messages)).toEqual([]);
    expect(framesTo(before.messagesAfterPersist).length).toBeGreaterThan(0);
  });

  it('once the term is written, its frames go at once again', () => {
    const leader = loneVoterLeading();
    leader.takeReady();
    leader.persisted(1_001, { index: 2, term: 5 });
    leader.receive(1_002, b, { type: 'appendEntriesResponse', term: 5, success: true, matchIndex: 2, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    leader.takeReady();
    leader.propose(1_003, 1, new Uint8Array([1]), null);
    const ready = leader.takeReady()!;
    expect(framesTo(ready.messages)).toEqual(['appendEntries']);
    expect(framesTo(ready.messagesAfterPersist)).toEqual([]);
  });

  it('a leader elected by votes sends at once: its term was written before it asked', () => {
    const candidate = core(a, 1, [entry(1, 1)]);
    candidate.tick(1_000);
    for (const voter of [b, c]) candidate.receive(1_000, voter, { type: 'requestVoteResponse', term: 2, preVote: true, granted: true, denialReason: null });
    const asked = candidate.takeReady()!;
    expect(asked.hardState).toEqual({ term: 2, votedFor: a });
    candidate.persisted(1_001, null);
    candidate.receive(1_002, b, { type: 'requestVoteResponse', term: 2, preVote: false, granted: true, denialReason: null });
    expect(candidate.role).toBe('leader');
    const ready = candidate.takeReady()!;
    expect(ready.messages.filter((item) => item.message.type === 'appendEntries').map((item) => item.to).sort()).toEqual([b, c]);
  });
});

describe('Figure 8', () => {
  it('a leader never commits an earlier-term entry by counting replicas, only through its own entry', () => {
    // S1 leads term 4 with (2, term 2) from an old leader; each AppendEntries carries one entry.
    const voters = [a, b, c, d, e];
    const leader = core(a, 3, [entry(1, 1), entry(2, 2, 1_000)], voters, { maxAppendBytes: 1024 });
    leader.tick(1_000);
    for (const voter of [b, c]) leader.receive(1_000, voter, { type: 'requestVoteResponse', term: 4, preVote: true, granted: true, denialReason: null });
    for (const voter of [b, c]) leader.receive(1_000, voter, { type: 'requestVoteResponse', term: 4, preVote: false, granted: true, denialReason: null });
    expect(leader.role).toBe('leader');
    leader.takeReady();
    leader.persisted(1_000, { index: 3, term: 4 });
    // b and c acknowledge index 2 (term 2) but not the leader's own no-op at index 3.
    for (const voter of [b, c]) leader.receive(1_001, voter, { type: 'appendEntriesResponse', term: 4, success: true, matchIndex: 2, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    expect(leader.commitIndex).toBe(0);
    leader.receive(1_002, b, { type: 'appendEntriesResponse', term: 4, success: true, matchIndex: 3, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    leader.receive(1_002, c, { type: 'appendEntriesResponse', term: 4, success: true, matchIndex: 3, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    expect(leader.commitIndex).toBe(3); // committing its own entry commits the earlier ones too
  });
});
