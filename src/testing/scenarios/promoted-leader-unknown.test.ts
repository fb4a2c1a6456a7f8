// A voter that was away while a learner was promoted, and that promoted learner then leads: the
// voter's configuration does not list its leader. It catches up once the network heals (a voter
// it knows names the leader when denying it a vote), and its vote counts when the cluster needs it.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../../core/types.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { changeMembershipWithRetries, checkOneLeader, ids, one, startCluster } from './scenario-helpers.ts';

/**
 * Voters n1..n3 and a caught-up learner n4. One voter (not the leader) is cut off while n4 is
 * promoted, then leadership moves to n4, then the network heals.
 */
async function promotedLearnerLeadsWhileAVoterWasAway(seed: number): Promise<{ cluster: SimulatedCluster; away: NodeId; oldLeader: NodeId }> {
  const cluster = await startCluster({ seed, size: 4, voters: ['n1', 'n2', 'n3'] });
  const oldLeader = await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
  await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3'), learners: ids('n4') });
  await one(cluster, 'learner-caught-up', 4);
  const away = ids('n1', 'n2', 'n3').find((id) => id !== oldLeader)!;
  cluster.partition([[away], cluster.ids.filter((id) => id !== away)]);
  await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3', 'n4') });
  const leader = cluster.leader()!;
  expect(leader.id).toBe(oldLeader);
  await cluster.settle(leader.node!.transferLeadership(nodeId('n4')), 5_000);
  expect(cluster.leader()!.id).toBe(nodeId('n4'));
  await one(cluster, 'under-n4', 3);
  cluster.heal();
  return { cluster, away, oldLeader };
}

describe('a voter that missed the promotion of the learner that now leads', () => {
  it('catches up from that leader once the network heals', async () => {
    const { cluster, away } = await promotedLearnerLeadsWhileAVoterWasAway(1801);
    const index = await one(cluster, 'after-heal', 3);
    const caughtUp = await cluster.runUntil(() => cluster.nodes.get(away)!.appliedIndex >= index, 3_000);
    expect(caughtUp).toBe(true);
    expect([...cluster.nodes.get(away)!.node!.membership.value.voters].sort()).toEqual(ids('n1', 'n2', 'n3', 'n4'));
    await cluster.close();
  });

  it('is the vote the cluster needs after the old leader leaves and another voter dies: the two left still commit', async () => {
    const { cluster, away, oldLeader } = await promotedLearnerLeadsWhileAVoterWasAway(1802);
    const third = ids('n1', 'n2', 'n3').find((id) => id !== away && id !== oldLeader)!;
    // {third, away, n4}: a majority is two of them, and away is one of the two left below.
    await changeMembershipWithRetries(cluster, { voters: [third, away, nodeId('n4')] });
    await cluster.runFor(1_000);
    cluster.crash(third);
    await one(cluster, 'two-of-three', 2, { timeoutMs: 5_000 });
    expect(cluster.leader()!.id).toBe(nodeId('n4'));
    await cluster.close();
  });
});
