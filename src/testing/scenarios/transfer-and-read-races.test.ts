// Leadership transfer and read index against the faults the random schedule rarely lines up: a
// transfer to a follower still installing a snapshot, a transfer whose leader loses its quorum
// (CheckQuorum) while TimeoutNow is out, and a follower's read held by a leader about to be deposed.
import { describe, expect, it } from 'vitest';
import { LeadershipTransferError } from '../../core/errors.ts';
import type { NodeId } from '../../core/types.ts';
import { bytes, checkOneLeader, one, startCluster } from './scenario-helpers.ts';

/** The outcome of a call, without running the clock: 'pending', 'resolved' or the error. */
function track(promise: Promise<unknown>): { outcome: 'pending' | 'resolved' | unknown } {
  const state: { outcome: 'pending' | 'resolved' | unknown } = { outcome: 'pending' };
  promise.then(
    () => (state.outcome = 'resolved'),
    (error: unknown) => (state.outcome = error),
  );
  return state;
}

describe('leadership transfer races', () => {
  it('to a follower in the middle of a snapshot install: the call settles, and the cluster commits with all three after', async () => {
    const cluster = await startCluster({ seed: 1811, size: 3, raftConfig: { snapshotTrailingEntries: 0, snapshotChunkCeiling: 1_024, snapshotBytesPerSecond: 64 * 1_024 }, network: { minDelayMs: 2, maxDelayMs: 4, dropProbability: 0, duplicateProbability: 0 } });
    const leaderId = await checkOneLeader(cluster);
    const target = cluster.ids.find((id) => id !== leaderId)!;
    cluster.crash(target);
    for (let count = 0; count < 10; count += 1) await one(cluster, `while-away-${count}`, 2);
    const leader = cluster.nodes.get(leaderId)!;
    leader.node!.publishSnapshot({ throughIndex: leader.appliedIndex, state: new Uint8Array(100_000).fill(3) });
    await cluster.restart(target);
    await cluster.runFor(200); // about a fifth of the stream has arrived
    expect(cluster.nodes.get(target)!.node!.compactionFloor.value).toBe(0);
    const transfer = track(leader.node!.transferLeadership(target));
    await cluster.runUntil(() => transfer.outcome !== 'pending', 2_000);
    if (transfer.outcome !== 'resolved') expect(transfer.outcome).toMatchObject({ name: 'LeadershipTransferError', reason: 'timeout' });
    else expect(cluster.leader()!.id).toBe(target);
    const index = await one(cluster, 'after-transfer', 3);
    expect(cluster.nodes.get(target)!.appliedIndex).toBeGreaterThanOrEqual(index);
    await cluster.close();
  });

  it('whose leader hears no one while TimeoutNow is out: the target leads, the call settles, and the old leader follows after the heal', async () => {
    const cluster = await startCluster({ seed: 1812, size: 3 });
    const leaderId = await checkOneLeader(cluster);
    await one(cluster, 'before', 3);
    const [target, other] = cluster.ids.filter((id) => id !== leaderId) as [NodeId, NodeId];
    cluster.network.blockOneWay(target, leaderId);
    cluster.network.blockOneWay(other, leaderId);
    const oldLeader = cluster.nodes.get(leaderId)!.node!;
    const transfer = track(oldLeader.transferLeadership(target));
    await cluster.runUntil(() => cluster.nodes.get(target)!.node!.role.value === 'leader', 1_000);
    expect(cluster.nodes.get(target)!.node!.role.value).toBe('leader');
    // The old leader hears nothing: it steps down by CheckQuorum, and its transfer ends at its deadline.
    await cluster.runUntil(() => transfer.outcome !== 'pending', 1_000);
    expect(oldLeader.role.value).not.toBe('leader');
    if (transfer.outcome !== 'resolved') expect(transfer.outcome).toBeInstanceOf(LeadershipTransferError);
    cluster.heal();
    const index = await one(cluster, 'after-heal', 3);
    expect(cluster.nodes.get(leaderId)!.appliedIndex).toBeGreaterThanOrEqual(index);
    expect(oldLeader.leader.value).toBe(cluster.leader()!.id);
    await cluster.close();
  });
});

describe('read index across a deposition', () => {
  it('a follower read held by a leader cut from the majority returns an index at least the write the new leader acknowledged', async () => {
    const cluster = await startCluster({ seed: 1813, size: 5 });
    const oldLeader = await checkOneLeader(cluster);
    await one(cluster, 'before', 5);
    const follower = cluster.ids.find((id) => id !== oldLeader)!;
    const majority = cluster.ids.filter((id) => id !== oldLeader && id !== follower);
    cluster.partition([[oldLeader, follower], majority]);
    // Asked through the old leader, which cannot confirm it: it waits, then is retried elsewhere.
    let readIndex: number | null = null;
    void cluster.nodes.get(follower)!.node!.readIndex().then((index) => (readIndex = index), () => undefined);
    await cluster.runFor(20);
    expect(readIndex).toBeNull();
    const written = await one(cluster, 'by-the-majority', 3);
    expect(readIndex).toBeNull();
    await cluster.runFor(1_000); // CheckQuorum deposed the old leader long ago
    expect(cluster.nodes.get(oldLeader)!.node!.role.value).not.toBe('leader');
    expect(readIndex).toBeNull();
    cluster.heal();
    await cluster.runUntil(() => readIndex !== null, 3_000);
    expect(readIndex).not.toBeNull();
    expect(readIndex!).toBeGreaterThanOrEqual(written);
    await cluster.settle(cluster.propose(cluster.leader()!.id, bytes('after')));
    await cluster.close();
  });
});
