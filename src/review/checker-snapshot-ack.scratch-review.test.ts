// Review: durable-watch.ts checks an AppendEntries acknowledgement through M against the entry
// the disk holds at M ("as long is not enough": the entry at M must be the leader's), but an
// InstallSnapshot acknowledgement through M only against the disk's length
// (`lastIncludedIndex > disk.lastIndex`). A follower whose disk holds a stale log of another
// history at least M long, and that acknowledges the leader's snapshot through M before the
// snapshot write lands, passes: a crash then leaves it with the stale entries the leader counted
// as a match through M (the very case snapshots.ts installSnapshot guards against by lowering
// persistedIndex to the commit index). The leader's InstallSnapshot frames, which name the
// snapshot's last term, are not even recorded (recordSent reads AppendEntries only).
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../codec/message-codec.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type LogEntry, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { SafetyChecker } from '../testing/checkers.ts';
import { checkAcknowledgements, watchDurableWrites } from '../testing/durable-watch.ts';

const n1 = nodeId('n1');
const n2 = nodeId('n2');

function silentTransport(id: NodeId): RaftTransport {
  return { selfId: id, peers: createWatchable<ReadonlySet<NodeId>>(new Set()), incoming: createEmitter<RaftEnvelope>(), send: () => undefined };
}

describe('durable-watch: snapshot acknowledgements (review)', () => {
  it('reports a snapshot acknowledged through M while the disk holds a log of another history through M, and no snapshot', async () => {
    const checker = new SafetyChecker(1);
    // n2's disk: term 3, and a stale log 1..10 of term 1 (a deposed leader's), no snapshot.
    const disk2 = new InMemoryRaftStorage();
    const view2 = watchDurableWrites(checker, n2, disk2);
    await disk2.saveTermAndVotedFor(3, null);
    const stale: LogEntry[] = Array.from({ length: 10 }, (_, position) => ({ index: position + 1, term: 1, command: new Uint8Array([position]), isNoOp: false }));
    await disk2.appendEntries(stale);
    const n2Out = checkAcknowledgements(checker, n2, view2, silentTransport(n2));
    // n1 leads term 3 and streams its snapshot through 8, whose last entry is of term 2.
    const disk1 = new InMemoryRaftStorage();
    const n1Out = checkAcknowledgements(checker, n1, watchDurableWrites(checker, n1, disk1), silentTransport(n1));
    const state = new Uint8Array(20);
    n1Out.send(n2, encodeMessage({ type: 'installSnapshot', term: 3, meta: { lastIncludedIndex: 8, lastIncludedTerm: 2 }, totalBytes: state.length, offset: 0, data: state }));
    // n2 acknowledges it as installed before anything of it is on its disk.
    n2Out.send(n1, encodeMessage({ type: 'installSnapshotResponse', term: 3, lastIncludedIndex: 8, nextOffset: state.length, installed: true }));
    expect(view2.snapshotThrough).toBe(0);
    expect(view2.termAt(8)).toBe(1);
    expect(checker.violations.map((violation) => violation.message)).toEqual([expect.stringContaining('Durable before promised')]);
  });
});
