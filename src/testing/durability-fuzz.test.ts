// Randomized core-level runs on slow disks (first written by a review of replication and elections,
// 2026-12-07): writes land later and in order, a crash loses the writes still in flight, and the
// network drops, duplicates, delays and reorders frames and cuts nodes off. Checked after every
// step (fuzz-cluster.test-support.ts): one leader per term, committed entries never change, every
// success acknowledgement on the wire is on its sender's disk and agrees with the leader it
// reaches, every vote granted is on the voter's disk, writes leave no gap; once the faults stop,
// one leader, and every log equal to its log and committed.
import { describe, expect, it } from 'vitest';
import type { RaftConfig } from '../core/config.ts';
import type { NodeId } from '../core/types.ts';
import { FuzzCluster } from './fuzz-cluster.test-support.ts';

interface Shape {
  readonly name: string;
  readonly nodes: number;
  /** How many of the nodes, the last ones, are witnesses. */
  readonly witnesses: number;
  readonly config: RaftConfig;
}

const faultMs = 3_600;
const calmMs = 2_400;
const quietMs = 3_000;

function proposeAtLeader(cluster: FuzzCluster, proposal: number): void {
  const leader = cluster.leaders()[0]?.core;
  if (leader === undefined || leader === null) return;
  leader.propose(cluster.now, proposal, new Uint8Array([proposal & 0xff]), null);
  cluster.drain();
}

/** Cuts one node off, each direction of each of its links with a chance of 0.8. */
function cutOneOff(cluster: FuzzCluster): void {
  cluster.heal();
  const cut = cluster.ids[Math.floor(cluster.rand() * cluster.ids.length)] as NodeId;
  for (const other of cluster.ids) {
    if (other === cut) continue;
    if (cluster.rand() < 0.8) cluster.blocked.add(`${cut}->${other}`);
    if (cluster.rand() < 0.8) cluster.blocked.add(`${other}->${cut}`);
  }
}

/** Faults for faultMs, proposals without faults for calmMs, then quietMs of a calm network and fast disks. */
function runSeed(seed: number, shape: Shape): { cluster: FuzzCluster; converged: boolean; summary: string } {
  const names = Array.from({ length: shape.nodes }, (_, index) => `n${index + 1}`);
  const cluster = new FuzzCluster(names, { voters: names as NodeId[] }, seed, shape.config, names.slice(shape.nodes - shape.witnesses));
  cluster.writeLandingChance = 0.1;
  cluster.crashKeepsFramesSent = true;
  cluster.dropProbability = 0.15;
  cluster.duplicateProbability = 0.02;
  cluster.maxDelay = 30;
  let proposals = 0;
  for (let step = 0; step < faultMs && cluster.violations.length === 0; step += 1) {
    if (cluster.rand() < 0.03) proposeAtLeader(cluster, (proposals += 1));
    const victim = cluster.ids[Math.floor(cluster.rand() * cluster.ids.length)] as NodeId;
    if (cluster.rand() < 0.005 && cluster.nodes.get(victim)?.core !== null) cluster.crash(victim);
    for (const node of cluster.nodes.values()) if (node.core === null && cluster.rand() < 0.01) cluster.restart(node.id);
    if (cluster.rand() < 0.003) cutOneOff(cluster);
    if (cluster.rand() < 0.004) cluster.heal();
    cluster.run(1);
  }
  cluster.heal();
  cluster.dropProbability = 0;
  for (const id of cluster.ids) cluster.restart(id);
  for (let step = 0; step < calmMs && cluster.violations.length === 0; step += 1) {
    if (cluster.rand() < 0.03) proposeAtLeader(cluster, (proposals += 1));
    cluster.run(1);
  }
  // A calm network and fast disks: with frames up to 30 ms late, a heartbeat interval of 35 ms
  // and election timeouts of 40 to 45 ms (the five-node shape) leave followers campaigning for
  // good, and a leader elected at the very end has not replicated its no-op yet.
  cluster.duplicateProbability = 0;
  cluster.maxDelay = 4;
  cluster.writeLandingChance = 1;
  cluster.run(quietMs);
  const leaders = cluster.leaders();
  const leader = leaders[0]?.core ?? null;
  const cores = [...cluster.nodes.values()].map((node) => node.core);
  const converged = leaders.length === 1 && leader !== null && cores.every((core) => core !== null && core.lastIndex === leader.lastIndex && core.commitIndex === leader.lastIndex);
  const summary = `seed ${seed}: ${[...cluster.nodes.values()].map((node) => (node.core === null ? `${node.id}:down` : `${node.id}:${node.core.role}@${node.core.term} last ${node.core.lastIndex} commit ${node.core.commitIndex}`)).join(', ')}`;
  return { cluster, converged, summary };
}

/** Seeds from DURABILITY_FUZZ_SEEDS ("first-last"), else 1 to 4. */
function seedRange(): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(process.env.DURABILITY_FUZZ_SEEDS ?? '');
  return match === null ? [1, 4] : [Number(match[1]), Number(match[2])];
}

const shapes: readonly Shape[] = [
  { name: 'three nodes, tight windows and 1 KiB batches', nodes: 3, witnesses: 0, config: { electionTimeoutMin: 30, electionTimeoutMax: 60, heartbeatInterval: 8, maxInflightMessages: 2, maxAppendBytes: 1024 } },
  { name: 'three nodes with a witness, one message in flight', nodes: 3, witnesses: 1, config: { electionTimeoutMin: 40, electionTimeoutMax: 80, heartbeatInterval: 10, maxInflightMessages: 1 } },
  { name: 'five nodes, heartbeat close to the election timeout', nodes: 5, witnesses: 0, config: { electionTimeoutMin: 40, electionTimeoutMax: 45, heartbeatInterval: 35 } },
];

// DURABILITY_FUZZ_SEEDS=1-500 npx vitest run --project node src/testing/durability-fuzz.test.ts runs more.
describe('slow disks, crashes losing writes in flight, a lossy reordering network and cut-off nodes: randomized', () => {
  for (const shape of shapes) {
    it(`keeps one leader per term, one committed log and every acknowledgement and vote on disk, and converges once healed: ${shape.name}`, () => {
      const [first, last] = seedRange();
      const failures: string[] = [];
      for (let seed = first; seed <= last; seed += 1) {
        const { cluster, converged, summary } = runSeed(seed, shape);
        if (cluster.violations.length > 0) failures.push(`${summary}: ${JSON.stringify(cluster.violations.slice(0, 2))}`);
        else if (!converged) failures.push(`${summary}: no single leader with every log equal and committed ${quietMs} ms after the heal`);
      }
      expect(failures).toEqual([]);
    });
  }
});
