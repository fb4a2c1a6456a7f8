import { describe, it, expect } from 'vitest';
import { seededRandom, createSimulatedCluster } from '../../testing/index.ts';
import type { Committed, NodeId, RaftNode } from '../../index.ts';
import { enc } from './harness.test-support.ts';

interface Watch { node: NodeId; from: number; floorAtCall: number; commitAtCall: number; items: Committed[]; stop: () => void }

function watch(id: NodeId, node: RaftNode, from: number): Watch {
  const w: Watch = { node: id, from, floorAtCall: node.compactionFloor.value, commitAtCall: node.commitIndex.value, items: [], stop: () => {} };
  const it = node.committedFrom(from)[Symbol.asyncIterator]();
  let stopped = false;
  w.stop = () => { stopped = true; void it.return?.(); };
  (async () => { while (!stopped) { const r = await it.next().catch(() => ({ done: true as const, value: undefined })); if (r.done) return; w.items.push(r.value); } })();
  return w;
}

function check(w: Watch): string | null {
  let nx = w.from;
  for (let k = 0; k < w.items.length; k++) {
    const x = w.items[k]!;
    if (x.type === 'install') {
      if (k === 0 && w.from > w.floorAtCall && x.snapshot.throughIndex < w.from) return `starts with an install through ${x.snapshot.throughIndex} although from ${w.from} > floor ${w.floorAtCall}`;
      if (x.snapshot.throughIndex < nx - 1) return `install through ${x.snapshot.throughIndex} goes back (next expected ${nx})`;
      nx = x.snapshot.throughIndex + 1;
    } else {
      const idx = x.type === 'entry' ? x.entry.index : x.index;
      if (k === 0 && w.from <= w.floorAtCall) return `from ${w.from} <= floor ${w.floorAtCall} but first item is index ${idx}, not an install`;
      if (idx !== nx) return `index ${idx} where ${nx} expected (item ${k})`;
      nx++;
    }
  }
  return null;
}

const seeds = Number(process.env.BB_SEEDS ?? 15);
describe('SPEC committedFrom: replay then live, no gap or duplicate, install at or below the floor', () => {
  for (let seed = 1; seed <= seeds; seed++) {
    it(`seed ${seed}`, async () => {
      const cluster = createSimulatedCluster({ seed: 900 + seed, ids: ['a', 'b', 'c'], snapshotProbability: 0.15, network: { minDelayMs: 1, maxDelayMs: 10, dropProbability: 0.05, duplicateProbability: 0.05 } });
      await cluster.start();
      const r = seededRandom(seed);
      const watches: Watch[] = [];
      let pending = 0;
      for (let step = 0; step < 60; step++) {
        const ids = cluster.ids.filter((i) => cluster.isAlive(i) && cluster.nodes.get(i)!.node);
        const id = ids[Math.floor(r() * ids.length)]!;
        const node = cluster.nodes.get(id)!.node!;
        const x = r();
        if (x < 0.5) { pending++; void node.propose(enc(`s${seed}-${step}`)).catch(() => {}).finally(() => pending--); }
        else if (x < 0.75) {
          const ci = node.commitIndex.value, fl = node.compactionFloor.value;
          const choices = [1, fl, fl + 1, Math.max(1, ci), ci + 1, ci + 3];
          watches.push(watch(id, node, Math.max(1, choices[Math.floor(r() * choices.length)]!)));
        } else if (x < 0.8 && cluster.ids.filter((i) => cluster.isAlive(i)).length === 3) {
          cluster.crash(id);
          await cluster.runFor(50 + Math.floor(r() * 300));
          await cluster.restart(id);
        } else if (x < 0.85) {
          cluster.partition([[id], cluster.ids.filter((i) => i !== id)]);
          await cluster.runFor(100 + Math.floor(r() * 500));
          cluster.heal();
        }
        await cluster.runFor(5 + Math.floor(r() * 40));
      }
      cluster.heal();
      await cluster.runFor(3000);
      for (const w of watches) {
        const problem = check(w);
        expect(problem, `node ${w.node} committedFrom(${w.from}) floor ${w.floorAtCall} commit ${w.commitAtCall}: ${JSON.stringify(w.items.slice(0, 5).map((i) => i.type === 'install' ? `install@${i.snapshot.throughIndex}` : i.type === 'entry' ? i.entry.index : i.index))}`).toBeNull();
        w.stop();
      }
      expect(watches.length).toBeGreaterThan(3);
      await cluster.close();
    });
  }
});
