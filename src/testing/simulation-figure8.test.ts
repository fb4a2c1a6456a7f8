// Guards that the simulator still reaches Raft's Figure 8: a leader committing an index while
// another node holds a different entry of a newer term there (SimulationResult.committedRivals),
// the state in which a leader that commits an older term's entry by counting its replicas loses
// it. For a long time no seed reached it, and an outside review's planted Figure 8 bug (dropping
// the own-term check in maybeAdvanceCommit) passed thousands of seeds. These seeds reach it
// through the Figure 8 fault sequence (leader-cut-off.ts) with one-entry batches, and each of
// them fails with that bug planted (Leader Completeness); a change to the simulator's schedule
// that makes them miss the shape fails here, and other seeds should then be chosen (sim-cli
// prints the count: "commits beside a newer-term rival").
import { describe, expect, it } from 'vitest';
import { replayCommand, runSimulation } from './simulation.ts';

/** 3-node seeds with --small-batches that reach the shape, and fail with the bug planted (2026-12-07). */
const figure8Seeds: readonly number[] = [2, 23, 41];

describe('simulation reaches Raft Figure 8', () => {
  for (const seed of figure8Seeds) {
    it(`3 nodes, batches of one to three entries, seed ${seed}: a leader commits beside a newer-term rival, and every safety property holds`, async () => {
      const result = await runSimulation({ seed, nodes: 3, smallBatches: true }).catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replayCommand(seed, 3)} --small-batches`);
      });
      expect(result.leadersCutOff).toBeGreaterThan(0);
      expect(result.committedRivals).toBeGreaterThan(0);
    });
  }
});
