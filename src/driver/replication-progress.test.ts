// replicationProgress(): the leader's read-only view of each peer's match index (rooms promote
// only caught-up learners); empty on other roles and after close.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';

describe('RaftNode.replicationProgress', () => {
  it('gives every peer, learners included, its match index on the leader and nothing elsewhere', async () => {
    const cluster = createSimulatedCluster({ seed: 611, ids: ['a', 'b', 'c'], voters: ['a', 'b'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    await cluster.settle(leader.node!.changeMembership({ voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] }));
    const entry = (await cluster.settle(cluster.propose(leader.id, new TextEncoder().encode('x'))))!;
    await cluster.runFor(200);
    const progress = leader.node!.replicationProgress!();
    expect([...progress.keys()].sort()).toEqual(['a', 'b', 'c'].filter((id) => id !== leader.id));
    for (const matchIndex of progress.values()) expect(matchIndex).toBeGreaterThanOrEqual(entry.index);
    for (const simulated of cluster.nodes.values()) {
      if (simulated !== leader) expect(simulated.node!.replicationProgress!().size).toBe(0);
    }
    // A copy: mutating it (through a cast) does not touch the engine.
    (progress as unknown as Map<string, number>).clear();
    expect(leader.node!.replicationProgress!().size).toBe(2);
    const node = leader.node!;
    await cluster.close();
    expect(node.replicationProgress!().size).toBe(0);
  });
});
