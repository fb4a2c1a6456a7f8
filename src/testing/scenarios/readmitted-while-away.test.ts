// A node removed from the cluster (it received its removal, so its configuration leaves it out)
// and taken back while it was away, a leader its configuration does not list as a voter leading
// meanwhile: that leader replicates to it, and it refuses every frame (senderNotVoter). Outside
// its own configuration it never asked anyone who leads, and nobody asks a learner for a vote,
// so it stayed behind for good (5-node simulation seed 247 with --removals --witnesses 2
// --duration 20000: a witness 1,200 entries behind). Now a node outside its own configuration
// that refuses a leader's frames asks its configuration's voters who leads (leader-question.ts).
import { describe, expect, it } from 'vitest';
import type { RaftTraceEvent } from '../../core/events.ts';
import { nodeId, type NodeId } from '../../core/types.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { changeMembershipWithRetries, checkOneLeader, ids, one, startCluster } from './scenario-helpers.ts';

/** Counts the frames `node` refuses for senderNotVoter, from now on. */
function countRefusals(cluster: SimulatedCluster, node: NodeId): { count: number } {
  const tally = { count: 0 };
  cluster.nodes.get(node)!.node!.trace.subscribe((event: RaftTraceEvent) => {
    if (event.type === 'frameRefused' && event.reason === 'senderNotVoter') tally.count += 1;
  });
  return tally;
}

describe('a witness removed, then taken back while it was away under a leader its configuration does not list', () => {
  it('asks the voters it knows who leads when it refuses that leader, and catches up', async () => {
    // A witness: it never campaigns, even while it could as an outgoing voter, so it is never
    // told who leads in answer to a campaign.
    const away = nodeId('n3');
    const cluster = await startCluster({ seed: 247, size: 5, voters: ['n1', 'n2', 'n3'], witnesses: [away] });
    await checkOneLeader(cluster, ids('n1', 'n2'));
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3'), learners: ids('n4', 'n5') });
    await one(cluster, 'learners-caught-up', 5);
    // Removed entirely; it receives its removal (its configuration leaves it out).
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n4'), learners: [nodeId('n5')] });
    await one(cluster, 'removed', 4);
    await cluster.runUntil(() => !cluster.nodes.get(away)!.node!.membership.value.voters.includes(away), 2_000);
    expect(cluster.nodes.get(away)!.node!.membership.value.voters).not.toContain(away);
    cluster.partition([[away], cluster.ids.filter((id) => id !== away)]);
    // Taken back as a learner while away, n5 promoted and leading.
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n4', 'n5'), learners: [away] });
    await cluster.settle(cluster.leader()!.node!.transferLeadership(nodeId('n5')), 5_000);
    expect(cluster.leader()!.id).toBe(nodeId('n5'));
    const index = await one(cluster, 'under-n5', 4);
    const refusals = countRefusals(cluster, away);
    cluster.heal();
    const caughtUp = await cluster.runUntil(() => cluster.nodes.get(away)!.appliedIndex >= index, 3_000);
    expect(caughtUp, `refusals of n5 since the heal: ${refusals.count}`).toBe(true);
    expect(cluster.nodes.get(away)!.node!.leader.value).toBe(nodeId('n5'));
    expect(cluster.nodes.get(away)!.node!.role.value).toBe('learner');
    expect(cluster.nodes.get(away)!.node!.membership.value.learners).toContain(away);
    await cluster.close();
  });
});
