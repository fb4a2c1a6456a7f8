// Reads per second with read-index batching (concurrent reads share one heartbeat round), and
// the time from transferLeadership() to the new leader's first commit.
import type { RaftNode } from '../src/driver/create-raft-node.ts';
import { startCluster } from './core-throughput.ts';
import { formatNumber, percentile } from './statistics.ts';

export async function readThroughput(totalReads = 200_000, concurrency = 1_000): Promise<string[]> {
  const cluster = await startCluster(3);
  const lines = ['reader     reads/s    p50 ms   p99 ms'];
  for (const [label, reader] of [['leader', cluster.leader], ['follower', cluster.nodes.find((node) => node !== cluster.leader) as RaftNode]] as const) {
    const latencies: number[] = [];
    let started = 0;
    const begin = performance.now();
    const worker = async (): Promise<void> => {
      while (started < totalReads) {
        started += 1;
        const sent = performance.now();
        await reader.readIndex();
        latencies.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = performance.now() - begin;
    latencies.sort((left, right) => left - right);
    lines.push(`${label.padEnd(8)} ${formatNumber((latencies.length / elapsed) * 1000).padStart(10)}   ${percentile(latencies, 0.5).toFixed(2).padStart(6)}   ${percentile(latencies, 0.99).toFixed(2).padStart(6)}`);
  }
  await cluster.close();
  return lines;
}

export async function transferTime(rounds = 20): Promise<string[]> {
  const cluster = await startCluster(3);
  const samples: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const leader = cluster.nodes.find((node) => node.role.value === 'leader') as RaftNode;
    const target = cluster.nodes.find((node) => node !== leader) as RaftNode;
    await leader.propose(new Uint8Array(100));
    const started = performance.now();
    await leader.transferLeadership(target.id);
    await target.propose(new Uint8Array(100));
    samples.push(performance.now() - started);
  }
  await cluster.close();
  samples.sort((left, right) => left - right);
  return [`transferLeadership -> first commit by the new leader: p50 ${percentile(samples, 0.5).toFixed(2)} ms, max ${samples[samples.length - 1]?.toFixed(2)} ms over ${rounds} transfers`];
}
