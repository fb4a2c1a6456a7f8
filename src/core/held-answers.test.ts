// A follower's answer that tells its leader nothing new (its match index already reported in this
// term, no read round, nothing being written) waits a tenth of a heartbeat interval, and goes only
// if no later answer to that leader carries it first (held-answers.ts).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { AppendEntriesResponse, RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { OutboundMessage } from './ready.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
/** The default heartbeat interval is 50 ms: an answer is held 5 ms. */
const holdMs = 5;

/** Node b, following a in term 2 with entries 1 and 2 on disk. */
function follower(): RaftCore {
  return new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: { term: 2, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2)] });
}

function append(prevLogIndex: number, prevLogTerm: number, entries: LogEntry[] = [], leaderCommit = 0, readRound = 0, term = 2): RaftMessage {
  return { type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound };
}

/** Every AppendEntries answer the next ready sends or holds for a write, with its addressee. */
function answers(core: RaftCore): Array<{ to: NodeId; afterPersist: boolean; message: AppendEntriesResponse }> {
  const ready = core.takeReady();
  if (ready === null) return [];
  const pick = (messages: readonly OutboundMessage[], afterPersist: boolean) =>
    messages.filter((outbound) => outbound.message.type === 'appendEntriesResponse').map((outbound) => ({ to: outbound.to, afterPersist, message: outbound.message as AppendEntriesResponse }));
  return [...pick(ready.messages, false), ...pick(ready.messagesAfterPersist, true)];
}

/** The follower after it answered entry 3 (its write done): the leader has heard match 3. */
function answeredThrough3(): RaftCore {
  const core = follower();
  core.receive(10, a, append(2, 2, [entry(3, 2)]));
  expect(answers(core)).toMatchObject([{ to: a, afterPersist: true, message: { success: true, matchIndex: 3 } }]);
  core.persisted(12, { index: 3, term: 2 });
  return core;
}

describe('answers that tell the leader nothing new', () => {
  it('the commit news after an answered entry is held, and the next entry\'s answer carries it: one answer, not two', () => {
    const core = answeredThrough3();
    core.receive(20, a, append(3, 2, [], 3)); // the commit news of entry 3
    expect(answers(core)).toEqual([]);
    expect(core.commitIndex).toBe(3); // applied at once all the same
    expect(core.nextDeadline()).toBe(20 + holdMs);
    core.receive(21, a, append(3, 2, [entry(4, 2)], 3)); // the next proposal's entry
    expect(answers(core)).toMatchObject([{ afterPersist: true, message: { success: true, matchIndex: 4 } }]);
    core.persisted(23, { index: 4, term: 2 });
    core.tick(20 + holdMs);
    expect(answers(core)).toEqual([]); // superseded: never sent
    expect(core.nextDeadline()).toBeGreaterThan(20 + holdMs);
  });

  it('a held answer goes at its deadline when nothing carries it, so an idle leader still hears its followers', () => {
    const core = answeredThrough3();
    core.receive(20, a, append(3, 2, [], 3));
    expect(answers(core)).toEqual([]);
    core.tick(20 + holdMs - 1);
    expect(answers(core)).toEqual([]);
    core.tick(20 + holdMs);
    expect(answers(core)).toEqual([{ to: a, afterPersist: false, message: { type: 'appendEntriesResponse', term: 2, success: true, matchIndex: 3, conflictIndex: 0, conflictTerm: 0, readRound: 0 } }]);
    // Every heartbeat of an idle leader is answered the same way, each a hold later.
    core.receive(70, a, append(3, 2, [], 3));
    expect(answers(core)).toEqual([]);
    core.tick(70 + holdMs);
    expect(answers(core)).toMatchObject([{ to: a, message: { success: true, matchIndex: 3 } }]);
  });

  it('never holds an answer with news: a read round, a higher match, a refusal', () => {
    const core = answeredThrough3();
    core.receive(20, a, append(3, 2, [], 3, 9));
    expect(answers(core)).toMatchObject([{ afterPersist: false, message: { success: true, matchIndex: 3, readRound: 9 } }]);
    core.receive(21, a, append(3, 2, [entry(4, 2)], 3));
    expect(answers(core)).toMatchObject([{ afterPersist: true, message: { success: true, matchIndex: 4 } }]);
    core.persisted(22, { index: 4, term: 2 });
    core.receive(23, a, append(9, 2, [], 4)); // beyond its log: a refusal, with where to resume
    expect(answers(core)).toMatchObject([{ message: { success: false, conflictIndex: 5 } }]);
  });

  it('answers at once while a write is pending: the last answer may itself still wait for it', () => {
    const core = answeredThrough3();
    core.receive(20, a, append(3, 2, [entry(4, 2)]));
    expect(answers(core)).toMatchObject([{ afterPersist: true, message: { matchIndex: 4 } }]);
    // Entry 4's write is in flight (a slow disk): a heartbeat is answered at once for what is on disk.
    core.receive(30, a, append(3, 2, [], 3));
    expect(answers(core)).toMatchObject([{ afterPersist: false, message: { success: true, matchIndex: 3 } }]);
  });

  it('the first answer in a term, or to another leader, is never held', () => {
    const core = answeredThrough3();
    // c leads term 3 now: its first AppendEntries is answered (after the new term is written).
    core.receive(20, c, append(3, 2, [], 3, 0, 3));
    expect(answers(core)).toMatchObject([{ to: c, afterPersist: true, message: { term: 3, success: true, matchIndex: 3 } }]);
  });

  it('drops a held answer once the node has moved to another term', () => {
    const core = answeredThrough3();
    core.receive(20, a, append(3, 2, [], 3));
    expect(answers(core)).toEqual([]);
    // Before the hold runs out, a candidate of term 5 (a leadership transfer's, which a live leader
    // does not stop) takes this node's vote: an answer in term 2 is stale now.
    core.receive(22, c, { type: 'requestVote', term: 5, lastLogIndex: 3, lastLogTerm: 2, preVote: false, transfer: true });
    expect(core.term).toBe(5);
    core.takeReady();
    core.tick(20 + holdMs);
    expect(answers(core)).toEqual([]);
  });

  it('keeps the held answer that reports more, under its first deadline, and sends it ahead of a refusal', () => {
    const core = answeredThrough3();
    core.receive(20, a, append(3, 2, [], 3)); // held: match 3
    core.receive(22, a, append(2, 2, [], 3)); // a heartbeat from the leader's lagging view: match 2
    expect(answers(core)).toEqual([]);
    expect(core.nextDeadline()).toBe(20 + holdMs); // not restarted by the second
    core.tick(20 + holdMs);
    expect(answers(core)).toMatchObject([{ to: a, message: { success: true, matchIndex: 3 } }]);
    // Held again, then a refusal goes at once: the held answer goes first, the refusal after it.
    core.receive(40, a, append(3, 2, [], 3));
    core.receive(41, a, append(9, 2, [], 3));
    expect(answers(core).map((each) => [each.message.success, each.message.matchIndex])).toEqual([
      [true, 3],
      [false, 0],
    ]);
  });
});

