// Guards: the copies the node makes of bytes are copies on Node too. A Node Buffer is a
// Uint8Array, so it is accepted wherever a command is, but its slice() is subarray: a view of the
// same memory. The node copied with slice(), so a Node application's large command shared memory
// with the engine's log entry and what in-memory storage held, both through the entry propose()
// resolved with and through the caller's own buffer. A review of the session's fixes found it
// (2026-12-07, third session); copies now go through copyBytes (src/core/bytes.ts).
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';
import { handTransport, ids } from './hand-driven-node.test-support.ts';

async function soloLeader(storage: InMemoryRaftStorage): Promise<{ node: RaftNode; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock } });
  expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
  return { node, clock };
}

const storedCommand = (storage: InMemoryRaftStorage, index: number): Uint8Array | undefined => storage.peekLog().entries.find((entry) => entry.index === index)?.command;

describe('a Node Buffer command of more than 4 KiB (a buffer of its own, not a slab)', () => {
  it('the entry propose() resolves with is the application own: writing to it leaves the log intact', async () => {
    const storage = new InMemoryRaftStorage();
    const { node } = await soloLeader(storage);
    const entry = await node.propose(Buffer.alloc(5_000, 1));
    entry.command[0] = 99;
    expect(storedCommand(storage, entry.index)?.[0]).toBe(1);
    await node.close();
  });

  it('the caller may reuse its buffer as soon as propose() returns (command-copier.ts)', async () => {
    const storage = new InMemoryRaftStorage();
    const { node } = await soloLeader(storage);
    const encoded = Buffer.alloc(5_000, 1);
    const proposed = node.propose(encoded);
    encoded.fill(7); // an encoder reusing its output buffer for the next message
    const entry = await proposed;
    expect(storedCommand(storage, entry.index)?.[0]).toBe(1);
    await node.close();
  });
});

describe('a Node Buffer snapshot state', () => {
  it('publishSnapshot keeps a copy: the caller may reuse its buffer at once', async () => {
    const storage = new InMemoryRaftStorage();
    const { node, clock } = await soloLeader(storage);
    const entry = await node.propose(new Uint8Array([1]));
    await clock.runUntil(() => node.appliedIndex?.() === entry.index, 1_000);
    const state = Buffer.alloc(64, 5);
    node.publishSnapshot({ throughIndex: entry.index, state });
    state.fill(8);
    await clock.runUntil(() => storage.peekSnapshotIndex() === entry.index, 1_000);
    expect((await storage.loadSnapshot())?.state[0]).toBe(5);
    await node.close();
  });
});
