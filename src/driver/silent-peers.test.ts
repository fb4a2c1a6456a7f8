// silentPeers(): the leader's peers that have not answered it within the last election timeout,
// or never since it took office or since they joined. A room's policy gives the learner slot of such a peer to a waiting newcomer, so a
// peer that answers (even a learner still installing a snapshot) must never be in it.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';

describe('RaftNode.silentPeers', () => {
  it('names a learner that never answered the leader, and drops it once it does; empty elsewhere and after close', async () => {
    const cluster = createSimulatedCluster({ seed: 612, ids: ['a', 'b', 'c'], voters: ['a', 'b'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    // b answers the new leader's first heartbeat.
    expect(await cluster.runUntil(() => leader.node!.silentPeers!().size === 0, 500)).toBe(true);
    cluster.crash(nodeId('c'));
    await cluster.settle(leader.node!.changeMembership({ voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] }));
    await cluster.runFor(500);
    expect([...leader.node!.silentPeers!()]).toEqual(['c']);
    for (const simulated of cluster.nodes.values()) {
      if (simulated !== leader && simulated.node !== null) expect(simulated.node.silentPeers!().size).toBe(0);
    }
    await cluster.restart(nodeId('c'));
    expect(await cluster.runUntil(() => leader.node!.silentPeers!().size === 0, 2_000)).toBe(true);
    // One answer does not keep it off for good: stopped again, it is named once it has not
    // answered for an election timeout (300 ms at most here), and not before.
    cluster.crash(nodeId('c'));
    await cluster.runFor(200);
    expect(leader.node!.silentPeers!().size).toBe(0);
    expect(await cluster.runUntil(() => leader.node!.silentPeers!().has(nodeId('c')), 400)).toBe(true);
    const node = leader.node!;
    await cluster.close();
    expect(node.silentPeers!().size).toBe(0);
  });

  it('does not name a learner that answers the chunks of a snapshot it is still installing', async () => {
    // 64 KiB at 8 KiB/s in 1 KiB chunks: about eight seconds of install, a chunk answered every
    // eighth of a second.
    const cluster = createSimulatedCluster({ seed: 613, ids: ['a', 'b', 'c'], voters: ['a', 'b'], raftConfig: { snapshotChunkCeiling: 1024, snapshotBytesPerSecond: 8 * 1024 } });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    cluster.crash(nodeId('c'));
    await cluster.settle(leader.node!.changeMembership({ voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] }));
    const entry = (await cluster.settle(cluster.propose(leader.id, new TextEncoder().encode('x'))))!;
    leader.node!.publishSnapshot({ throughIndex: entry.index, state: new Uint8Array(64 * 1024).fill(7) });
    await cluster.runFor(200);
    expect([...leader.node!.silentPeers!()]).toEqual(['c']);
    await cluster.restart(nodeId('c'));
    await cluster.runFor(2_000);
    expect(leader.node!.replicationProgress!().get(nodeId('c'))).toBe(0); // still installing
    expect(leader.node!.silentPeers!().size).toBe(0);
    await cluster.close();
  });
});
