// The stored commit index holds from the node's first input, not from the task after the start
// in which the restored entries are handed out. Before, the engine learned it in that task; a
// frame handled sooner met an engine whose commit index was still the snapshot's, so a witness's
// catch-up reply (which may truncate entries a node did not help commit) replaced an entry the
// stored index vouched for, and a new leader's lower commit index was written over the stored
// one. Found by an outside review of the stored commit index.
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../codec/index.ts';
import { nodeId, type Committed, type LogEntry, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createRaftNode } from './create-raft-node.ts';

const [a, n, c, d, w] = ['a', 'n', 'c', 'd', 'w'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);
const entry = (index: number, term: number, command: string): LogEntry => ({ index, term, command: bytes(command), isNoOp: false });
const described = (item: Committed): string => (item.type === 'entry' ? `${item.entry.index}@${item.entry.term} ${text(item.entry.command)}` : item.type);

/** Node n's storage: term 3, `entries`, and the commit index it stored. */
async function storedNode(entries: readonly LogEntry[], commitIndex: number): Promise<InMemoryRaftStorage> {
  const storage = new InMemoryRaftStorage();
  await storage.saveTermAndVotedFor(3, null);
  await storage.appendEntries(entries);
  await storage.saveCommitIndex(commitIndex);
  return storage;
}

describe('a frame handled before the restored entries are handed out', () => {
  it('a witness catch-up reply cannot replace an entry the stored commit index covers: the node applies the committed one', async () => {
    // n knew entry 2 (term 1) committed; the witness w still holds term 2's history, and its answer
    // to n's campaign before the restart is still in flight.
    const storage = await storedNode([entry(1, 1, 'one'), entry(2, 1, 'committed two')], 2);
    const clock = new VirtualClock();
    const network = createLoopbackNetwork();
    const witness = network.transport(w);
    const node = await createRaftNode({ id: n, clusterConfig: { voters: [a, n, c, d, w] }, transport: network.transport(n), storage, raftConfig: { clock, random: seededRandom(1) } });
    witness.send(n, encodeMessage({ type: 'catchUpEntries', term: 3, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 2, 'uncommitted two'), entry(3, 2, 'three')] }));
    await drainMicrotasks();
    await clock.advance(1);
    const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
    const applied = [described((await iterator.next()).value as Committed), described((await iterator.next()).value as Committed)];
    expect(applied).toEqual(['1@1 one', '2@1 committed two']);
    expect((await storage.entries()).slice(0, 2).map((stored) => `${stored.index}@${stored.term}`)).toEqual(['1@1', '2@1']);
    await node.close();
  });

  it('a shorter catch-up reply cannot cut the log below the stored commit index, so the node starts again', async () => {
    const storage = await storedNode([entry(1, 1, 'one'), entry(2, 1, 'two'), entry(3, 1, 'three')], 3);
    const clock = new VirtualClock();
    const network = createLoopbackNetwork();
    const node = await createRaftNode({ id: n, clusterConfig: { voters: [a, n, c, d, w] }, transport: network.transport(n), storage, raftConfig: { clock, random: seededRandom(1) } });
    network.transport(w).send(n, encodeMessage({ type: 'catchUpEntries', term: 3, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 2, 'uncommitted two')] }));
    await drainMicrotasks();
    await clock.advance(1);
    await node.close();
    expect((await storage.entries()).map((stored) => `${stored.index}@${stored.term}`)).toEqual(['1@1', '2@1', '3@1']);
    const again = await createRaftNode({ id: n, clusterConfig: { voters: [a, n, c, d, w] }, transport: createLoopbackNetwork().transport(n), storage, raftConfig: { clock, random: seededRandom(2) } });
    await clock.advance(1);
    expect(again.commitIndex.value).toBe(3);
    await again.close();
  });

  it('a new leader’s lower commit index is not written over the stored one', async () => {
    const storage = await storedNode([entry(1, 1, 'one'), entry(2, 1, 'two'), entry(3, 1, 'three')], 3);
    const clock = new VirtualClock();
    const network = createLoopbackNetwork();
    const node = await createRaftNode({ id: n, clusterConfig: { voters: [a, n, c] }, transport: network.transport(n), storage, raftConfig: { clock, random: seededRandom(1), heartbeatInterval: 50 } });
    // A leader of term 4 whose no-op has not committed yet: it knows only index 1 committed.
    network.transport(a).send(n, encodeMessage({ type: 'appendEntries', term: 4, prevLogIndex: 3, prevLogTerm: 1, entries: [], leaderCommit: 1, readRound: 0 }));
    await drainMicrotasks();
    await clock.advance(1);
    await clock.advance(500);
    expect(await storage.commitIndex()).toBe(3);
    expect(node.commitIndex.value).toBe(3);
    await node.close();
  });
});
