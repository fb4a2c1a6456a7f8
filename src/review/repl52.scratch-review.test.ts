// Review (replication and elections, src/core): scratch tests marked "confirmed correct", which
// would catch regressions (the failing one lives on in src/core/vote-denial-reasons.test.ts).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import type { RaftMessage } from '../core/messages.ts';
import { RaftCore } from '../core/raft-core.ts';
import { readyNeedsWrite, type Ready } from '../core/ready.ts';
import { nodeId, type LogEntry, type NodeId } from '../core/types.ts';
import { runFuzz } from './repl52-fuzz.test-support.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index & 0xff]), isNoOp: false });
const range = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, offset) => entry(from + offset, term));

function core(id: NodeId, options: { term: number; votedFor?: NodeId | null; entries: LogEntry[]; pin?: { term: number; leaderId: NodeId } | null; commitIndex?: number; config?: RaftConfig; random?: () => number }): RaftCore {
  return new RaftCore({
    id,
    config: resolveRaftConfig({ ...(options.config ?? {}) }),
    random: options.random ?? (() => 0.5),
    now: 0,
    bootstrap: { voters: [a, b, c] },
    hardState: { term: options.term, votedFor: options.votedFor ?? null },
    leaderPin: options.pin ?? null,
    snapshotMeta: null,
    entries: options.entries,
    ...(options.commitIndex === undefined ? {} : { commitIndex: options.commitIndex }),
  });
}

function all(ready: Ready | null): Array<{ to: NodeId; message: RaftMessage }> {
  return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].map(({ to, message }) => ({ to, message }));
}

/** Takes a ready and acknowledges its write at once. */
function drain(node: RaftCore, now: number): Ready | null {
  const ready = node.takeReady();
  if (ready !== null && readyNeedsWrite(ready)) {
    const last = ready.entries[ready.entries.length - 1];
    node.persisted(now, last === undefined ? null : { index: last.index, term: last.term });
  }
  return ready;
}

describe('confirmed correct: replication rules', () => {
  it('confirmed correct: a diverged follower with a long stale suffix of an older term converges in a few probes, never truncating committed entries', () => {
    // Leader a (term 4): 1..5 term 1 (committed), 6..8 term 2, 9..12 term 3, 13 its no-op to come.
    // Follower b: 1..5 term 1, 6..8 term 2, then 9..400 term 2 that never committed.
    const leaderLog = [...range(1, 5, 1), ...range(6, 8, 2), ...range(9, 12, 3)];
    const leader = core(a, { term: 3, entries: leaderLog, commitIndex: 5 });
    const follower = core(b, { term: 3, entries: [...range(1, 5, 1), ...range(6, 400, 2)], commitIndex: 5 });
    const third = core(c, { term: 3, entries: leaderLog, commitIndex: 5 });
    const nodes = new Map([[a, leader], [b, follower], [c, third]]);
    let now = 0;
    let rejections = 0;
    const settle = (): void => {
      for (let round = 0; round < 1_000; round += 1) {
        let moved = false;
        for (const [id, node] of nodes) {
          const ready = drain(node, now);
          if (ready === null) continue;
          moved = true;
          for (const { to, message } of all(ready)) {
            if (message.type === 'appendEntriesResponse' && !message.success && id === b) rejections += 1;
            nodes.get(to)?.receive(now, id, message);
          }
        }
        if (!moved) return;
      }
    };
    // a campaigns (c votes for it), then replicates.
    while (leader.role !== 'leader' && now < 2_000) {
      now += 5;
      leader.tick(now);
      settle();
    }
    expect(leader.role).toBe('leader');
    for (let step = 0; step < 40; step += 1) {
      now += 5;
      for (const node of nodes.values()) node.tick(now);
      settle();
    }
    expect(follower.lastIndex).toBe(leader.lastIndex);
    for (let index = 1; index <= leader.lastIndex; index += 1) expect(follower.termAt(index)).toBe(leader.termAt(index));
    expect(follower.commitIndex).toBe(leader.lastIndex);
    // One rejection for the log end, one for the stale term: a term at a time, not an entry at a time.
    expect(rejections).toBeLessThanOrEqual(3);
  });

  it('confirmed correct: the leader does not count itself until its own write of the entry lands (write-before-ack)', () => {
    // 3 voters, c down. a leads term 2 after b's vote; a proposes; b acknowledges. With a's own
    // write not acknowledged, only b holds the entry durably: no quorum, no commit.
    const leader = core(a, { term: 1, entries: [entry(1, 1)], commitIndex: 1 });
    const follower = core(b, { term: 1, entries: [entry(1, 1)], commitIndex: 1 });
    let now = 0;
    const pending: Array<{ ready: Ready }> = [];
    const deliver = (ready: Ready | null, from: NodeId, to: RaftCore): void => {
      for (const out of all(ready)) if (out.to === to.id) to.receive(now, from, out.message);
    };
    while (leader.role !== 'leader' && now < 2_000) {
      now += 5;
      leader.tick(now);
      deliver(drain(leader, now), a, follower);
      deliver(drain(follower, now), b, leader);
    }
    expect(leader.role).toBe('leader');
    // Settle the no-op fully.
    for (let step = 0; step < 5; step += 1) {
      deliver(drain(leader, now), a, follower);
      deliver(drain(follower, now), b, leader);
    }
    const commitBefore = leader.commitIndex;
    leader.propose(now, 1, new Uint8Array([7]), null);
    const write = leader.takeReady() as Ready;
    pending.push({ ready: write });
    expect(write.entries.map((each) => each.index)).toEqual([leader.lastIndex]);
    // The AppendEntries goes before the leader's own write (allowed); b writes and answers.
    deliver(write, a, follower);
    const answer = drain(follower, now);
    expect(all(answer).map(({ message }) => message.type)).toContain('appendEntriesResponse');
    deliver(answer, b, leader);
    drain(leader, now);
    expect(leader.commitIndex).toBe(commitBefore);
    // The leader's write lands: now a and b hold it.
    const last = write.entries[write.entries.length - 1] as LogEntry;
    leader.persisted(now, { index: last.index, term: last.term });
    expect(leader.commitIndex).toBe(last.index);
  });
});

describe('confirmed correct: a random core-level cluster (async in-order writes, crashes losing writes in flight, drops, duplicates, delays, partitions) keeps the safety properties and converges after the heal', () => {
  // Checked after every step: one leader per term, committed entries never change, every success
  // acknowledgement on the wire is covered by the sender's disk and matches the leader that
  // receives it, every vote granted is on the voter's disk; after the faults stop, one leader and
  // every log equal and committed. 530 seeds of these shapes (3 and 5 nodes, witnesses, tight
  // windows, heartbeat near the election timeout) passed during the review.
  const shapes: Array<{ name: string; nodes: number; witnesses: number; config: RaftConfig }> = [
    { name: 'three nodes, tight windows and 1 KiB batches', nodes: 3, witnesses: 0, config: { electionTimeoutMin: 30, electionTimeoutMax: 60, heartbeatInterval: 8, maxInflightMessages: 2, maxAppendBytes: 1024 } },
    { name: 'three nodes with a witness, one message in flight', nodes: 3, witnesses: 1, config: { electionTimeoutMin: 40, electionTimeoutMax: 80, heartbeatInterval: 10, maxInflightMessages: 1 } },
    { name: 'five nodes, heartbeat close to the election timeout', nodes: 5, witnesses: 0, config: { electionTimeoutMin: 40, electionTimeoutMax: 45, heartbeatInterval: 35 } },
  ];
  for (const shape of shapes) {
    it(`confirmed correct: ${shape.name}`, () => {
      for (let seed = 1; seed <= 4; seed += 1) {
        const result = runFuzz({ seed, nodes: shape.nodes, witnesses: shape.witnesses, steps: 6_000, config: shape.config, writeRate: 0.1, maxDelay: 30, crashRate: 0.005, dropRate: 0.15 });
        expect(result.violations, result.summary).toEqual([]);
        expect(result.leaderAtEnd, result.summary).toBe(true);
        expect(result.converged, result.summary).toBe(true);
      }
    });
  }
});

