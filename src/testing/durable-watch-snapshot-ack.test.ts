// Guards "nothing is promised before it is durable" for snapshot acknowledgements: an
// InstallSnapshot acknowledgement through M must find a durable snapshot through M or beyond, or
// the snapshot's last entry (the leader's, of the snapshot's last term) at M in the disk's log.
// It used to be checked against the disk's length only, so a follower whose disk held a stale log
// of another history at least M long, and that acknowledged the snapshot before the snapshot write
// landed, passed; a crash then leaves it with the stale entries the leader counted as a match
// through M. The leader's InstallSnapshot frames, which name the snapshot's last term, were not
// even recorded. An outside review found it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../codec/message-codec.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type LogEntry, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { SafetyChecker } from './checkers.ts';
import { checkAcknowledgements, watchDurableWrites } from './durable-watch.ts';

const n1 = nodeId('n1');
const n2 = nodeId('n2');
const state = new Uint8Array(20);

function silentTransport(id: NodeId): RaftTransport {
  return { selfId: id, peers: createWatchable<ReadonlySet<NodeId>>(new Set()), incoming: createEmitter<RaftEnvelope>(), send: () => undefined };
}

/** n2's disk in term 3 holding `log`; n1, leader of term 3, streams its snapshot through 8 (last term 2); n2 acknowledges it. */
async function acknowledgeSnapshotOver(log: readonly LogEntry[], snapshotOnDisk = false): Promise<{ checker: SafetyChecker; messages: string[] }> {
  const checker = new SafetyChecker(1);
  const disk2 = new InMemoryRaftStorage();
  const view2 = watchDurableWrites(checker, n2, disk2);
  await disk2.saveTermAndVotedFor(3, null);
  await disk2.appendEntries(log);
  if (snapshotOnDisk) await disk2.saveSnapshot({ lastIncludedIndex: 8, lastIncludedTerm: 2 }, state);
  const n2Out = checkAcknowledgements(checker, n2, view2, silentTransport(n2));
  const disk1 = new InMemoryRaftStorage();
  const n1Out = checkAcknowledgements(checker, n1, watchDurableWrites(checker, n1, disk1), silentTransport(n1));
  n1Out.send(n2, encodeMessage({ type: 'installSnapshot', term: 3, meta: { lastIncludedIndex: 8, lastIncludedTerm: 2 }, totalBytes: state.length, offset: 0, data: state }));
  n2Out.send(n1, encodeMessage({ type: 'installSnapshotResponse', term: 3, lastIncludedIndex: 8, nextOffset: state.length, installed: true }));
  return { checker, messages: checker.violations.map((violation) => violation.message) };
}

const logOfTerms = (termOf: (index: number) => number): LogEntry[] => Array.from({ length: 10 }, (_, position) => ({ index: position + 1, term: termOf(position + 1), command: new Uint8Array([position]), isNoOp: false }));

describe('durable-watch: snapshot acknowledgements', () => {
  it('reports a snapshot acknowledged through M while the disk holds a log of another history through M, and no snapshot', async () => {
    // A deposed leader's stale log 1..10 of term 1.
    const { messages } = await acknowledgeSnapshotOver(logOfTerms(() => 1));
    expect(messages).toEqual([expect.stringContaining('Durable before promised')]);
    expect(messages[0]).toContain('an entry of term 1 there');
  });

  it('passes when the disk holds the snapshot’s last entry at M (the log may be kept)', async () => {
    const { messages } = await acknowledgeSnapshotOver(logOfTerms((index) => (index <= 8 ? 2 : 3)));
    expect(messages).toEqual([]);
  });

  it('passes when a snapshot through M is durable, whatever the log holds', async () => {
    const { messages } = await acknowledgeSnapshotOver(logOfTerms(() => 1), true);
    expect(messages).toEqual([]);
  });

  it('still reports a snapshot acknowledged beyond everything the disk holds', async () => {
    const { messages } = await acknowledgeSnapshotOver(logOfTerms(() => 1).slice(0, 5));
    expect(messages).toEqual([expect.stringContaining('while its disk held through 5')]);
  });
});
