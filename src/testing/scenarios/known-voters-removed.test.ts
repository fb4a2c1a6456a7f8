// A node away while every voter it knows was removed from the cluster: its configuration lists
// only nodes that are gone from the cluster (though still running), so it refuses the frames of
// the leader its configuration does not list as a voter (senderNotVoter), and the voters it asks
// hear no leader either, being outside. They now ask their own configuration's voters who leads
// on its behalf (elections.ts, relayLeaderQuestion) and pass the name on. Before, it refused the
// leader for good: the 5-node simulation seeds 89 and 2172 with --removals, a voter of the
// leader's configuration that never caught up.
import { describe, expect, it } from 'vitest';
import type { RaftTraceEvent } from '../../core/events.ts';
import { nodeId, type NodeId } from '../../core/types.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { changeMembershipWithRetries, checkOneLeader, ids, one, startCluster } from './scenario-helpers.ts';

/** Counts the frames `away` refuses for senderNotVoter, from now on. */
function countRefusals(cluster: SimulatedCluster, away: NodeId): { count: number } {
  const tally = { count: 0 };
  cluster.nodes.get(away)!.node!.trace.subscribe((event: RaftTraceEvent) => {
    if (event.type === 'frameRefused' && event.reason === 'senderNotVoter') tally.count += 1;
  });
  return tally;
}

/**
 * {n1, n2, n3} with learners {n4, n5}; a follower among n1..n3 (`away`) is cut off while the
 * cluster moves to voters {away, n4, n5} with the other two removed entirely (they keep running,
 * outside), and n4 or n5 leads. Then the network heals. Returns `away`, the removed two, the
 * index of an entry committed after the heal and `away`'s refusals since.
 */
async function votersRemovedWhileAway(cluster: SimulatedCluster): Promise<{ away: NodeId; removed: NodeId[]; index: number; refusals: { count: number } }> {
  const firstLeader = await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
  await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3'), learners: ids('n4', 'n5') });
  await one(cluster, 'learners-caught-up', 5);
  // Not the leader: a leader cut off could append the change itself, uncommitted, and so know
  // the new voters.
  const away = ids('n1', 'n2', 'n3').find((id) => id !== firstLeader)!;
  const removed = ids('n1', 'n2', 'n3').filter((id) => id !== away);
  cluster.partition([[away], cluster.ids.filter((id) => id !== away)]);
  await changeMembershipWithRetries(cluster, { voters: [away, ...ids('n4', 'n5')] });
  const leader = await cluster.waitForLeader(5_000);
  expect([nodeId('n4'), nodeId('n5')]).toContain(leader?.id);
  await one(cluster, 'under-the-new-voters', 2);
  // Every voter `away` knows is outside now, and hears no leader: none replicates to them.
  expect([...cluster.nodes.get(away)!.node!.membership.value.voters].sort()).toEqual(ids('n1', 'n2', 'n3'));
  for (const id of removed) expect([...cluster.nodes.get(id)!.node!.membership.value.voters].sort()).toEqual([away, ...ids('n4', 'n5')].sort());
  const refusals = countRefusals(cluster, away);
  cluster.heal();
  const index = await one(cluster, 'after-heal', 2);
  return { away, removed, index, refusals };
}

describe('a voter away while every voter it knew was removed from the cluster', () => {
  it('is told who leads through the removed voters it asks, catches up, and its vote counts again', async () => {
    const cluster = await startCluster({ seed: 2172, size: 5, voters: ['n1', 'n2', 'n3'] });
    const { away, removed, index, refusals } = await votersRemovedWhileAway(cluster);
    // Two election timeouts or so (it asks a removed voter, which asks the cluster, and answers
    // the next question); before, it refused the leader for as long as that one led.
    const caughtUp = await cluster.runUntil(() => cluster.nodes.get(away)!.appliedIndex >= index, 3_000);
    expect(caughtUp, `refusals since the heal: ${refusals.count}`).toBe(true);
    const leader = cluster.leader()!.id;
    expect(cluster.nodes.get(away)!.node!.leader.value).toBe(leader);
    expect(cluster.nodes.get(away)!.node!.role.value).toBe('follower');
    expect([...cluster.nodes.get(away)!.node!.membership.value.voters].sort()).toEqual([away, ...ids('n4', 'n5')].sort());
    // Its acknowledgement counts: with the other follower down, a majority of {away, n4, n5} needs it.
    const other = ids('n4', 'n5').find((id) => id !== leader)!;
    cluster.crash(other);
    await one(cluster, 'with-the-returned-voter', 2, { timeoutMs: 5_000 });
    expect(cluster.nodes.get(away)!.appliedIndex).toBeGreaterThan(index);
    // The removed nodes stay outside: they never lead, and nobody takes them back.
    for (const id of removed) expect(cluster.nodes.get(id)!.node!.role.value).toBe('learner');
    await cluster.close();
  });
});
