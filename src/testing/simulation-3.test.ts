import { describe } from 'vitest';
import { simulationRegressionSeeds, simulationSeedBlocks } from './simulation-seeds.test-support.ts';

// 150 random fault schedules against 3-node clusters (seeds 1..150; until 2026-12-07 300: CI's 20-minute budget on a slow 2-core host (1,197 s of 1,200 on 2026-12-07) cut this block; the rest of its range runs with `npm run sim` (README, "Measured figures").)
describe('simulation under faults, 3 nodes', () => {
  simulationSeedBlocks(3, 1, 150);
  simulationRegressionSeeds(3);
});

// Batches of one to three entries (SimulationOptions.smallBatches): 20 seeds (3001..3020), each
// about ten times as long as an ordinary one. Their first run found every non-empty proposal
// refused at the smallest maxAppendBytes (2026-12-07).
describe('simulation under faults, 3 nodes, small batches', () => {
  simulationSeedBlocks(3, 3_001, 20, { blockSize: 10, smallBatches: true });
});
