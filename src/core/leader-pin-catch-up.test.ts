// A node catching up appends the leader's older configuration entries; one that predates the
// leader's admission must not make it refuse the rest of the log from that leader in the same
// term (SPEC "Leader authority", the pinned-leader exception). Strangers stay refused.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMetric } from './events.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c, d, mallory] = ['a', 'b', 'c', 'd', 'mallory'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];

const plain = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
const configEntry = (index: number, term: number, voters: NodeId[]): LogEntry => ({ index, term, command: new Uint8Array(), isNoOp: false, config: { old: null, new: { voters, learners: [b] } } });

function append(term: number, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[]): RaftMessage {
  return { type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries, leaderCommit: 0, readRound: 0 };
}

function refusals(core: RaftCore): string[] {
  const ready = core.takeReady();
  return (ready?.metrics ?? []).filter((metric): metric is Extract<RaftMetric, { type: 'frameRefused' }> => metric.type === 'frameRefused').map((metric) => metric.reason);
}

/** A newcomer (b, a learner) told that the cluster's voters are a, c and d; d leads term 5. */
function newcomer(): RaftCore {
  return new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, c, d] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
}

describe('the leader pinned for a term while catching up', () => {
  it('stays accepted after an older configuration without it is appended', () => {
    const node = newcomer();
    // The first batch ends with an old configuration that predates d.
    node.receive(10, d, append(5, 0, 0, [plain(1, 1), configEntry(2, 1, [a, c])]));
    expect(refusals(node)).toEqual([]);
    expect(node.membership.voters).toEqual([a, c]);
    node.receive(20, d, append(5, 2, 1, [configEntry(3, 4, [a, c, d]), plain(4, 5)]));
    expect(refusals(node)).toEqual([]);
    expect(node.lastIndex).toBe(4);
    expect(node.membership.voters).toEqual([a, c, d]);
  });

  it('is not accepted in a later term unless the adopted configuration lists it; strangers never are', () => {
    const node = newcomer();
    node.receive(10, d, append(5, 0, 0, [plain(1, 1), configEntry(2, 1, [a, c])]));
    node.takeReady();
    node.receive(20, d, append(6, 2, 1, [plain(3, 6)]));
    expect(refusals(node)).toEqual(['senderNotVoter']);
    node.receive(30, mallory, append(5, 2, 1, [plain(3, 5)]));
    expect(refusals(node)).toEqual(['senderNotVoter']);
    expect(node.lastIndex).toBe(2);
  });
});
