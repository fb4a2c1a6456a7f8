import { describe, expect, it } from 'vitest';
import { replayCommand, runSimulation } from './simulation.ts';

// 300 random fault schedules of 3-node clusters. A failure names its seed and replay command.
const firstSeed = 1;
const seedCount = 300;

describe('simulation: 3 nodes under faults', () => {
  for (let block = 0; block < seedCount / 50; block += 1) {
    it(`seeds ${firstSeed + block * 50}..${firstSeed + block * 50 + 49} keep every safety property and recover within 5 s of the heal`, async () => {
      for (let seed = firstSeed + block * 50; seed < firstSeed + (block + 1) * 50; seed += 1) {
        try {
          const result = await runSimulation({ seed, nodes: 3 });
          expect(result.healedCommitMs).toBeLessThanOrEqual(5_000);
        } catch (error) {
          throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replayCommand(seed, 3)}`);
        }
      }
    });
  }
});
