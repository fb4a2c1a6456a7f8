// What a follower's install of a snapshot asks storage to cut before the snapshot is durable. The
// driver writes a ready's truncation first, then the snapshot, then the discard through its index
// (write-queue.ts). Entries up to the snapshot's index above the follower's commit index may be
// committed (its acknowledgement counted), so they may go only with the discard, after the snapshot
// landed; cut first, a crash in between left the node without entries a quorum relied on (5-node
// simulation seed 60060 --removals: a leader elected without a committed entry). Only entries after
// the index, in a log that differs from the snapshot there, are another history and go at once.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { InstallSnapshot } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type LogEntry } from './types.ts';

const [leader, follower, other] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>];
const entriesOf = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, offset) => ({ index: from + offset, term, command: new Uint8Array([offset]), isNoOp: false }));

function followerWith(entries: readonly LogEntry[]): RaftCore {
  const core = new RaftCore({ id: follower, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [leader, follower, other] }, hardState: { term: 2, votedFor: null }, leaderPin: null, snapshotMeta: null, entries });
  core.takeReady();
  return core;
}

function install(core: RaftCore, lastIncludedIndex: number, lastIncludedTerm: number) {
  const state = new Uint8Array([1, 2, 3]);
  const message: InstallSnapshot = { type: 'installSnapshot', term: 3, meta: { lastIncludedIndex, lastIncludedTerm, config: { old: null, new: { voters: [leader, follower, other] } } }, totalBytes: state.length, offset: 0, data: state };
  core.receive(10, leader, message);
  const ready = core.takeReady();
  if (ready === null) throw new Error('no ready after the install');
  return ready;
}

describe('installing a snapshot over a log that does not reach it', () => {
  it('cuts nothing before the snapshot is durable: the discard through its index removes the log with it', () => {
    const core = followerWith(entriesOf(1, 10, 2)); // commit index 0 after a restart: all ten uncommitted here
    const ready = install(core, 20, 3);
    expect(ready.truncateFrom).toBeNull();
    expect(ready.snapshot?.discardLogThrough).toBe(20);
    expect(core.commitIndex).toBe(20);
  });
});

describe('installing a snapshot over a log that differs from it at its index', () => {
  it('cuts at once only the entries after the index (another history), and the rest with the snapshot', () => {
    const core = followerWith(entriesOf(1, 30, 2)); // term 2 at index 20; the snapshot says 3
    const ready = install(core, 20, 3);
    expect(ready.truncateFrom).toBe(21);
    expect(ready.snapshot?.discardLogThrough).toBe(20);
    expect(core.lastIndex).toBe(20);
  });

  it('keeps the entries after the index when the log matches there', () => {
    const core = followerWith([...entriesOf(1, 20, 3), ...entriesOf(21, 25, 3)]);
    const ready = install(core, 20, 3);
    expect(ready.truncateFrom).toBeNull();
    expect(core.lastIndex).toBe(25);
  });
});

describe('what a follower counts as durable while the install write is in flight', () => {
  it('over a log that differs at the index: nothing past the old commit index, and a heartbeat through the index waits for the write', () => {
    const core = followerWith(entriesOf(1, 30, 2));
    install(core, 20, 3);
    expect(core.applicableIndex).toBe(0);
    core.receive(11, leader, { type: 'appendEntries', term: 3, prevLogIndex: 20, prevLogTerm: 3, entries: [], leaderCommit: 20, readRound: 0 });
    const next = core.takeReady();
    expect(next?.messages.some((sent) => sent.message.type === 'appendEntriesResponse')).toBe(false);
    expect(next?.messagesAfterPersist.some((sent) => sent.message.type === 'appendEntriesResponse')).toBe(true);
  });

  it('over a log that falls short of the index: nothing past the old commit index either, until the snapshot lands', () => {
    const core = followerWith(entriesOf(1, 10, 2));
    install(core, 20, 3);
    expect(core.applicableIndex).toBe(0);
    core.persisted(20, null, 20); // the driver, once the snapshot write landed
    expect(core.applicableIndex).toBe(20);
  });
});
