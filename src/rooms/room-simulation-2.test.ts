// The second half of the room simulation seeds (see room-simulation.test.ts).
import { roomSeedBlocks } from './room-simulation-seeds.test-support.ts';

roomSeedBlocks(17, 16, 1);
