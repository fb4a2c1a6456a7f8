// A durable identity without caller request ids (SPEC "Exactly-once"): after a restart its
// automatic ids must start above every id an earlier incarnation issued, or the application's
// ClientSessionTable skips the new commands as replays while their proposals resolve. Ids of
// proposals that never reached the log run ahead of it, and compaction removes the rest, so
// storage alone cannot say where to start; on the real clock the wall clock does.
import { describe, expect, it } from 'vitest';
import { ClientSessionTable } from '../core/client-session-table.ts';
import { clientId, nodeId, type LogEntry } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createRaftNode } from './create-raft-node.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const identity = { type: 'durable', clientId: clientId('writer') } as const;

describe('durable automatic request ids across a restart', () => {
  it('start above the ids of failed proposals even after compaction removed everything the log held', async () => {
    const network = createLoopbackNetwork();
    const [self, other] = [nodeId('a'), nodeId('b')];
    const voters = { voters: [self, other] };
    const storage = new InMemoryRaftStorage();
    const firstTransport = network.transport(self);
    const first = await createRaftNode({ id: self, clusterConfig: voters, transport: firstTransport, storage, identity });
    // No leader yet (b is not running): 3,000 proposals take request ids and are given up.
    for (let round = 0; round < 3; round += 1) {
      const controller = new AbortController();
      const given = Array.from({ length: 1000 }, () => first.propose(bytes('given up'), { signal: controller.signal }).catch(() => 'aborted'));
      await new Promise((resolve) => setTimeout(resolve, 0)); // stamped and handed to the engine
      controller.abort(new Error('gave up'));
      expect(new Set(await Promise.all(given))).toEqual(new Set(['aborted']));
    }
    const peer = await createRaftNode({ id: other, clusterConfig: voters, transport: network.transport(other), storage: new InMemoryRaftStorage() });
    const before = await first.propose(bytes('before'));
    expect(before.dedupKey?.requestId).toBeGreaterThan(3000);
    const table = new ClientSessionTable();
    expect(table.shouldApply(before.dedupKey)).toBe(true);
    // The application snapshots its state; the log is compacted through it.
    first.publishSnapshot({ throughIndex: before.index, state: table.toBytes() });
    await waitUntil(() => first.compactionFloor.value === before.index);
    await first.close();
    firstTransport.close();

    const second = await createRaftNode({ id: self, clusterConfig: voters, transport: network.transport(self), storage, identity });
    const after: LogEntry = await second.propose(bytes('after restart'));
    expect(after.dedupKey?.requestId).toBeGreaterThan(before.dedupKey?.requestId ?? Number.POSITIVE_INFINITY);
    expect(table.shouldApply(after.dedupKey)).toBe(true);
    await Promise.all([second.close(), peer.close()]);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500 && !condition(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}
