import { describe } from 'vitest';
import { simulationSeedBlocks } from './simulation-seeds.test-support.ts';

// An even cluster: a quorum of 4 is 3, so a 2–2 partition leaves no side able to elect or commit,
// and a joint configuration between 4 and 3 or 5 voters needs both majorities. 100 random fault
// schedules (seeds 40001..40100) and 50 with removals (43001..43050); until 2026-12-07 only the
// campaigns by hand ran 4 nodes.
describe('simulation under faults, 4 nodes', () => {
  simulationSeedBlocks(4, 40_001, 100);
});

describe('simulation under faults with removals, 4 nodes', () => {
  simulationSeedBlocks(4, 43_001, 50, { removals: true });
});
