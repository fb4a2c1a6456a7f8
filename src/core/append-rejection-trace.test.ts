// SPEC "Observability" names appendEntriesRejected among the trace events, and "Log replication"
// the conflict hint a follower answers a mismatch with. A leader's heartbeats and appends in the
// black-box tests (src/contract) never met a mismatch that was traced, so both sides are driven
// here directly: the follower refusing, and the leader receiving the refusal. Last, the hints at
// work: a follower with a long suffix of an older term is brought back a term at a time.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftTraceEvent } from './events.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite } from './ready.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

describe('appendEntriesRejected', () => {
  it('a follower whose entry at prevLogIndex has another term refuses with a conflict hint, and traces it', () => {
    const follower = new RaftCore({ id: b, config: resolveRaftConfig(), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2), entry(3, 2)] });
    follower.tracing = true;
    follower.receive(10, a, { type: 'appendEntries', term: 3, prevLogIndex: 3, prevLogTerm: 3, entries: [entry(4, 3)], leaderCommit: 1, readRound: 0 });
    const ready = follower.takeReady()!;
    const rejected = ready.trace.filter((event): event is Extract<RaftTraceEvent, { type: 'appendEntriesRejected' }> => event.type === 'appendEntriesRejected');
    expect(rejected).toEqual([expect.objectContaining({ type: 'appendEntriesRejected', node: b, term: 3, from: a, conflictIndex: 3 })]);
    const answers = [...ready.messages, ...ready.messagesAfterPersist].filter((outbound) => outbound.to === a).map((outbound) => outbound.message);
    // The first index of the conflicting term (2), so the leader backs up a term at a time.
    expect(answers).toEqual([expect.objectContaining({ type: 'appendEntriesResponse', success: false, conflictIndex: 2, conflictTerm: 2 })]);
    expect(follower.lastIndex).toBe(3);
  });

  it('a leader receiving a refusal traces it with the follower and the hint', () => {
    const leader = new RaftCore({ id: a, config: resolveRaftConfig(), random: () => 0.5, now: 0, bootstrap: { voters: [a] }, hardState: { term: 1, votedFor: a }, leaderPin: null, snapshotMeta: null, entries: [] });
    leader.tracing = true;
    leader.tick(1_000);
    expect(leader.role).toBe('leader');
    leader.takeReady();
    leader.changeMembership(1_000, 1, { voters: [a, b] });
    leader.takeReady();
    leader.receive(1_001, b, { type: 'appendEntriesResponse', term: leader.term, success: false, matchIndex: 0, conflictIndex: 1, conflictTerm: 0, readRound: 0 });
    const trace = leader.takeReady()?.trace ?? [];
    expect(trace).toContainEqual(expect.objectContaining({ type: 'appendEntriesRejected', node: a, from: b, conflictIndex: 1 }));
  });
});

describe('conflict hints', () => {
  const range = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, offset) => entry(from + offset, term));
  const node = (id: NodeId, entries: LogEntry[]): RaftCore => new RaftCore({ id, config: resolveRaftConfig(), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries, commitIndex: 5 });

  it('a follower with a long suffix of an older term that never committed converges in a few refusals, keeping what committed', () => {
    // a: 1..5 of term 1 (committed), 6..8 of term 2, 9..12 of term 3. b: the same to 8, then
    // 9..400 of term 2. a campaigns with c's vote and replicates.
    const leaderLog = [...range(1, 5, 1), ...range(6, 8, 2), ...range(9, 12, 3)];
    const leader = node(a, leaderLog);
    const follower = node(b, [...range(1, 5, 1), ...range(6, 400, 2)]);
    const nodes = new Map([[a, leader], [b, follower], [c, node(c, leaderLog)]]);
    let now = 0;
    let refusals = 0;
    /** Delivers every frame, acknowledging writes at once, until no node has anything to do. */
    const settle = (): void => {
      for (let round = 0; round < 1_000; round += 1) {
        let moved = false;
        for (const [id, core] of nodes) {
          const ready = core.takeReady();
          if (ready === null) continue;
          moved = true;
          const last = ready.entries[ready.entries.length - 1];
          if (readyNeedsWrite(ready)) core.persisted(now, last === undefined ? null : { index: last.index, term: last.term });
          for (const { to, message } of [...ready.messages, ...ready.messagesAfterPersist]) {
            if (message.type === 'appendEntriesResponse' && !message.success && id === b) refusals += 1;
            nodes.get(to)?.receive(now, id, message);
          }
        }
        if (!moved) return;
      }
    };
    while (leader.role !== 'leader' && now < 2_000) {
      now += 5;
      leader.tick(now);
      settle();
    }
    expect(leader.role).toBe('leader');
    for (let step = 0; step < 40; step += 1) {
      now += 5;
      for (const core of nodes.values()) core.tick(now);
      settle();
    }
    expect(follower.lastIndex).toBe(leader.lastIndex);
    for (let index = 1; index <= leader.lastIndex; index += 1) expect(follower.termAt(index)).toBe(leader.termAt(index));
    expect(follower.commitIndex).toBe(leader.lastIndex);
    // One refusal for the log end, one for the stale term: a term at a time, not an entry at a time.
    expect(refusals).toBeLessThanOrEqual(3);
  });
});
