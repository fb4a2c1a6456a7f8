// Review (third session, fixes): application-copies.ts (and command-copier.ts for large commands)
// copy with `bytes.slice()`. On a Node Buffer — a Uint8Array, so accepted everywhere a command or a
// frame's bytes are — `slice()` is a VIEW of the same memory (Buffer.prototype.slice ===
// subarray), not a copy. A Node application (raftmesh/node: always-on members, edge peers) that
// proposes a Buffer larger than 4 KiB gets back an entry whose command shares memory with the
// engine's log entry and with what in-memory storage holds, and the engine's entry shares memory
// with the caller's own buffer: writing to either rewrites the log entry the leader replicates.
// The same holds for entries decoded from a custom RaftTransport that hands over Buffers.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { handTransport, ids } from '../driver/hand-driven-node.test-support.ts';

async function soloLeader(storage: InMemoryRaftStorage) {
  const clock = new VirtualClock();
  const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock } });
  expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
  return node;
}

describe('a Node Buffer command of more than 4 KiB', () => {
  it('the entry propose() resolves with is the application own: writing to it leaves the log intact', async () => {
    const storage = new InMemoryRaftStorage();
    const node = await soloLeader(storage);
    const entry = await node.propose(Buffer.alloc(5_000, 1));
    entry.command[0] = 99;
    const stored = storage.peekLog().entries.find((candidate) => candidate.index === entry.index);
    // Observed: 99 — the handed-out "copy" is a view of the stored entry's bytes.
    expect(stored?.command[0]).toBe(1);
    await node.close();
  });

  it('the caller may reuse its buffer as soon as propose() returns (command-copier.ts)', async () => {
    const storage = new InMemoryRaftStorage();
    const node = await soloLeader(storage);
    const encoded = Buffer.alloc(5_000, 1);
    const proposed = node.propose(encoded);
    encoded.fill(7); // an encoder reusing its output buffer for the next message
    const entry = await proposed;
    const stored = storage.peekLog().entries.find((candidate) => candidate.index === entry.index);
    // Observed: 7 — the engine kept a view of the caller's buffer.
    expect(stored?.command[0]).toBe(1);
    await node.close();
  });
});
