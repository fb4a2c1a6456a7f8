// Commits per second and commit latency of a 3-node cluster in one process on the in-memory
// loopback transport, 100-byte commands, many proposals in flight (issue "Raft core").
import { createRaftNode, type RaftNode } from '../src/driver/create-raft-node.ts';
import { InMemoryRaftStorage } from '../src/storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../src/transport/loopback.ts';
import { nodeId, type ClientIdentity } from '../src/core/types.ts';
import { percentile } from './statistics.ts';

export interface ThroughputOptions {
  readonly totalCommits: number;
  readonly inFlight: number;
  readonly commandBytes: number;
  /** Without dedup keys: the cost of the exactly-once path is measured against this. */
  readonly withoutDedup?: boolean;
}

export interface ThroughputResult {
  readonly commitsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly elapsedMs: number;
}

export async function startCluster(size = 3, identity?: ClientIdentity): Promise<{ nodes: RaftNode[]; leader: RaftNode; close(): Promise<void> }> {
  const network = createLoopbackNetwork();
  const ids = Array.from({ length: size }, (_, position) => nodeId(`node-${position + 1}`));
  const nodes = await Promise.all(
    ids.map((id) =>
      createRaftNode({
        id,
        clusterConfig: { voters: ids },
        transport: network.transport(id),
        storage: new InMemoryRaftStorage(),
        ...(identity === undefined ? {} : { identity }),
      }),
    ),
  );
  await Promise.race(nodes.map((node) => node.awaitLeadership()));
  const leader = nodes.find((node) => node.role.value === 'leader') as RaftNode;
  return {
    nodes,
    leader,
    close: async () => {
      await Promise.all(nodes.map((node) => node.close()));
    },
  };
}

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const cluster = await startCluster(3, options.withoutDedup === true ? { type: 'none' } : undefined);
  const command = new Uint8Array(options.commandBytes).fill(42);
  const latencies: number[] = [];
  let started = 0;
  const begin = performance.now();
  const worker = async (): Promise<void> => {
    while (started < options.totalCommits) {
      started += 1;
      const sent = performance.now();
      await cluster.leader.propose(command);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  const elapsedMs = performance.now() - begin;
  await cluster.close();
  latencies.sort((a, b) => a - b);
  return {
    commitsPerSecond: (latencies.length / elapsedMs) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    elapsedMs,
  };
}
