import { describe } from 'vitest';
import { simulationRegressionSeeds, simulationSeedBlocks } from './simulation-seeds.test-support.ts';

// 200 random fault schedules against 5-node clusters (seeds 10001..10200).
describe('simulation under faults, 5 nodes', () => {
  simulationSeedBlocks(5, 10_001, 200);
  simulationRegressionSeeds(5);
});
