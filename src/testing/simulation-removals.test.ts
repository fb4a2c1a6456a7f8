import { describe } from 'vitest';
import { simulationSeedBlocks } from './simulation-seeds.test-support.ts';

// 100 random fault schedules against 5-node clusters (seeds 30001..30100) whose membership changes
// sometimes remove members entirely and later take them back under the same id: removed nodes
// learn it (their log, or a leader's notMember), fail their calls, and rejoin when re-added.
describe('simulation under faults with removals, 5 nodes', () => {
  simulationSeedBlocks(5, 30_001, 100, 50, true);
});
