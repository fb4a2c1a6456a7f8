import { describe, expect, it } from 'vitest';
import { replayCommand, runSimulation } from './simulation.ts';

// Random fault schedules: 300 seeds of 3-node clusters and 200 of 5-node clusters, in blocks of
// 50 so Vitest can spread them. A failure names its seed and the command that replays it.
describe('simulation under faults', () => {
  for (const [nodes, first, count] of [[3, 1, 300], [5, 10_001, 200]] as const) {
    for (let block = 0; block < count / 50; block += 1) {
      const from = first + block * 50;
      it(`${nodes} nodes, seeds ${from}..${from + 49}: every safety property holds and a leader commits within 5 s of the heal`, async () => {
        for (let seed = from; seed < from + 50; seed += 1) {
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
});
