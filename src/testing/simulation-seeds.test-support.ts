// One block of simulation seeds per Vitest test, shared by the 3-node and 5-node files (two
// files so Vitest runs them on separate workers). A failure names its seed and the command that
// replays it.
import { expect, it } from 'vitest';
import { replayCommand, runSimulation } from './simulation.ts';

export function simulationSeedBlocks(nodes: 3 | 5, firstSeed: number, count: number, blockSize = 50): void {
  for (let from = firstSeed; from < firstSeed + count; from += blockSize) {
    const to = Math.min(from + blockSize, firstSeed + count) - 1;
    it(`${nodes} nodes, seeds ${from}..${to}: every safety property holds and a leader commits within 5 s of the heal`, async () => {
      for (let seed = from; seed <= to; seed += 1) {
        try {
          const result = await runSimulation({ seed, nodes });
          expect(result.healedCommitMs).toBeLessThanOrEqual(5_000);
        } catch (error) {
          throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replayCommand(seed, nodes)}`);
        }
      }
    });
  }
}
