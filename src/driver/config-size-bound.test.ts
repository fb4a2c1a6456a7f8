// A configuration the node accepts must be one every peer can decode. The codec reads at most
// maxConfigMembers voters and as many learners; a larger configuration, accepted by
// changeMembership, was appended by the leader and then dropped as undecodable (`tooLarge`) by
// every follower: its entry and everything after it never replicated, and the change ended in
// LeadershipLostError. Now it is refused up front (that the largest one accepted still travels:
// src/codec/records.test.ts).
import { describe, expect, it } from 'vitest';
import { maxConfigMembers, nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createRaftNode } from './create-raft-node.ts';

const absentNodes = (count: number): NodeId[] => Array.from({ length: count }, (_, position) => nodeId(`absent-${position}`));
const voters = ['a', 'b', 'c'].map((name) => nodeId(name));

describe('the size of a cluster configuration', () => {
  it('changeMembership refuses one learner more than the wire format carries with a RangeError, changing nothing', async () => {
    const cluster = createSimulatedCluster({ seed: 4_901, ids: ['a', 'b', 'c'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!.node!;
    await cluster.runFor(300); // the leader's no-op commits
    const commitBefore = leader.commitIndex.value;
    const refusal = await cluster.settle(leader.changeMembership({ voters, learners: absentNodes(maxConfigMembers + 1) }).then(() => null, (error: unknown) => error));
    expect(refusal).toBeInstanceOf(RangeError);
    expect((refusal as Error).message).toMatch(/ClusterConfig\.learners lists 1001 node ids; a configuration lists at most 1000 voters and 1000 learners/);
    await cluster.runFor(500);
    expect(leader.membership.value).toEqual({ voters });
    expect(leader.commitIndex.value).toBe(commitBefore);
    await cluster.close();
  });

  it('createRaftNode refuses a bootstrap configuration with more voters than the wire format carries', async () => {
    const id = nodeId('a');
    const attempt = createRaftNode({ id, clusterConfig: { voters: [id, ...absentNodes(maxConfigMembers)] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    await expect(attempt).rejects.toThrow(/ClusterConfig\.voters lists 1001 node ids/);
  });
});
