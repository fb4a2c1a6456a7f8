import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { createSimulatedCluster, type SimulatedCluster } from './cluster.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | null | undefined): string | null => (value === null || value === undefined ? null : new TextDecoder().decode(value));

async function proposeAll(cluster: SimulatedCluster, via: NodeId, commands: readonly string[]): Promise<void> {
  for (const command of commands) {
    const entry = await cluster.settle(cluster.propose(via, bytes(command)));
    expect(entry, `proposal ${command} via ${via}`).not.toBeNull();
  }
}

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

  it('every node applies the same sequence; a restarted node re-applies it from index 1', async () => {
    const cluster = createSimulatedCluster({ seed: 7, size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader(2_000);
    await proposeAll(cluster, leader!.id, ['a', 'b', 'c']);
    const follower = cluster.ids.find((id) => id !== leader!.id) as NodeId;
    cluster.crash(follower);
    expect(cluster.isAlive(follower)).toBe(false);
    await proposeAll(cluster, leader!.id, ['d']);
    await cluster.restart(follower);
    await cluster.runUntil(() => [...cluster.nodes.values()].every((simulated) => simulated.appliedIndex >= 5), 5_000);
    for (const simulated of cluster.nodes.values()) {
      expect([2, 3, 4, 5].map((index) => text(simulated.appliedCommands.get(index)))).toEqual(['a', 'b', 'c', 'd']);
    }
    expect(cluster.nodes.get(follower)?.incarnation).toBe(3);
    cluster.checker.checkAcknowledgedApplied();
    cluster.checker.throwIfViolated();
    await cluster.close();
  });

  it('a write that takes a committed entry out of a durable log is caught as it lands, unless a durable snapshot covers it', async () => {
    const cluster = createSimulatedCluster({ seed: 12, size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader(2_000);
    await proposeAll(cluster, leader!.id, ['a', 'b', 'c']);
    await cluster.runUntil(() => [...cluster.nodes.values()].every((simulated) => simulated.appliedIndex >= 4), 2_000);
    const [first, second] = cluster.ids.filter((id) => id !== leader!.id) as [NodeId, NodeId];
    // What an engine writing in the wrong order would do: the log goes before a snapshot holds it.
    const durable = (id: NodeId) => cluster.nodes.get(id)!.durable;
    await durable(first).saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, new Uint8Array(0));
    await durable(first).discardLogPrefix(2);
    expect(cluster.checker.violations).toEqual([]);
    await durable(first).discardLogPrefix(3);
    await durable(second).truncateFrom(4);
    expect(cluster.checker.violations.map((violation) => violation.message)).toEqual([
      expect.stringMatching(new RegExp(`^Committed entry kept violated \\(seed 12\\): ${first} discarded its log through 3 beyond its durable snapshot through 2, entry 3 \\(term \\d+\\) with it$`)),
      expect.stringMatching(new RegExp(`^Committed entry kept violated \\(seed 12\\): ${second} removed committed entry 4 \\(term \\d+\\) from its durable log, which held an entry of term \\d+ \\(a truncation from 4\\)$`)),
    ]);
    cluster.checker.violations.length = 0; // seen: the clock would rethrow them while closing
    await cluster.close();
  });

  it('a minority partition cannot commit; after heal the cluster commits again', async () => {
    const cluster = createSimulatedCluster({ seed: 11, size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader(2_000);
    const others = cluster.ids.filter((id) => id !== leader!.id);
    cluster.partition([[leader!.id], others]);
    const stranded = await cluster.settle(cluster.propose(leader!.id, bytes('stranded'), { timeoutMs: 500 }), 1_000);
    expect(stranded).toBeNull();
    const majorityLeader = await cluster.waitForLeader(3_000);
    expect(others).toContain(majorityLeader?.id);
    cluster.heal();
    await proposeAll(cluster, majorityLeader!.id, ['after']);
    await cluster.close();
  });

  it('survives every node crashing at once: only durable state comes back', async () => {
    const cluster = createSimulatedCluster({ seed: 13, size: 3, maxWriteDelayMs: 5 });
    await cluster.start();
    const leader = await cluster.waitForLeader(2_000);
    await proposeAll(cluster, leader!.id, ['x', 'y']);
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) await cluster.restart(id);
    const next = await cluster.waitForLeader(3_000);
    await proposeAll(cluster, next!.id, ['z']);
    cluster.checker.checkAcknowledgedApplied();
    cluster.checker.throwIfViolated();
    await cluster.close();
  });
});
