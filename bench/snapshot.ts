// Snapshot benchmarks: catching a follower up from a 10 MiB snapshot (time and peak memory), and
// heap over 1,000,000 commits with a snapshot every 10,000 entries (it must stay flat).
import { createRaftNode, type RaftNode } from '../src/driver/create-raft-node.ts';
import { nodeId, type NodeId } from '../src/core/types.ts';
import { InMemoryRaftStorage } from '../src/storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../src/transport/loopback.ts';
import type { RaftTransport } from '../src/transport/raft-transport.ts';
import { formatNumber } from './statistics.ts';

const megabyte = 1_048_576;

function gate(inner: RaftTransport, blocked: Set<NodeId>): RaftTransport {
  return { selfId: inner.selfId, peers: inner.peers, incoming: inner.incoming, send: (to, bytes) => (blocked.has(to) ? undefined : inner.send(to, bytes)) };
}

async function cluster(blocked: Set<NodeId>, raftConfig: Parameters<typeof createRaftNode>[0]['raftConfig'] = {}): Promise<{ nodes: RaftNode[]; leader: RaftNode }> {
  const network = createLoopbackNetwork();
  const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
  const nodes = await Promise.all(ids.map((id) => createRaftNode({ id, clusterConfig: { voters: ids }, transport: gate(network.transport(id), blocked), storage: new InMemoryRaftStorage(), raftConfig })));
  await Promise.race(nodes.map((node) => node.awaitLeadership()));
  return { nodes, leader: nodes.find((node) => node.role.value === 'leader') as RaftNode };
}

const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Unpaced, the engine's own speed; at the default pace (RaftConfig.snapshotBytesPerSecond,
 * 1 MiB/s), what an application gets unless it raises it.
 */
export async function snapshotCatchUp(): Promise<string[]> {
  return [...(await snapshotCatchUpAt(Number.POSITIVE_INFINITY)), ...(await snapshotCatchUpAt(undefined))];
}

async function snapshotCatchUpAt(snapshotBytesPerSecond: number | undefined): Promise<string[]> {
  const blocked = new Set<NodeId>();
  const { nodes, leader } = await cluster(blocked, { snapshotTrailingEntries: 0, ...(snapshotBytesPerSecond === undefined ? {} : { snapshotBytesPerSecond }) });
  const follower = nodes.find((node) => node !== leader) as RaftNode;
  blocked.add(follower.id);
  for (let count = 0; count < 1_000; count += 1) await leader.propose(new Uint8Array(100));
  const state = new Uint8Array(10 * megabyte).fill(9);
  const through = leader.commitIndex.value;
  leader.publishSnapshot({ throughIndex: through, state });
  await new Promise((resolve) => setTimeout(resolve, 50));
  collect();
  const baseline = process.memoryUsage();
  let peak = baseline.heapUsed + baseline.arrayBuffers;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.heapUsed + usage.arrayBuffers);
  }, 5);
  const started = performance.now();
  blocked.delete(follower.id);
  const deadline = performance.now() + 30_000;
  while (follower.compactionFloor.value < through) {
    if (performance.now() > deadline) throw new Error(`catch-up stalled: follower ${follower.id} role ${follower.role.value} term ${follower.term.value} commit ${follower.commitIndex.value} floor ${follower.compactionFloor.value}; leader ${leader.id} role ${leader.role.value} term ${leader.term.value} floor ${leader.compactionFloor.value}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const elapsedMs = performance.now() - started;
  clearInterval(sampler);
  // The transfer runs as one chain of microtasks, so also sample right after it (before any GC).
  const after = process.memoryUsage();
  peak = Math.max(peak, after.heapUsed + after.arrayBuffers);
  await Promise.all(nodes.map((node) => node.close()));
  const extra = (peak - baseline.heapUsed - baseline.arrayBuffers) / megabyte;
  const pace = snapshotBytesPerSecond === undefined ? 'paced at the default 1 MiB/s' : 'unpaced';
  return [`10 MiB snapshot catch-up, ${pace}: ${elapsedMs.toFixed(0)} ms (${(10_000 / elapsedMs).toFixed(1)} MiB/s over 16 KiB chunks), peak memory above the pre-transfer baseline ${extra.toFixed(1)} MiB (the follower's reassembly buffers plus its installed copy)`];
}

export async function heapOverCommits(total = 1_000_000, snapshotEvery = 10_000): Promise<string[]> {
  const { nodes, leader } = await cluster(new Set(), { snapshotTrailingEntries: 1_000 });
  // Each node's application folds entries into a counter and snapshots it every `snapshotEvery`.
  const applied = new Map<NodeId, number>();
  for (const node of nodes) {
    void (async () => {
      for await (const committed of node.committed()) {
        const index = committed.type === 'install' ? committed.snapshot.throughIndex : committed.type === 'entry' ? committed.entry.index : committed.index;
        applied.set(node.id, index);
        if (committed.type !== 'install' && index % snapshotEvery === 0) node.publishSnapshot({ throughIndex: index, state: new Uint8Array(8) });
      }
    })();
  }
  const lines: string[] = ['  commits   heap used   leader log floor'];
  const command = new Uint8Array(100);
  const batch = 2_000;
  for (let done = 0; done < total; done += batch) {
    // Like an application that applies what it proposes: wait for the leader's own consumer.
    const entries = await Promise.all(Array.from({ length: batch }, () => leader.propose(command)));
    const last = entries[entries.length - 1]?.index ?? 0;
    while ((applied.get(leader.id) ?? 0) < last) await new Promise((resolve) => setImmediate(resolve));
    if ((done + batch) % 200_000 === 0) {
      collect();
      lines.push(`${formatNumber(done + batch).padStart(9)}   ${(process.memoryUsage().heapUsed / megabyte).toFixed(1).padStart(6)} MiB   ${formatNumber(leader.compactionFloor.value).padStart(9)}`);
    }
  }
  await Promise.all(nodes.map((node) => node.close()));
  return lines;
}
