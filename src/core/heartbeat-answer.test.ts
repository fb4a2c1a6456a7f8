// When a follower answers AppendEntries: a heartbeat that vouches only for entries already on
// disk is answered at once, while anything that acknowledges unwritten state (new entries,
// entries still being written, a new term or leader pin) waits for its write. CheckQuorum counts
// heartbeat answers, so holding them behind a slow disk used to depose healthy leaders.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { AppendEntriesResponse, RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { OutboundMessage, Ready } from './ready.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

/** Node b, following a in term 2 with entries 1 and 2 on disk (so its persisted index is 2). */
function follower(): RaftCore {
  return new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: { term: 2, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2)] });
}

function append(prevLogIndex: number, prevLogTerm: number, entries: LogEntry[] = [], leaderCommit = 0, term = 2): RaftMessage {
  return { type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound: 0 };
}

function responses(messages: readonly OutboundMessage[]): AppendEntriesResponse[] {
  return messages.filter((outbound) => outbound.message.type === 'appendEntriesResponse').map((outbound) => outbound.message as AppendEntriesResponse);
}

function takeReady(core: RaftCore): Ready {
  const ready = core.takeReady();
  expect(ready).not.toBeNull();
  return ready as Ready;
}

/** A follower that received entry 3 and handed its write to the disk, which has not finished. */
function followerWritingEntry3(): RaftCore {
  const core = follower();
  core.receive(10, a, append(2, 2, [entry(3, 2)]));
  const write = takeReady(core);
  expect(write.entries.map((each) => each.index)).toEqual([3]);
  expect(responses(write.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 3 }]);
  return core;
}

describe('answering heartbeats while a write is in flight', () => {
  it('answers at once a heartbeat whose prevLogIndex is at or below the persisted index', () => {
    const core = followerWritingEntry3();
    core.receive(20, a, append(2, 2));
    const atPersisted = takeReady(core);
    expect(responses(atPersisted.messages)).toMatchObject([{ success: true, matchIndex: 2, term: 2 }]);
    expect(atPersisted.messagesAfterPersist).toEqual([]);
    core.receive(30, a, append(1, 1));
    const belowPersisted = takeReady(core);
    expect(responses(belowPersisted.messages)).toMatchObject([{ success: true, matchIndex: 1 }]);
    expect(belowPersisted.messagesAfterPersist).toEqual([]);
    // Answering early writes nothing: the only write stays the one in flight.
    expect(belowPersisted.entries).toEqual([]);
    expect(belowPersisted.hardState).toBeNull();
  });

  it('keeps the read round of the heartbeat in its immediate answer', () => {
    const core = followerWritingEntry3();
    core.receive(20, a, { type: 'appendEntries', term: 2, prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 0, readRound: 7 });
    expect(responses(takeReady(core).messages)).toMatchObject([{ success: true, matchIndex: 2, readRound: 7 }]);
  });

  it('answers a heartbeat above the persisted index only after the write that holds it', () => {
    const core = followerWritingEntry3();
    core.receive(20, a, append(3, 2, [], 3));
    const ready = takeReady(core);
    expect(responses(ready.messages)).toEqual([]);
    expect(responses(ready.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 3 }]);
    // Once entry 3 is durable the same heartbeat waits for no write. Its answer repeats the one
    // the driver sent once the write completed (match 3), so it is held a tenth of an interval (held-answers.ts), then
    // goes as it is.
    core.persisted(25, { index: 3, term: 2 });
    core.receive(30, a, append(3, 2, [], 3));
    expect(core.takeReady()).toBeNull();
    expect(core.nextDeadline()).toBe(35);
    core.tick(35);
    const afterWrite = takeReady(core);
    expect(responses(afterWrite.messages)).toMatchObject([{ success: true, matchIndex: 3 }]);
    expect(afterWrite.messagesAfterPersist).toEqual([]);
  });

  it('answers an AppendEntries carrying new entries after persistence, with or without a write in flight', () => {
    const core = followerWritingEntry3();
    core.receive(20, a, append(3, 2, [entry(4, 2)]));
    const whileWriting = takeReady(core);
    expect(whileWriting.entries.map((each) => each.index)).toEqual([4]);
    expect(responses(whileWriting.messages)).toEqual([]);
    expect(responses(whileWriting.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 4 }]);

    const idle = follower();
    idle.receive(20, a, append(2, 2, [entry(3, 2)]));
    const ready = takeReady(idle);
    expect(responses(ready.messages)).toEqual([]);
    expect(responses(ready.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 3 }]);
  });

  it('answers a resend of entries still being written only after they are written', () => {
    const core = followerWritingEntry3();
    core.receive(20, a, append(2, 2, [entry(3, 2)]));
    const ready = takeReady(core);
    expect(ready.entries).toEqual([]); // already in the log: nothing new to write
    expect(responses(ready.messages)).toEqual([]);
    expect(responses(ready.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 3 }]);
  });

  it('answers at once a heartbeat below its commit index with what is both committed and on disk', () => {
    // Entries 3 and 4 written but not durable; entry 5 brings commit index 4. The leader's next
    // heartbeat still names the match index it last heard (2), below the commit index.
    const core = followerWritingEntry3();
    core.receive(12, a, append(3, 2, [entry(4, 2)]));
    takeReady(core);
    core.receive(14, a, append(4, 2, [entry(5, 2)], 4));
    takeReady(core);
    core.receive(20, a, append(2, 2, [], 4));
    const ready = takeReady(core);
    expect(responses(ready.messages)).toMatchObject([{ success: true, matchIndex: 2 }]);
    expect(ready.messagesAfterPersist).toEqual([]);
    // Once entries through 4 are durable it vouches for the commit index.
    core.persisted(25, { index: 3, term: 2 });
    core.persisted(26, { index: 4, term: 2 });
    core.receive(30, a, append(2, 2, [], 4));
    expect(responses(takeReady(core).messages)).toMatchObject([{ success: true, matchIndex: 4 }]);
  });

  it('waits for a term still being written even after the ready that carried it was taken', () => {
    const core = follower();
    core.receive(20, a, append(2, 2, [], 0, 3));
    const termWrite = takeReady(core);
    expect(termWrite.hardState).toEqual({ term: 3, votedFor: null });
    // The write of term 3 is in flight: the next heartbeat of term 3 must not answer for it yet.
    core.receive(30, a, append(2, 2, [], 0, 3));
    const second = takeReady(core);
    expect(responses(second.messages)).toEqual([]);
    expect(responses(second.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 2, term: 3 }]);
    core.persisted(35, null);
    // Written now: the next heartbeat waits for nothing, and its answer, a repeat, goes once held.
    core.receive(40, a, append(2, 2, [], 0, 3));
    expect(core.takeReady()).toBeNull();
    core.tick(45);
    const held = takeReady(core);
    expect(responses(held.messages)).toMatchObject([{ success: true, matchIndex: 2, term: 3 }]);
    expect(held.messagesAfterPersist).toEqual([]);
  });

  it('answers a heartbeat that raises the term only after the new term is written', () => {
    const core = follower();
    core.receive(20, a, append(2, 2, [], 0, 3));
    const ready = takeReady(core);
    expect(ready.hardState).toEqual({ term: 3, votedFor: null });
    expect(responses(ready.messages)).toEqual([]);
    expect(responses(ready.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 2, term: 3 }]);
  });

  it('answers the first heartbeat of a new leader in the same term only after its pin is written', () => {
    const core = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2)] });
    core.receive(20, c, append(2, 2));
    const ready = takeReady(core);
    expect(ready.hardState).toBeNull();
    expect(ready.leaderForTerm).toEqual({ term: 2, leaderId: c });
    expect(responses(ready.messages)).toEqual([]);
    expect(responses(ready.messagesAfterPersist)).toMatchObject([{ success: true, matchIndex: 2 }]);
  });

  it('answers a refused heartbeat (log mismatch) as before, after the writes in flight', () => {
    const core = followerWritingEntry3();
    core.receive(20, a, append(5, 2));
    const ready = takeReady(core);
    expect(responses(ready.messages)).toEqual([]);
    expect(responses(ready.messagesAfterPersist)).toMatchObject([{ success: false, conflictIndex: 4 }]);
  });
});

/**
 * Two voters, a and b, delivered to by hand. Every ready becomes a job on its node's disk; jobs
 * finish in order, and while a disk is stuck none with a write finishes (nor anything queued
 * behind it), like a strict IndexedDB transaction that takes far longer than an election timeout.
 */
function twoNodeCluster(): {
  readonly cores: ReadonlyMap<NodeId, RaftCore>;
  readonly stuck: Set<NodeId>;
  run(from: number, to: number): void;
  pendingWrites(id: NodeId): number;
  answersReceived(id: NodeId): number;
} {
  const config = resolveRaftConfig({});
  const make = (id: NodeId, random: number): RaftCore => new RaftCore({ id, config, random: () => random, now: 0, bootstrap: { voters: [a, b] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
  // a times out first (150 ms against b's 298 ms), so it leads.
  const cores = new Map<NodeId, RaftCore>([
    [a, make(a, 0)],
    [b, make(b, 0.99)],
  ]);
  const disks = new Map<NodeId, Array<{ ready: Ready; writes: boolean }>>([
    [a, []],
    [b, []],
  ]);
  const answers = new Map<NodeId, number>([
    [a, 0],
    [b, 0],
  ]);
  const stuck = new Set<NodeId>();
  const wire: Array<{ from: NodeId; outbound: OutboundMessage }> = [];

  const settle = (now: number): void => {
    for (let round = 0; round < 1_000; round += 1) {
      for (const [id, core] of cores) {
        const disk = disks.get(id)!;
        for (let ready = core.takeReady(); ready !== null; ready = core.takeReady()) {
          for (const outbound of ready.messages) wire.push({ from: id, outbound });
          const writes = ready.hardState !== null || ready.leaderForTerm !== null || ready.truncateFrom !== null || ready.entries.length > 0 || ready.snapshot !== null;
          disk.push({ ready, writes });
        }
        while (disk.length > 0 && !(disk[0]!.writes && stuck.has(id))) {
          const { ready, writes } = disk.shift()!;
          const last = ready.entries[ready.entries.length - 1];
          if (writes) core.persisted(now, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
          for (const outbound of ready.messagesAfterPersist) wire.push({ from: id, outbound });
        }
      }
      if (wire.length === 0) return;
      for (const { from, outbound } of wire.splice(0)) {
        if (outbound.message.type === 'appendEntriesResponse') answers.set(outbound.to, answers.get(outbound.to)! + 1);
        cores.get(outbound.to)?.receive(now, from, outbound.message);
      }
    }
    throw new Error('the cluster did not settle');
  };

  return {
    cores,
    stuck,
    run(from, to) {
      for (let now = from; now <= to; now += 5) {
        for (const core of cores.values()) core.tick(now);
        settle(now);
      }
    },
    pendingWrites: (id) => disks.get(id)!.filter((job) => job.writes).length,
    answersReceived: (id) => answers.get(id)!,
  };
}

describe('CheckQuorum with a follower whose disk is stuck', () => {
  it('a leader keeps leading for several election timeouts while its only follower answers heartbeats but never finishes a write', () => {
    const cluster = twoNodeCluster();
    const leader = cluster.cores.get(a)!;
    const followerCore = cluster.cores.get(b)!;
    cluster.run(0, 400);
    expect(leader.role).toBe('leader');
    const term = leader.term;
    for (let proposal = 1; proposal <= 3; proposal += 1) leader.propose(405, proposal, new Uint8Array([proposal]), null);
    cluster.run(405, 600);
    const committed = leader.commitIndex;
    expect(committed).toBeGreaterThanOrEqual(4);
    expect(followerCore.applicableIndex).toBe(committed);

    // The follower's application compacts its log; that write never finishes.
    cluster.stuck.add(b);
    followerCore.publishSnapshot(605, committed, new Uint8Array([42]));
    const answersBefore = cluster.answersReceived(a);
    // Five election timeouts (the maximum is 300 ms): CheckQuorum would have run many times.
    cluster.run(605, 2_105);
    expect(cluster.pendingWrites(b)).toBe(1);
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(term);
    expect(followerCore.role).toBe('follower');
    // Heartbeats every 50 ms, each answered: about 30 in 1.5 s.
    expect(cluster.answersReceived(a) - answersBefore).toBeGreaterThanOrEqual(25);
  });

  it('a leader keeps leading while its only follower is stuck writing entries of the leader (probes go with heartbeats)', () => {
    const cluster = twoNodeCluster();
    const leader = cluster.cores.get(a)!;
    cluster.run(0, 400);
    expect(leader.role).toBe('leader');
    const term = leader.term;
    const committed = leader.commitIndex;
    // The follower's disk sticks; the leader's next entries reach it but are never written, so
    // the leader sees no progress, falls back to probing, and the probe's answer waits too.
    cluster.stuck.add(b);
    leader.propose(405, 1, new Uint8Array([1]), null);
    cluster.run(405, 2_405);
    expect(cluster.pendingWrites(b)).toBeGreaterThanOrEqual(1);
    expect(leader.commitIndex).toBe(committed);
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(term);
    // Once the disk recovers, the entry commits under the same leader.
    cluster.stuck.delete(b);
    cluster.run(2_410, 2_800);
    expect(leader.commitIndex).toBeGreaterThan(committed);
    expect(leader.term).toBe(term);
  });
});
