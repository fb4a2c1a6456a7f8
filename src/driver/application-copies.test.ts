// Guards: what the node hands the application has an ArrayBuffer of its own (application-copies.ts).
// The engine shares buffers (propose() copies small commands into a 64 KiB slab, a follower's
// entries are views into the frames it received, in-memory storage keeps the same objects), and
// an application that transferred ONE entry's bytes (postMessage/structuredClone with a transfer
// list, the usual way to hand bytes to a worker) detached the other entries, what storage held,
// and the snapshot the node still sends to followers. An outside review found it (2026-12-07,
// third session).
import { describe, expect, it } from 'vitest';
import type { Committed } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import { handTransport, ids, quietConfig, settle } from './hand-driven-node.test-support.ts';

/** What an application does to hand bytes to a worker without copying them. */
const transferAway = (bytes: Uint8Array): void => {
  structuredClone(bytes, { transfer: [bytes.buffer as ArrayBuffer] });
};

async function takeCommitted(stream: AsyncIterable<Committed>, count: number): Promise<Committed[]> {
  const taken: Committed[] = [];
  for await (const item of stream) {
    taken.push(item);
    if (taken.length === count) break;
  }
  return taken;
}

async function soloLeader(storage = new InMemoryRaftStorage()) {
  const clock = new VirtualClock();
  const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock } });
  expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
  return node;
}

describe('entries handed to the application', () => {
  it('transferring one proposed entry command buffer leaves the other entries, and storage, intact', async () => {
    const storage = new InMemoryRaftStorage();
    const node = await soloLeader(storage);
    const first = await node.propose(new Uint8Array([1, 1, 1]));
    const second = await node.propose(new Uint8Array([2, 2, 2]));

    transferAway(first.command);

    expect(Array.from(second.command)).toEqual([2, 2, 2]);
    const stored = storage.peekLog().entries.find((entry) => entry.index === second.index);
    expect(stored === undefined ? null : Array.from(stored.command)).toEqual([2, 2, 2]);
    // The node goes on: the log it replicates and stores is its own.
    expect(Array.from((await node.propose(new Uint8Array([3]))).command)).toEqual([3]);
    expect(node.stopped.value).toBeNull();
    await node.close();
  });

  it('a follower committed() entries, views into one received frame inside, are each the application own', async () => {
    const storage = new InMemoryRaftStorage();
    const transport = handTransport(ids.b, [ids.a, ids.c]);
    const node = await createRaftNode({ id: ids.b, clusterConfig: { voters: [ids.a, ids.b, ids.c] }, transport, storage, raftConfig: quietConfig });
    const entries = [1, 2].map((index) => ({ index, term: 1, command: new Uint8Array([index, index]), isNoOp: false }));
    transport.deliver(ids.a, { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 2, readRound: 0 });
    await settle();
    const [first, second] = await takeCommitted(node.committedFrom(1), 2);
    if (first?.type !== 'entry' || second?.type !== 'entry') throw new Error('expected two entries');

    transferAway(first.entry.command);

    expect(Array.from(second.entry.command)).toEqual([2, 2]);
    expect(storage.peekLog().entries.map((entry) => Array.from(entry.command))).toEqual([[1, 1], [2, 2]]);
    // Read again, the log still holds entry 1's bytes.
    const [again] = await takeCommitted(node.committedFrom(1), 1);
    expect(again?.type === 'entry' ? Array.from(again.entry.command) : null).toEqual([1, 1]);
    await node.close();
  });

  it('transferring an installed snapshot state leaves the node snapshot (the one it sends followers) intact', async () => {
    const node = await soloLeader();
    const entry = await node.propose(new Uint8Array([7]));
    await takeCommitted(node.committedFrom(entry.index), 1);
    node.publishSnapshot({ throughIndex: entry.index, state: new Uint8Array([9, 9, 9]) });
    const [install] = await takeCommitted(node.committedFrom(1), 1);
    if (install?.type !== 'install') throw new Error('expected the snapshot');

    transferAway(install.snapshot.state);

    const [again] = await takeCommitted(node.committedFrom(1), 1);
    expect(again?.type === 'install' ? Array.from(again.snapshot.state) : null).toEqual([9, 9, 9]);
    await node.close();
  });
});
