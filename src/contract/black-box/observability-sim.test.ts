import { describe, it, expect } from 'vitest';
import { runSimulation } from '../../testing/index.ts';
import type { NodeId, RaftNode } from '../../index.ts';

const seeds = Number(process.env.BB_SEEDS ?? 15);
describe('Observability under faults: watchables move one way, trace in clock and term order, one leader per term', () => {
  for (const nodes of [3, 5]) for (let seed = 1; seed <= seeds; seed++) {
    it(`${nodes} nodes seed ${seed}`, async () => {
      const problems: string[] = [];
      const leaderOfTerm = new Map<number, NodeId>();
      const becameLeader = new Map<number, NodeId>();
      const reported: [NodeId, number, NodeId][] = [];
      await runSimulation({
        seed: 7000 + seed, nodes, snapshotProbability: 0.05, removals: seed % 2 === 0,
        observe: (cluster) => {
          cluster.observers.nodeStarted = (sim, node: RaftNode) => {
            const id = sim.id;
            let term = node.term.value, commit = node.commitIndex.value, floor = node.compactionFloor.value;
            let lastAt = -Infinity, lastTraceTerm = -Infinity;
            node.term.subscribe((t) => { if (t < term) problems.push(`${id} term ${term} -> ${t}`); term = t; });
            node.commitIndex.subscribe((c) => { if (c < commit) problems.push(`${id} commitIndex ${commit} -> ${c}`); commit = c; });
            node.compactionFloor.subscribe((f) => { if (f < floor) problems.push(`${id} floor ${floor} -> ${f}`); floor = f; });
            node.leader.subscribe((l) => { if (l !== null) reported.push([id, node.term.value, l]); });
            node.role.subscribe((r) => { if (r === 'leader') { if (node.leader.value !== id) problems.push(`${id} leader role but leader watchable ${node.leader.value}`); } });
            node.trace.subscribe((e) => {
              if (e.node !== id) problems.push(`trace node ${e.node} on ${id}`);
              if (e.at < lastAt) problems.push(`${id} trace at ${e.at} after ${lastAt}`);
              if (e.term < lastTraceTerm) problems.push(`${id} trace ${e.type} term ${e.term} after ${lastTraceTerm}`);
              lastAt = e.at; lastTraceTerm = e.term;
              if (e.type === 'becomeLeader') {
                const prev = becameLeader.get(e.term);
                if (prev && prev !== id) problems.push(`two leaders in term ${e.term}: ${prev} and ${id}`);
                becameLeader.set(e.term, id);
              }
            });
          };
        },
      });
      for (const [id, term, l] of reported) {
        const real = becameLeader.get(term);
        if (real !== undefined && real !== l) problems.push(`${id} reported leader ${l} for term ${term}, but ${real} led it`);
        if (real === undefined) problems.push(`${id} reported leader ${l} for term ${term}, in which nobody became leader`);
      }
      void leaderOfTerm;
      expect(problems.slice(0, 10)).toEqual([]);
    });
  }
});
