import { describe } from 'vitest';
import { simulationSeedBlocks } from './simulation-seeds.test-support.ts';

// Random fault schedules with witnesses among the nodes (RaftConfig.witness: they vote and
// acknowledge but never campaign or lead; the safety checker fails a run in which one leads):
// 5-node clusters with two (seeds 60001..60060) and 3-node clusters with one (61001..61060).
// Membership changes keep the witnesses fewer than a quorum of the voters (witnessesAllowed).
describe('simulation under faults with witnesses', () => {
  simulationSeedBlocks(5, 60_001, 60, { blockSize: 30, witnesses: 2 });
  simulationSeedBlocks(3, 61_001, 60, { blockSize: 30, witnesses: 1 });
});
