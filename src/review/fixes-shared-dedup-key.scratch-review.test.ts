// Review (third session, fixes): application-copies.ts promises that what the node hands the
// application is its own ("frees the application to keep, mutate or transfer what it was given"),
// but entryForApplication copies only the command bytes: the entry's dedupKey object is the very
// object the engine's log (and in-memory storage) holds. An application that rewrites the key on
// the entry it got (JavaScript does not enforce `readonly`; a JSON-ish normaliser, a test double)
// rewrites the key of the entry in the leader's log and storage, which the leader then replicates
// and judges exactly-once and client identity by.
import { describe, expect, it } from 'vitest';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { handTransport, ids } from '../driver/hand-driven-node.test-support.ts';

describe('the entry propose() resolves with', () => {
  it('shares no mutable object with the log or storage (its dedupKey included)', async () => {
    const clock = new VirtualClock();
    const storage = new InMemoryRaftStorage();
    const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock } });
    expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
    const entry = await node.propose(new Uint8Array([1]), { requestId: 5 });
    expect(entry.dedupKey?.requestId).toBe(5);
    (entry.dedupKey as { requestId: number }).requestId = 999;
    const stored = storage.peekLog().entries.find((candidate) => candidate.index === entry.index);
    // Observed: 999 — the application's write went into the stored log entry.
    expect(stored?.dedupKey?.requestId).toBe(5);
    await node.close();
  });
});
