import { describe, expect, it } from 'vitest';
import { createSimulatedCluster } from './cluster.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('simulated cluster', () => {
  it('elects a leader and commits on the virtual clock, deterministically from the seed', async () => {
    const outcomes: string[] = [];
    for (let run = 0; run < 2; run += 1) {
      const cluster = createSimulatedCluster({ seed: 42, size: 3 });
      await cluster.start();
      const leader = await cluster.waitForLeader(2_000);
      expect(leader).not.toBeNull();
      const entry = await cluster.settle(cluster.propose(leader!.id, bytes('hello')));
      expect(entry?.index).toBe(2);
      outcomes.push(`${leader!.id}@${cluster.clock.now()}`);
      await cluster.close();
    }
    expect(outcomes[0]).toBe(outcomes[1]);
  });
});
