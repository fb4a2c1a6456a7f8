import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../codec/message-codec.ts';
import type { AppendEntries, AppendEntriesResponse, RequestVoteResponse } from '../core/messages.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type LogEntry, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { SafetyChecker } from './checkers.ts';
import { checkAcknowledgements, watchDurableWrites } from './durable-watch.ts';

const [self, leader] = [nodeId('self'), nodeId('leader')];
const entries = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, offset) => ({ index: from + offset, term, command: new Uint8Array([offset]), isNoOp: false }));
const acknowledgement = (term: number, matchIndex: number): Uint8Array => encodeMessage({ type: 'appendEntriesResponse', term, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0 } satisfies AppendEntriesResponse);
const vote = (term: number, preVote = false): Uint8Array => encodeMessage({ type: 'requestVoteResponse', term, preVote, granted: true, denialReason: null } satisfies RequestVoteResponse);

function watched() {
  const checker = new SafetyChecker(8);
  const durable = new InMemoryRaftStorage();
  const view = watchDurableWrites(checker, self, durable);
  const sent: Array<{ to: NodeId; bytes: Uint8Array }> = [];
  const inner: RaftTransport = { selfId: self, peers: createWatchable<ReadonlySet<NodeId>>(new Set()), incoming: createEmitter<RaftEnvelope>(), maxPayloadBytes: 65_536, send: (to, bytes) => sent.push({ to, bytes }) };
  const transport = checkAcknowledgements(checker, self, view, inner);
  const messages = () => checker.violations.map((violation) => violation.message);
  return { checker, durable, view, sent, transport, messages };
}

describe('durable-watch: nothing promised before the disk holds it', () => {
  it('an acknowledgement through an index the disk does not hold yet is a violation; once written, it is not', async () => {
    const { durable, sent, transport, messages } = watched();
    await durable.saveTermAndVotedFor(1, null);
    transport.send(leader, acknowledgement(1, 3));
    expect(messages()).toEqual(['Durable before promised violated (seed 8): self acknowledged entries through 3 to leader in term 1 while its disk held them through 0']);
    await durable.writeBatch({ entries: entries(1, 3, 1) });
    transport.send(leader, acknowledgement(1, 3));
    expect(messages().length).toBe(1);
    expect(sent.length).toBe(2); // checked, never withheld: the run goes on as it would
    expect(transport.maxPayloadBytes).toBe(65_536);
  });

  it('a snapshot covers an acknowledgement as a log does', async () => {
    const { durable, transport, view, messages } = watched();
    await durable.writeBatch({ hardState: { term: 2, votedFor: null }, entries: [] });
    await durable.saveSnapshot({ lastIncludedIndex: 10, lastIncludedTerm: 2 }, new Uint8Array(0));
    expect(view.lastIndex).toBe(10);
    transport.send(leader, acknowledgement(2, 10));
    expect(messages()).toEqual([]);
  });

  it('a granted vote needs that vote in that term on disk; pre-votes promise nothing; a frame of a term the disk has left is not judged', async () => {
    const { durable, transport, messages } = watched();
    transport.send(leader, vote(1, true));
    expect(messages()).toEqual([]);
    transport.send(leader, vote(1));
    expect(messages()).toEqual(['Durable before promised violated (seed 8): self granted leader its vote in term 1 while its disk held term 0, vote none']);
    await durable.writeBatch({ hardState: { term: 1, votedFor: leader }, entries: [] });
    transport.send(leader, vote(1));
    await durable.saveTermAndVotedFor(3, null);
    transport.send(leader, vote(1)); // held for its write, sent after a later term's landed
    expect(messages().length).toBe(1);
  });

  it("an acknowledgement of a term the disk has left still needs its entries, unless a later term's leader cut them", async () => {
    const { durable, transport, messages } = watched();
    await durable.writeBatch({ hardState: { term: 2, votedFor: null }, entries: entries(1, 5, 2) });
    await durable.saveTermAndVotedFor(3, null);
    transport.send(leader, acknowledgement(2, 5));
    expect(messages()).toEqual([]);
    transport.send(leader, acknowledgement(2, 9)); // entries 6-9 never landed, and nothing cut them
    expect(messages()).toEqual(['Durable before promised violated (seed 8): self acknowledged entries through 9 to leader in term 2 while its disk held them through 5 (its disk in term 3, snapshot through 0)']);
    await durable.writeBatch({ hardState: { term: 4, votedFor: null }, truncateFrom: 4, entries: entries(4, 4, 4) });
    transport.send(leader, acknowledgement(3, 5)); // overwritten by term 4's leader: excused
    transport.send(leader, acknowledgement(4, 5)); // its own term: not
    expect(messages().length).toBe(2);
  });

  it('an acknowledgement through M needs the entry at M its leader sent, not only a log as long', async () => {
    const { checker, durable, transport, messages } = watched();
    // The leader's transport, wrapped with the same checker: what it sends is what acks are judged by.
    const leaderDisk = watchDurableWrites(checker, leader, new InMemoryRaftStorage());
    const leaderSent: Uint8Array[] = [];
    const leaderSide = checkAcknowledgements(checker, leader, leaderDisk, { selfId: leader, peers: createWatchable<ReadonlySet<NodeId>>(new Set()), incoming: createEmitter<RaftEnvelope>(), send: (_to, bytes) => leaderSent.push(bytes) });
    await durable.writeBatch({ hardState: { term: 3, votedFor: null }, entries: entries(1, 5, 2) });
    // The leader of term 3 sends entries 4-5 of term 3 after entry 3 of term 2: the follower's
    // 4-5 of term 2 conflict, and their overwrite has not landed when it answers.
    leaderSide.send(self, encodeMessage({ type: 'appendEntries', term: 3, prevLogIndex: 3, prevLogTerm: 2, entries: entries(4, 5, 3), leaderCommit: 0, readRound: 0 } satisfies AppendEntries));
    expect(leaderSent.length).toBe(1);
    transport.send(leader, acknowledgement(3, 3)); // entry 3 (the previous one) is the leader's: fine
    transport.send(leader, acknowledgement(3, 5));
    expect(messages()).toEqual(["Durable before promised violated (seed 8): self acknowledged entries through 5 to leader in term 3 while its disk held an entry of term 2 there, not the leader's of term 3"]);
    await durable.writeBatch({ truncateFrom: 4, entries: entries(4, 5, 3) });
    transport.send(leader, acknowledgement(3, 5));
    transport.send(leader, acknowledgement(3, 4)); // an index the leader named no term for: not judged
    expect(messages().length).toBe(1);
  });

  it('a snapshot on disk covers an acknowledgement while the log below it waits for its discard', async () => {
    const { durable, transport, view, messages } = watched();
    await durable.writeBatch({ hardState: { term: 2, votedFor: null }, entries: entries(1, 5, 2) });
    await durable.saveSnapshot({ lastIncludedIndex: 10, lastIncludedTerm: 2 }, new Uint8Array(0));
    expect(view.lastIndex).toBe(10);
    transport.send(leader, acknowledgement(2, 10));
    expect(messages()).toEqual([]);
  });

  it('a later term cutting entries that never reached the disk (merged away) excuses an older acknowledgement of them', async () => {
    const { durable, transport, messages } = watched();
    await durable.writeBatch({ hardState: { term: 2, votedFor: null }, entries: entries(1, 4, 2) });
    // Entry 5 of term 2 was queued, then merged with term 3's cut from 5 before any of it landed.
    await durable.writeBatch({ hardState: { term: 3, votedFor: null }, truncateFrom: 5, entries: [] });
    transport.send(leader, acknowledgement(2, 5));
    expect(messages()).toEqual([]);
  });

  it('an installed snapshot is acknowledged only once the disk holds it', async () => {
    const { durable, transport, messages } = watched();
    await durable.saveTermAndVotedFor(2, null);
    const installed = encodeMessage({ type: 'installSnapshotResponse', term: 2, lastIncludedIndex: 7, nextOffset: 3, installed: true });
    transport.send(leader, installed);
    await durable.saveSnapshot({ lastIncludedIndex: 7, lastIncludedTerm: 2 }, new Uint8Array(3));
    transport.send(leader, installed);
    expect(messages()).toEqual(['Durable before promised violated (seed 8): self acknowledged a snapshot through 7 to leader in term 2 while its disk held through 0']);
  });

  it('a truncation that takes a committed entry off a log that held its term is a violation, and so is a discard beyond the snapshot; one a durable snapshot covers is not', async () => {
    const { checker, durable, messages } = watched();
    await durable.writeBatch({ hardState: { term: 2, votedFor: null }, entries: entries(1, 6, 1) });
    for (const index of [1, 2, 3, 4, 5]) checker.entryApplied(leader, { index, term: 1, command: new Uint8Array([index - 1]) }, 1);
    await durable.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, new Uint8Array(0));
    await durable.discardLogPrefix(2);
    await durable.truncateFrom(6); // never applied anywhere: may be another history
    expect(messages()).toEqual([]);
    await durable.discardLogPrefix(3);
    await durable.writeBatch({ truncateFrom: 5, entries: entries(5, 5, 2) });
    expect(messages()).toEqual([
      'Committed entry kept violated (seed 8): self discarded its log through 3 beyond its durable snapshot through 2, entry 3 (term 1) with it',
      'Committed entry kept violated (seed 8): self removed committed entry 5 (term 1) from its durable log, which held an entry of term 1 (a truncation from 5)',
    ]);
  });
});
