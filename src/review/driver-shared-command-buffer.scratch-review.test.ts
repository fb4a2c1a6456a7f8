// Review finding: propose() copies small commands into a shared 64 KiB slab (command-copier.ts)
// and the engine hands those very views back (propose's LogEntry, committed() entries). An app
// that transfers the bytes of ONE entry it was given (postMessage/structuredClone with a transfer
// list, the usual way to hand bytes to a worker) detaches every other entry in the slab: later
// entries the node still has to replicate, and (InMemoryRaftStorage.writeBatch stores the same
// objects) what storage holds.
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { handTransport, ids } from '../driver/hand-driven-node.test-support.ts';

describe('entries handed to the application', () => {
  it('transferring one entry command buffer leaves the other entries, and storage, intact', async () => {
    const storage = new InMemoryRaftStorage();
    const clock = new VirtualClock();
    const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock } });
    expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
    const first = await node.propose(new Uint8Array([1, 1, 1]));
    const second = await node.propose(new Uint8Array([2, 2, 2]));

    // The app hands entry `first`'s bytes to a worker without copying them.
    structuredClone(first.command, { transfer: [first.command.buffer as ArrayBuffer] });

    expect(Array.from(second.command)).toEqual([2, 2, 2]);
    const stored = storage.peekLog().entries.find((entry) => entry.index === second.index);
    expect(stored === undefined ? null : Array.from(stored.command)).toEqual([2, 2, 2]);
    await node.close();
  });
});
