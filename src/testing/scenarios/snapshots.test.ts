// Snapshot and compaction scenarios (§7): catching up from a snapshot, crashes and leader
// changes during an install, restart after compaction, oversized snapshots refused.
import { describe, expect, it } from 'vitest';
import type { RaftMetric } from '../../core/events.ts';
import { nodeId, type Committed } from '../../core/types.ts';
import { InMemoryRaftStorage } from '../../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../../transport/loopback.ts';
import { createRaftNode } from '../../driver/create-raft-node.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { bytes, checkOneLeader, one, startCluster } from './scenario-helpers.ts';

const snapshotConfig = { snapshotTrailingEntries: 0, snapshotChunkCeiling: 1_024 };

async function compactLeader(cluster: SimulatedCluster, stateBytes: number): Promise<number> {
  const leader = cluster.leader()!;
  const through = leader.appliedIndex;
  leader.node!.publishSnapshot({ throughIndex: through, state: new Uint8Array(stateBytes).fill(5) });
  await cluster.runFor(20);
  expect(leader.node!.compactionFloor.value).toBe(through);
  return through;
}

/**
 * A follower crashes, the others commit `entries` and the leader compacts behind a snapshot of
 * `stateBytes`; restarted, the follower installs it, then takes the log after it.
 */
async function awayFollowerCatchesUp(options: Parameters<typeof startCluster>[0], entries: number, stateBytes: number): Promise<void> {
  const cluster = await startCluster(options);
  const leaderId = await checkOneLeader(cluster);
  const away = cluster.ids.find((id) => id !== leaderId)!;
  cluster.crash(away);
  for (let count = 0; count < entries; count += 1) await one(cluster, `while-away-${count}`, 2);
  const through = await compactLeader(cluster, stateBytes);
  await cluster.restart(away);
  const after = await one(cluster, 'after', 3);
  const node = cluster.nodes.get(away)!;
  expect(node.node!.compactionFloor.value).toBeGreaterThanOrEqual(through);
  expect(node.appliedIndex).toBeGreaterThanOrEqual(after);
  await cluster.close();
}

describe('snapshots (§7)', () => {
  it('with the default configuration, publishSnapshot compacts up to it, and a follower cut off meanwhile gets an install', async () => {
    const cluster = await startCluster({ seed: 611, size: 3 });
    const leaderId = await checkOneLeader(cluster);
    const away = cluster.ids.find((id) => id !== leaderId)!;
    cluster.partition([[away], cluster.ids.filter((id) => id !== away)]);
    for (let count = 0; count < 12; count += 1) await one(cluster, `entry-${count}`, 2);
    await cluster.runFor(400); // long enough for the leader to take the cut-off follower as silent
    const leader = cluster.nodes.get(leaderId)!;
    const through = leader.appliedIndex;
    leader.node!.publishSnapshot({ throughIndex: through, state: bytes('twelve entries') });
    expect(leader.node!.compactionFloor.value).toBe(through);
    const replay = leader.node!.committedFrom(1)[Symbol.asyncIterator]();
    const first = await cluster.settle(replay.next());
    expect(first?.done === false && first.value).toEqual({ type: 'install', snapshot: { throughIndex: through, state: bytes('twelve entries') } });
    await replay.return?.();
    cluster.heal();
    // It applies what it had before the cut, then the leader's snapshot in place of the rest.
    const caughtUp = cluster.nodes.get(away)!;
    const items = caughtUp.node!.committedFrom(1)[Symbol.asyncIterator]();
    const seen: string[] = [];
    while (!seen.includes('install')) {
      const item = await cluster.settle(items.next(), 5_000);
      if (item === undefined || item.done === true) break;
      seen.push(item.value.type === 'install' ? 'install' : `${item.value.type === 'entry' ? item.value.entry.index : item.value.index}`);
      if (item.value.type === 'install') expect(item.value.snapshot).toEqual({ throughIndex: through, state: bytes('twelve entries') });
    }
    expect(seen[seen.length - 1]).toBe('install');
    expect(caughtUp.node!.compactionFloor.value).toBe(through);
    await items.return?.();
    await cluster.close();
  });

  it('a follower that was away catches up from the leader snapshot, then from the log', async () => {
    await awayFollowerCatchesUp({ seed: 601, size: 3, raftConfig: snapshotConfig }, 30, 20_000);
  });

  it('a follower that crashes in the middle of an install finishes it after restart', async () => {
    const cluster = await startCluster({ seed: 602, size: 3, raftConfig: snapshotConfig, network: { minDelayMs: 2, maxDelayMs: 4, dropProbability: 0, duplicateProbability: 0 } });
    const leaderId = await checkOneLeader(cluster);
    const away = cluster.ids.find((id) => id !== leaderId)!;
    cluster.crash(away);
    for (let count = 0; count < 10; count += 1) await one(cluster, `entry-${count}`, 2);
    const through = await compactLeader(cluster, 200_000); // 196 chunks of 1 KiB
    await cluster.restart(away);
    await cluster.runFor(15); // part of the chunks arrived
    cluster.crash(away);
    await cluster.runFor(100);
    await cluster.restart(away);
    await one(cluster, 'after-crash', 3);
    expect(cluster.nodes.get(away)!.node!.compactionFloor.value).toBeGreaterThanOrEqual(through);
    await cluster.close();
  });

  it('a leader change during an install: the follower still converges on the new leader log', async () => {
    const cluster = await startCluster({ seed: 603, size: 5, raftConfig: snapshotConfig, network: { minDelayMs: 2, maxDelayMs: 4, dropProbability: 0, duplicateProbability: 0 } });
    const leaderId = await checkOneLeader(cluster);
    const away = cluster.ids.find((id) => id !== leaderId)!;
    cluster.crash(away);
    for (let count = 0; count < 10; count += 1) await one(cluster, `entry-${count}`, 4);
    for (const simulated of cluster.nodes.values()) {
      if (simulated.node !== null) simulated.node.publishSnapshot({ throughIndex: simulated.appliedIndex, state: new Uint8Array(100_000).fill(1) });
    }
    await cluster.runFor(20);
    await cluster.restart(away);
    await cluster.runFor(10);
    cluster.crash(leaderId);
    await one(cluster, 'new-leader', 4);
    await cluster.restart(leaderId);
    const last = await one(cluster, 'everyone', 5);
    expect(cluster.nodes.get(away)!.appliedIndex).toBeGreaterThanOrEqual(last);
    await cluster.close();
  });

  it('every node compacts, every node restarts: each resumes from its snapshot and the log after it', async () => {
    const cluster = await startCluster({ seed: 604, size: 3, raftConfig: { snapshotTrailingEntries: 2 } });
    for (let count = 0; count < 20; count += 1) await one(cluster, `before-${count}`, 3);
    for (const simulated of cluster.nodes.values()) simulated.node!.publishSnapshot({ throughIndex: simulated.appliedIndex - 3, state: new Uint8Array([42]) });
    await cluster.runFor(20);
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) await cluster.restart(id);
    const last = await one(cluster, 'after-restart', 3);
    for (const simulated of cluster.nodes.values()) {
      expect(simulated.node!.compactionFloor.value).toBeGreaterThan(0);
      expect(simulated.appliedIndex).toBeGreaterThanOrEqual(last);
    }
    await cluster.close();
  });

  it('committedFrom at or below the floor starts with the install, then the entries after it', async () => {
    const id = nodeId('solo');
    const storage = new InMemoryRaftStorage();
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage, raftConfig: { snapshotTrailingEntries: 0 } });
    await node.awaitLeadership();
    for (const value of ['a', 'b', 'c', 'd']) await node.propose(new TextEncoder().encode(value));
    node.publishSnapshot({ throughIndex: 3, state: new TextEncoder().encode('state-through-3') });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const items: Committed[] = [];
    for await (const item of node.committedFrom(1)) {
      items.push(item);
      if (items.length === 3) break;
    }
    expect(items[0]).toEqual({ type: 'install', snapshot: { throughIndex: 3, state: new TextEncoder().encode('state-through-3') } });
    expect(items.slice(1).map((item) => (item.type === 'entry' ? new TextDecoder().decode(item.entry.command) : item.type))).toEqual(['c', 'd']);
    await node.close();
  });

  it('a small chunk ceiling streams the snapshot in many chunks, and the follower installs it whole', async () => {
    // 2,000 bytes: 32 chunks of 64 bytes.
    await awayFollowerCatchesUp({ seed: 606, size: 3, raftConfig: { snapshotTrailingEntries: 0, snapshotChunkCeiling: 64 } }, 5, 2_000);
  });

  it('a receiver whose total ceiling is below the default chunk ceiling refuses a larger snapshot with the metric', async () => {
    const cluster = await startCluster({ seed: 607, size: 3, raftConfig: { snapshotTrailingEntries: 0 } });
    const leaderId = await checkOneLeader(cluster);
    const away = cluster.ids.find((id) => id !== leaderId)!;
    cluster.crash(away);
    for (let count = 0; count < 5; count += 1) await one(cluster, `entry-${count}`, 2);
    await compactLeader(cluster, 4_000);
    // The lagging follower comes back as a fresh engine on its storage, with a 2 KiB ceiling.
    cluster.network.setDown(away, false);
    const simulated = cluster.nodes.get(away)!;
    const metrics: RaftMetric[] = [];
    const node = await createRaftNode({
      id: away,
      clusterConfig: { voters: cluster.ids },
      transport: simulated.transport,
      storage: simulated.durable,
      raftConfig: { snapshotTrailingEntries: 0, snapshotTotalCeiling: 2_048, clock: cluster.clock },
      onMetric: (metric) => metrics.push(metric),
    });
    await cluster.runFor(500);
    expect(metrics.some((metric) => metric.type === 'snapshotRejectedSizeCeiling' && metric.totalBytes === 4_000)).toBe(true);
    expect(node.compactionFloor.value).toBe(0);
    await node.close();
    await cluster.close();
  });

  it('an oversized snapshot is refused with a metric and never installed', async () => {
    const metrics: RaftMetric[] = [];
    const cluster = await startCluster({ seed: 605, size: 3, raftConfig: { ...snapshotConfig, snapshotTotalCeiling: 4_096 } });
    const leaderId = await checkOneLeader(cluster);
    const away = cluster.ids.find((id) => id !== leaderId)!;
    cluster.crash(away);
    await one(cluster, 'x', 2);
    await compactLeader(cluster, 10_000);
    await cluster.restart(away);
    const node = cluster.nodes.get(away)!.node!;
    const originalFloor = node.compactionFloor.value;
    node.trace.subscribe((event) => {
      if (event.type === 'frameRefused') metrics.push({ type: 'frameRefused', from: event.from, reason: event.reason });
    });
    await cluster.runFor(500);
    expect(node.compactionFloor.value).toBe(originalFloor);
    expect(metrics.length).toBeGreaterThan(0);
    await cluster.close();
  });
});
