import { describe, it, expect } from 'vitest';
import { runSimulation, seededRandom, type SimulatedCluster } from '../../testing/index.ts';
import type { NodeId } from '../../index.ts';

/** An honest but arbitrarily slow network: any frame may be delivered again much later (Raft's fault model). */
function replayOldFrames(cluster: SimulatedCluster, seed: number, everyMs: number, untilMs = Infinity) {
  const rec: { from: NodeId; to: NodeId; bytes: Uint8Array }[] = [];
  const rnd = seededRandom(seed * 7919 + 1);
  const prev = cluster.network.onSend;
  cluster.network.onSend = (from, to, bytes) => {
    prev?.(from, to, bytes);
    if (rec.length < 20000) rec.push({ from, to, bytes: bytes.slice() });
    else rec[Math.floor(rnd() * rec.length)] = { from, to, bytes: bytes.slice() };
  };
  const t0 = cluster.clock.now();
  const tick = () => {
    if (cluster.clock.now() - t0 >= untilMs) return;
    if (rec.length > 0) {
      const f = rec[Math.floor(rnd() * rec.length)]!;
      if (cluster.isAlive(f.to)) cluster.network.inject(f.from, f.to, f.bytes);
    }
    cluster.clock.setTimeout(tick, everyMs);
  };
  cluster.clock.setTimeout(tick, everyMs);
}

describe('replayed old frames stop at the heal: liveness after faults cease', () => {
  for (const seed of (process.env.BB_LIVE_SEEDS ?? '32').split(',').map(Number)) {
    it(`3 nodes seed ${seed}, replay stops at the heal`, async () => {
      const result = await runSimulation({ seed: 5000 + seed, nodes: 3, snapshotProbability: 0.05, observe: (c) => replayOldFrames(c, seed, 2, 5000) });
      expect(result.acknowledged).toBeGreaterThan(0);
    });
  }
});

// Replays stop at the heal (5 s): a dead leader's heartbeats replayed without end keep any Raft's followers from electing.
const seeds = Number(process.env.BB_SEEDS ?? 20);
describe('safety under very late duplicate deliveries (old frames replayed from their real sender)', () => {
  for (const nodes of [3, 5]) {
    for (let seed = 1; seed <= seeds; seed++) {
      it(`${nodes} nodes seed ${seed}`, async () => {
        const result = await runSimulation({ seed: 5000 + seed, nodes, snapshotProbability: 0.05, observe: (c) => replayOldFrames(c, seed, 2, 5000) });
        expect(result.acknowledged).toBeGreaterThan(0);
      });
    }
  }
});
