// SPEC "Observability" names appendEntriesRejected among the trace events, and "Log replication"
// the conflict hint a follower answers a mismatch with. A leader's heartbeats and appends in the
// black-box tests (src/contract) never met a mismatch that was traced, so both sides are driven
// here directly: the follower refusing, and the leader receiving the refusal.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftTraceEvent } from './events.ts';
import { RaftCore } from './raft-core.ts';
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
