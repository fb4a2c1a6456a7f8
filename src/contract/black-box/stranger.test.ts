import { describe, it, expect } from 'vitest';
import { runSimulation, seededRandom, type SimulatedCluster } from '../../testing/index.ts';
import { nodeId, type NodeId } from '../../index.ts';

/** A stranger outside the cluster replays real frames at members (its own identity set by the transport). */
function stranger(cluster: SimulatedCluster, seed: number) {
  const rec: { to: NodeId; bytes: Uint8Array }[] = [];
  const rnd = seededRandom(seed * 31 + 7);
  const prev = cluster.network.onSend;
  cluster.network.onSend = (from, to, bytes) => { prev?.(from, to, bytes); if (rec.length < 5000) rec.push({ to, bytes: bytes.slice() }); else rec[Math.floor(rnd() * 5000)] = { to, bytes: bytes.slice() }; };
  const zz = nodeId('zz');
  const tick = () => {
    if (rec.length) { const f = rec[Math.floor(rnd() * rec.length)]!; const to = cluster.ids[Math.floor(rnd() * cluster.ids.length)]!; if (cluster.isAlive(to)) cluster.network.inject(zz, to, f.bytes); }
    cluster.clock.setTimeout(tick, 1);
  };
  cluster.clock.setTimeout(tick, 1);
}

const seeds = Number(process.env.BB_SEEDS ?? 10);
describe('SPEC Untrusted peers: a stranger replaying real frames changes nothing (safety and liveness)', () => {
  for (const nodes of [3, 5]) for (let seed = 1; seed <= seeds; seed++) {
    it(`${nodes} nodes seed ${seed}`, async () => {
      const r = await runSimulation({ seed: 8000 + seed, nodes, snapshotProbability: 0.05, observe: (c) => stranger(c, seed) });
      expect(r.acknowledged).toBeGreaterThan(0);
    });
  }
});
