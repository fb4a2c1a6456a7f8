// Seed blocks of the room simulation, shared by two test files so Vitest runs them on two
// workers. ROOM_SIM_SEED=<seed> runs one seed alone; ROOM_SIM_SEEDS=<first>-<last> a range
// instead of the default blocks (for longer runs than npm test affords).
import { expect, it } from 'vitest';
import { replayRoomSeed, runRoomSimulation } from './room-simulation.test-support.ts';

async function runSeed(seed: number): Promise<void> {
  try {
    const result = await runRoomSimulation(seed);
    expect(result.operations).toBeGreaterThan(0);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replayRoomSeed(seed)}`);
  }
}

function chosenSeeds(first: number, count: number): number[] {
  const one = process.env['ROOM_SIM_SEED'];
  if (one !== undefined) return [Number(one)];
  const range = process.env['ROOM_SIM_SEEDS']?.split('-').map(Number);
  if (range !== undefined && range.length === 2) return Array.from({ length: range[1]! - range[0]! + 1 }, (_, offset) => range[0]! + offset);
  return Array.from({ length: count }, (_, offset) => first + offset);
}

/** `share` picks every other seed of an explicit range, so the two files split it. */
export function roomSeedBlocks(first: number, count: number, share: 0 | 1, blockSize = 8): void {
  const explicit = process.env['ROOM_SIM_SEED'] !== undefined || process.env['ROOM_SIM_SEEDS'] !== undefined;
  const seeds = chosenSeeds(first, count).filter((_, position) => !explicit || position % 2 === share);
  for (let from = 0; from < seeds.length; from += blockSize) {
    const block = seeds.slice(from, from + blockSize);
    it(`room seeds ${block.join(', ')}: safe majority, nothing lost or applied twice, linearizable, converges`, async () => {
      for (const seed of block) await runSeed(seed);
    });
  }
}
