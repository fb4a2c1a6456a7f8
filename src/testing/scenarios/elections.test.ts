// Leader election scenarios named after the Raft paper's claims and MIT 6.5840's lab 3A tests.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../core/types.ts';
import { checkOneLeader, connect, disconnect, startCluster, termOf } from './scenario-helpers.ts';

describe('elections (6.5840 3A)', () => {
  it('initial election: one leader, and the term does not change without failures', async () => {
    const cluster = await startCluster({ seed: 101, size: 3 });
    const leader = await checkOneLeader(cluster);
    const term = termOf(cluster, leader);
    expect(term).toBeGreaterThanOrEqual(1);
    await cluster.runFor(2_000);
    expect(termOf(cluster, leader)).toBe(term);
    expect(await checkOneLeader(cluster)).toBe(leader);
    await cluster.close();
  });

  it('re-election: a leader that leaves is replaced; its return does not disturb the new leader; no quorum, no leader', async () => {
    const cluster = await startCluster({ seed: 102, size: 3 });
    const disconnected = new Set<NodeId>();
    const first = await checkOneLeader(cluster);
    disconnect(cluster, disconnected, first);
    const second = await checkOneLeader(cluster, cluster.ids.filter((id) => id !== first));
    expect(second).not.toBe(first);
    connect(cluster, disconnected, first);
    expect(await checkOneLeader(cluster)).toBe(second); // PreVote + CheckQuorum: the old leader steps down quietly
    const other = cluster.ids.find((id) => id !== second)!;
    disconnect(cluster, disconnected, second);
    disconnect(cluster, disconnected, other);
    await cluster.runFor(2_000);
    const remaining = cluster.ids.find((id) => !disconnected.has(id))!;
    expect(cluster.nodes.get(remaining)?.node?.role.value).not.toBe('leader');
    connect(cluster, disconnected, other);
    await checkOneLeader(cluster, cluster.ids.filter((id) => !disconnected.has(id)));
    connect(cluster, disconnected, second);
    await checkOneLeader(cluster);
    await cluster.close();
  });

  it('many elections: 7 nodes, three disconnected at random over and over, always at most one leader per term', async () => {
    const cluster = await startCluster({ seed: 103, size: 7 });
    await checkOneLeader(cluster);
    let state = 7;
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    for (let round = 0; round < 10; round += 1) {
      const disconnected = new Set<NodeId>();
      while (disconnected.size < 3) disconnected.add(cluster.ids[Math.floor(random() * 7)] as NodeId);
      cluster.network.partition([cluster.ids.filter((id) => !disconnected.has(id)), ...[...disconnected].map((id) => [id])]);
      await checkOneLeader(cluster, cluster.ids.filter((id) => !disconnected.has(id)));
      cluster.network.heal();
    }
    await checkOneLeader(cluster);
    await cluster.close();
  });

  it('a partitioned follower returns without inflating terms or deposing the leader (PreVote, §9.6)', async () => {
    const cluster = await startCluster({ seed: 104, size: 5 });
    const disconnected = new Set<NodeId>();
    const leader = await checkOneLeader(cluster);
    const term = termOf(cluster, leader);
    const follower = cluster.ids.find((id) => id !== leader)!;
    disconnect(cluster, disconnected, follower);
    await cluster.runFor(3_000);
    expect(termOf(cluster, follower)).toBe(term);
    connect(cluster, disconnected, follower);
    await cluster.runFor(1_000);
    expect(cluster.leader()?.id).toBe(leader);
    expect(termOf(cluster, leader)).toBe(term);
    await cluster.close();
  });
});
