// A witness (RaftConfig.witness) votes and acknowledges like any voter but never leads: with one
// of the other two members down, the survivor leads with the witness's vote and commits with
// its acknowledgement; with both others down, nobody leads.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { createSimulatedCluster } from '../cluster.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('a witness', () => {
  it('never leads, over many seeds with crashes and partitions', async () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      const cluster = createSimulatedCluster({ seed: 9_100 + seed, ids: ['a', 'b', 'w'], witnesses: ['w'] });
      await cluster.start();
      let leaders = 0;
      for (let round = 0; round < 6; round += 1) {
        const leader = await cluster.waitForLeader(3_000);
        expect(leader?.id, `seed ${9_100 + seed}`).not.toBe('w');
        if (leader) leaders += 1;
        if (round % 2 === 0 && leader) {
          cluster.crash(leader.id);
          await cluster.runFor(1_000);
          await cluster.restart(leader.id);
        } else {
          cluster.partition([[nodeId('a')], [nodeId('b'), nodeId('w')]]);
          await cluster.runFor(800);
          cluster.heal();
        }
      }
      expect(leaders).toBeGreaterThan(0);
      await cluster.close();
    }
  });

  it('lets the survivor of a two-peer room keep committing, and refuses a transfer to itself', async () => {
    const cluster = createSimulatedCluster({ seed: 9_301, ids: ['a', 'b', 'w'], witnesses: ['w'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(3_000))!;
    const other = leader.id === 'a' ? nodeId('b') : nodeId('a');
    await expect(cluster.settle(leader.node!.transferLeadership(nodeId('w')), 5_000)).rejects.toThrow(/transfer/i);
    cluster.crash(leader.id);
    const next = await cluster.waitForLeader(5_000);
    expect(next?.id).toBe(other);
    const entry = await cluster.settle(next!.node!.propose(bytes('still going')), 5_000);
    expect(entry?.index).toBeGreaterThan(0);
    cluster.crash(other);
    await cluster.runFor(3_000);
    expect(cluster.leader()).toBeNull(); // the witness alone never leads
    await cluster.close();
  });
});
