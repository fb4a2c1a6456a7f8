// One block of simulation seeds per Vitest test, shared by the 3-node and 5-node files (two
// files so Vitest runs them on separate workers). A failure names its seed and the command that
// replays it.
import { expect, it } from 'vitest';
import { replayCommand, runSimulation } from './simulation.ts';

/**
 * Seeds that once found an engine bug, replayed on every run. (A change to the simulator's
 * schedule changes what a seed does, so these guard the fix only while the schedule stands; the
 * bulk seeds guard the rest.)
 */
export const regressionSeeds: readonly { readonly seed: number; readonly nodes: 3 | 5; readonly found: string }[] = [
  // A restarted follower matched a read answer meant for its previous incarnation (correlation
  // ids restarted at 1) and returned a read index from before its read began.
  { seed: 100_075, nodes: 3, found: 'stale read index after restart' },
  { seed: 100_278, nodes: 3, found: 'stale read index after restart' },
  { seed: 101_874, nodes: 3, found: 'stale read index after restart' },
  { seed: 102_635, nodes: 3, found: 'stale read index after restart' },
  { seed: 200_714, nodes: 5, found: 'stale read index after restart' },
];

async function runSeed(seed: number, nodes: number, removals = false): Promise<void> {
  try {
    const result = await runSimulation({ seed, nodes, removals });
    expect(result.healedCommitMs).toBeLessThanOrEqual(5_000);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replayCommand(seed, nodes, removals)}`);
  }
}

export function simulationRegressionSeeds(nodes: 3 | 5): void {
  for (const { seed, found } of regressionSeeds.filter((regression) => regression.nodes === nodes)) {
    it(`${nodes} nodes, regression seed ${seed} (${found})`, () => runSeed(seed, nodes));
  }
}

export function simulationSeedBlocks(nodes: 3 | 5, firstSeed: number, count: number, blockSize = 50, removals = false): void {
  for (let from = firstSeed; from < firstSeed + count; from += blockSize) {
    const to = Math.min(from + blockSize, firstSeed + count) - 1;
    const what = removals ? ', members removed and taken back' : '';
    it(`${nodes} nodes${what}, seeds ${from}..${to}: every safety property holds and a leader commits within 5 s of the heal`, async () => {
      for (let seed = from; seed <= to; seed += 1) await runSeed(seed, nodes, removals);
    });
  }
}
