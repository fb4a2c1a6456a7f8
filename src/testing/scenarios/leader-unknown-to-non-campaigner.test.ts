// A node that never campaigns (a learner of its configuration, or a witness) was away while a
// learner was promoted, and that promoted learner then leads: the node's configuration does not
// list its leader, so it refuses every frame of it (senderNotVoter). A voter in that place is
// told who leads when it campaigns (promoted-leader-unknown.test.ts); these nodes never campaign,
// so they ask the voters they know instead (raft-core.ts, probeForLeader) and catch up too.
import { describe, expect, it } from 'vitest';
import type { RaftTraceEvent } from '../../core/events.ts';
import { nodeId, type ClusterConfig, type NodeId } from '../../core/types.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { changeMembershipWithRetries, checkOneLeader, ids, one, startCluster } from './scenario-helpers.ts';

/** Counts the frames `away` refuses from `sender` for senderNotVoter, from now on. */
function countRefusals(cluster: SimulatedCluster, away: NodeId, sender: NodeId): { count: number } {
  const tally = { count: 0 };
  cluster.nodes.get(away)!.node!.trace.subscribe((event: RaftTraceEvent) => {
    if (event.type === 'frameRefused' && event.from === sender && event.reason === 'senderNotVoter') tally.count += 1;
  });
  return tally;
}

/**
 * `away` (a learner of {n1, n2, n3} + learners, or the witness among the voters) is cut off while
 * the learner n4 is promoted, then leadership moves to n4, then the network heals. Returns the
 * index of an entry committed after the heal and the refusals `away` made of n4 since the heal.
 */
async function promotedLearnerLeadsWhileAway(cluster: SimulatedCluster, voters: NodeId[], learners: NodeId[], away: NodeId, promotedTarget: ClusterConfig): Promise<{ index: number; refusals: { count: number } }> {
  await checkOneLeader(cluster, voters.filter((id) => id !== away));
  await changeMembershipWithRetries(cluster, { voters, learners });
  await one(cluster, 'learners-caught-up', cluster.ids.length);
  cluster.partition([[away], cluster.ids.filter((id) => id !== away)]);
  await changeMembershipWithRetries(cluster, promotedTarget);
  await cluster.settle(cluster.leader()!.node!.transferLeadership(nodeId('n4')), 5_000);
  expect(cluster.leader()!.id).toBe(nodeId('n4'));
  await one(cluster, 'under-n4', cluster.ids.length - 1);
  const refusals = countRefusals(cluster, away, nodeId('n4'));
  cluster.heal();
  const index = await one(cluster, 'after-heal', cluster.ids.length - 1);
  return { index, refusals };
}

describe('a node that never campaigns and missed the promotion of the learner that now leads', () => {
  it('a learner catches up from that leader once the network heals', async () => {
    const cluster = await startCluster({ seed: 1811, size: 5, voters: ['n1', 'n2', 'n3'] });
    const away = nodeId('n5');
    const { index, refusals } = await promotedLearnerLeadsWhileAway(cluster, ids('n1', 'n2', 'n3'), ids('n4', 'n5'), away, { voters: ids('n1', 'n2', 'n3', 'n4'), learners: [away] });
    // An election timeout or two (the learner asks the voters it knows who leads), well inside
    // the wedge window (10 election timeouts); before, it refused n4 for as long as n4 led.
    const caughtUp = await cluster.runUntil(() => cluster.nodes.get(away)!.appliedIndex >= index, 2_000);
    expect(caughtUp, `refusals of n4 since the heal: ${refusals.count}`).toBe(true);
    expect(cluster.nodes.get(away)!.node!.leader.value).toBe(nodeId('n4'));
    expect(cluster.nodes.get(away)!.node!.role.value).toBe('learner');
    expect([...cluster.nodes.get(away)!.node!.membership.value.voters].sort()).toEqual(ids('n1', 'n2', 'n3', 'n4'));
    await cluster.close();
  });

  it('a witness catches up from that leader once the network heals, and still never leads', async () => {
    const cluster = await startCluster({ seed: 1812, ids: ['n1', 'n2', 'w', 'n4'], voters: ['n1', 'n2', 'w'], witnesses: ['w'] });
    const away = nodeId('w');
    const { index, refusals } = await promotedLearnerLeadsWhileAway(cluster, ids('n1', 'n2', 'w'), ids('n4'), away, { voters: ids('n1', 'n2', 'w', 'n4') });
    const caughtUp = await cluster.runUntil(() => cluster.nodes.get(away)!.appliedIndex >= index, 2_000);
    expect(caughtUp, `refusals of n4 since the heal: ${refusals.count}`).toBe(true);
    expect(cluster.nodes.get(away)!.node!.leader.value).toBe(nodeId('n4'));
    // Its acknowledgement counts again: with n1 down, a majority of {n1, n2, w, n4} needs it.
    cluster.crash(nodeId('n1'));
    await one(cluster, 'with-the-witness', 3, { timeoutMs: 5_000 });
    expect(cluster.leader()!.id).toBe(nodeId('n4'));
    expect(cluster.nodes.get(away)!.node!.role.value).toBe('follower');
    await cluster.close();
  });
});
