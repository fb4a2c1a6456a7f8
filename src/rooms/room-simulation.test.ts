// Rooms on the simulator (room-simulation.test-support.ts): random arrivals, departures,
// reloads, hidden pages and links cut between two peers, all but one peer leaving and coming
// back. A failure names its seed and the command that replays it alone. Seeds 1..16 here,
// 17..32 in room-simulation-2.test.ts.
import { roomSeedBlocks } from './room-simulation-seeds.test-support.ts';

roomSeedBlocks(1, 16, 0);
