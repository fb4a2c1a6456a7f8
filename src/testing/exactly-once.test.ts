import { describe, expect, it } from 'vitest';
import { runExactlyOnceSimulation } from './exactly-once-simulation.ts';

// Retrying clients over the KV state machine under drops, duplicates, partitions and crashes:
// the history is linearizable and no request is applied twice. 300 seeds of 3 nodes, 200 of 5.
describe('exactly-once simulation', () => {
  for (const [nodes, first, count] of [[3, 1, 300], [5, 20_001, 200]] as const) {
    for (let block = 0; block < count / 100; block += 1) {
      const from = first + block * 100;
      it(`${nodes} nodes, seeds ${from}..${from + 99}: linearizable, at most once`, async () => {
        let operations = 0;
        for (let seed = from; seed < from + 100; seed += 1) {
          try {
            operations += (await runExactlyOnceSimulation({ seed, nodes })).operations;
          } catch (error) {
            throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: npm run sim -- --seed ${seed} --nodes ${nodes} --workload kv`);
          }
        }
        expect(operations).toBe(100 * nodes * 12);
      });
    }
  }
});
