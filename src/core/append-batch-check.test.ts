// A batch whose terms fall is refused, not appended: the log asserts that terms never decrease,
// so before this check one such frame from the pinned leader threw inside the engine and
// stopped the follower (found by fuzzing a cluster with a faulty member).
import { describe, expect, it } from 'vitest';
import { appendBatchRefusal } from './append-batch-check.ts';
import { resolveRaftConfig } from './config.ts';
import type { RaftMetric } from './events.ts';
import type { AppendEntries } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

function append(prevLogIndex: number, prevLogTerm: number, entries: LogEntry[]): AppendEntries {
  return { type: 'appendEntries', term: 2, prevLogIndex, prevLogTerm, entries, leaderCommit: 0, readRound: 0 };
}

/** Follower b at term 2 with log [1:1, 2:2], leader a pinned for term 2. */
function follower(): RaftCore {
  return new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: { term: 2, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2)] });
}

function refusals(core: RaftCore): string[] {
  const ready = core.takeReady();
  return (ready?.metrics ?? []).filter((metric): metric is Extract<RaftMetric, { type: 'frameRefused' }> => metric.type === 'frameRefused').map((metric) => metric.reason);
}

describe('AppendEntries batch terms', () => {
  it('accepts terms that rise or stay from prevLogTerm up to the frame term', () => {
    expect(appendBatchRefusal(append(0, 0, [entry(1, 1), entry(2, 1), entry(3, 2)]))).toBeNull();
    expect(appendBatchRefusal(append(2, 2, []))).toBeNull();
  });

  it('names an entry newer than the frame first, then a falling term, then term 0', () => {
    expect(appendBatchRefusal(append(2, 2, [entry(3, 3)]))).toBe('entryTermAboveFrame');
    expect(appendBatchRefusal(append(2, 2, [entry(3, 1)]))).toBe('entryTermDecreasing');
    expect(appendBatchRefusal(append(2, 1, [entry(3, 2), entry(4, 1)]))).toBe('entryTermDecreasing');
    expect(appendBatchRefusal(append(0, 0, [entry(1, 0)]))).toBe('entryTermDecreasing');
  });

  it('a follower refuses a batch whose terms fall below the entry before it, and keeps its log', () => {
    const node = follower();
    expect(() => node.receive(10, a, append(2, 2, [entry(3, 1)]))).not.toThrow();
    expect(refusals(node)).toEqual(['entryTermDecreasing']);
    expect(() => node.receive(11, a, append(2, 2, [entry(3, 2), entry(4, 1)]))).not.toThrow();
    expect(refusals(node)).toEqual(['entryTermDecreasing']);
    expect(node.lastIndex).toBe(2);
    // The same leader's next well-formed batch is still accepted.
    node.receive(12, a, append(2, 2, [entry(3, 2)]));
    expect(node.lastIndex).toBe(3);
  });
});
