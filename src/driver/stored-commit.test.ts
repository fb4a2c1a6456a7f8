// The commit index a node stores (RaftStorage.commitIndex): written along with the writes a node
// makes anyway, alone a heartbeat interval after it advanced with nothing else to write, and
// read back at a restart, where the node applies its log through it without hearing a leader (a
// page reloaded while no quorum is in reach shows what it had, not its last snapshot).
import { describe, expect, it } from 'vitest';
import { startContractCluster, restartNode, type ContractCluster } from '../contract/contract-cluster.test-support.ts';
import type { Committed } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import type { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage, StorageBatch } from '../storage/raft-storage.ts';
import type { RaftNode } from './node-options.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);
const heartbeatInterval = 50;

function describeCommitted(item: Committed): string {
  if (item.type === 'entry') return text(item.entry.command);
  if (item.type === 'install') return `install ${item.snapshot.throughIndex}`;
  return `internal ${item.index}`;
}

/** Collects a stream into `into` until the test ends (the node's close ends the stream). */
function collect(stream: AsyncIterable<Committed>, into: string[]): void {
  void (async () => {
    for await (const item of stream) into.push(describeCommitted(item));
  })();
}

async function storedCommit(storage: RaftStorage): Promise<number> {
  if (storage.commitIndex === undefined) throw new Error('this storage keeps no commit index');
  return storage.commitIndex();
}

async function clusterWithCommands(commands: readonly string[]): Promise<{ cluster: ContractCluster; leader: RaftNode; follower: string }> {
  const cluster = await startContractCluster({ seed: 41, raftConfig: { heartbeatInterval } });
  const leader = await cluster.waitForLeader();
  const follower = ['a', 'b', 'c'].find((name) => cluster.node(name) !== leader) as string;
  for (const command of commands) await cluster.settle(cluster.node(follower).propose(bytes(command)));
  return { cluster, leader, follower };
}

describe('the stored commit index', () => {
  it('a follower restarted with no other node in reach applies its log through the commit index it stored', async () => {
    const { cluster, leader, follower } = await clusterWithCommands(['one', 'two', 'three']);
    // The follower learns the last commit from a heartbeat and stores it a heartbeat interval later.
    await cluster.clock.advance(3 * heartbeatInterval);
    const committedThrough = leader.commitIndex.value;
    expect(await storedCommit(cluster.storage(follower))).toBe(committedThrough);
    for (const name of ['a', 'b', 'c']) if (name !== follower) await cluster.node(name).close();
    cluster.network.isolate(nodeId(follower));
    const restarted = await restartNode(cluster, follower);
    // committed() read as soon as the node is returned sees them too: they come a task later.
    const live: string[] = [];
    const replayed: string[] = [];
    collect(restarted.committed(), live);
    collect(restarted.committedFrom(1), replayed);
    await cluster.clock.advance(1);
    expect(restarted.commitIndex.value).toBe(committedThrough);
    expect(restarted.leader.value).toBeNull();
    const commands = ['one', 'two', 'three'];
    expect(live.filter((item) => !item.startsWith('internal'))).toEqual(commands);
    expect(replayed.filter((item) => !item.startsWith('internal'))).toEqual(commands);
    expect(replayed).toHaveLength(committedThrough);
    // Nothing more is applied while no leader is heard, however long it waits.
    await cluster.clock.advance(2_000);
    expect(restarted.commitIndex.value).toBe(committedThrough);
    expect(replayed).toHaveLength(committedThrough);
    await cluster.close();
  });

  it('rides along with the writes a node makes anyway at most once half a heartbeat interval, is written alone only after an interval, and not at all while nothing changes', async () => {
    const { cluster, leader, follower } = await clusterWithCommands(['one']);
    const storage = cluster.storage(follower) as InMemoryRaftStorage;
    const batches: Array<StorageBatch & { readonly at: number }> = [];
    const original = storage.writeBatch.bind(storage);
    storage.writeBatch = (batch) => {
      batches.push({ ...batch, at: cluster.clock.now() });
      return original(batch);
    };
    await cluster.clock.advance(3 * heartbeatInterval);
    batches.length = 0;
    // Proposals one after another, a fifth of an interval apart: writes with entries carry the
    // commit index known then, but only once half an interval has passed since the last one did,
    // so under steady writes it never needs a write of its own.
    for (let count = 0; count < 30; count += 1) {
      await cluster.settle(leader.propose(bytes(`command ${count}`)));
      await cluster.clock.advance(heartbeatInterval / 5);
    }
    const withEntries = batches.filter((batch) => batch.entries.length > 0);
    expect(withEntries.length).toBeGreaterThan(10);
    const carrying = batches.filter((batch) => batch.commitIndex !== undefined);
    // The proposals took several intervals: writes with entries carried it now and then, not each.
    expect((withEntries.at(-1)?.at ?? 0) - (withEntries[0]?.at ?? 0)).toBeGreaterThan(3 * heartbeatInterval);
    expect(carrying.every((batch) => batch.entries.length > 0)).toBe(true);
    expect(carrying.length).toBeGreaterThan(3);
    expect(carrying.length).toBeLessThan(withEntries.length / 2);
    for (let position = 1; position < carrying.length; position += 1) {
      expect((carrying[position] as { at: number }).at - (carrying[position - 1] as { at: number }).at).toBeGreaterThanOrEqual(heartbeatInterval / 2);
    }
    for (const batch of carrying) {
      // Never beyond the entries stored by this write and the ones before it.
      const lastStored = (await storage.entries()).at(-1)?.index ?? 0;
      expect(batch.commitIndex ?? 0).toBeLessThanOrEqual(lastStored);
    }
    const beforeQuiet = batches.length;
    // The last commit reaches the follower with a heartbeat; no write is due before an interval.
    await cluster.clock.advance(heartbeatInterval / 2);
    expect(await storedCommit(storage)).toBeLessThan(leader.commitIndex.value);
    await cluster.clock.advance(3 * heartbeatInterval);
    expect(await storedCommit(storage)).toBe(leader.commitIndex.value);
    const alone = batches.slice(beforeQuiet).map(({ at: _at, ...batch }) => batch);
    expect(alone).toEqual([{ entries: [], commitIndex: leader.commitIndex.value }]);
    // A quiet cluster writes nothing more: heartbeats carry no news.
    await cluster.clock.advance(2_000);
    expect(batches.slice(beforeQuiet)).toHaveLength(1);
    expect(await storedCommit(cluster.storage(leader.id))).toBe(leader.commitIndex.value);
    await cluster.close();
  });
});
