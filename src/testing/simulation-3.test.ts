import { describe } from 'vitest';
import { simulationRegressionSeeds, simulationSeedBlocks } from './simulation-seeds.test-support.ts';

// 300 random fault schedules against 3-node clusters (seeds 1..300).
describe('simulation under faults, 3 nodes', () => {
  simulationSeedBlocks(3, 1, 300);
  simulationRegressionSeeds(3);
});
