// Membership changes (§6), learners, leadership transfer (§3.10) and linearizable reads (§6.4)
// on the deterministic simulator.
import { describe, expect, it } from 'vitest';
import { LeadershipTransferError, NotMemberError } from '../../core/errors.ts';
import { nodeId, type NodeId } from '../../core/types.ts';
import { awaitRead } from '../../driver/await-read.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { createWatchable } from '../../core/observable.ts';
import { bytes, changeMembershipWithRetries, checkOneLeader, ids, one, startCluster } from './scenario-helpers.ts';

/** Clients keep proposing while a scenario runs; returns a stop function and the success count. */
function backgroundLoad(cluster: SimulatedCluster): { stop(): void; readonly acknowledged: number } {
  let running = true;
  let acknowledged = 0;
  void (async () => {
    for (let count = 0; running; count += 1) {
      const leader = cluster.leader();
      if (leader !== null) void cluster.propose(leader.id, bytes(`load-${count}`), { timeoutMs: 500 }).then((entry) => (acknowledged += entry === null ? 0 : 1));
      await new Promise<void>((resolve) => cluster.clock.setTimeout(resolve, 5));
    }
  })();
  return {
    stop: () => {
      running = false;
    },
    get acknowledged() {
      return acknowledged;
    },
  };
}

describe('membership changes (§6)', () => {
  it('grows 3 -> 5 -> 3 under load, every node ending on the final configuration', async () => {
    const cluster = await startCluster({ seed: 701, size: 5, voters: ['n1', 'n2', 'n3'] });
    await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
    expect(cluster.nodes.get(nodeId('n4'))!.node!.role.value).toBe('learner');
    const load = backgroundLoad(cluster);
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3', 'n4', 'n5') });
    await cluster.runFor(200);
    await changeMembershipWithRetries(cluster, { voters: ids('n3', 'n4', 'n5') });
    await cluster.runFor(300);
    load.stop();
    expect(load.acknowledged).toBeGreaterThan(20);
    await one(cluster, 'final', 3);
    for (const id of ids('n3', 'n4', 'n5')) expect([...cluster.nodes.get(id)!.node!.membership.value.voters].sort()).toEqual(ids('n3', 'n4', 'n5'));
    for (const id of ids('n1', 'n2')) expect(cluster.nodes.get(id)!.node!.role.value).toBe('learner');
    await cluster.close();
  });

  it('replaces every member one by one', async () => {
    const cluster = await startCluster({ seed: 702, size: 6, voters: ['n1', 'n2', 'n3'] });
    await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
    const load = backgroundLoad(cluster);
    // New members join as learners first, so they learn the configuration (and with it who may
    // lead) from the current leader before anyone depends on them.
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3'), learners: ids('n4', 'n5', 'n6') });
    await cluster.runFor(300);
    await changeMembershipWithRetries(cluster, { voters: ids('n4', 'n2', 'n3'), learners: ids('n5', 'n6') });
    await changeMembershipWithRetries(cluster, { voters: ids('n4', 'n5', 'n3'), learners: ids('n6') });
    await changeMembershipWithRetries(cluster, { voters: ids('n4', 'n5', 'n6') });
    load.stop();
    await one(cluster, 'replaced', 3);
    expect(cluster.leader()!.id).toMatch(/n[456]/);
    await cluster.close();
  });

  it('removing the leader: it commits C_new, steps down, and the rest elect a new leader', async () => {
    const cluster = await startCluster({ seed: 703, size: 3 });
    const leader = await checkOneLeader(cluster);
    const rest = cluster.ids.filter((id) => id !== leader);
    await cluster.settle(cluster.nodes.get(leader)!.node!.changeMembership({ voters: rest }));
    const next = await checkOneLeader(cluster, rest);
    expect(next).not.toBe(leader);
    expect(cluster.nodes.get(leader)!.node!.role.value).toBe('learner');
    await one(cluster, 'without-old-leader', 2);
    await cluster.close();
  });

  it('a change interrupted by a leader crash never leaves the cluster stuck in a joint config', async () => {
    const cluster = await startCluster({ seed: 704, size: 5, voters: ['n1', 'n2', 'n3'] });
    const leader = await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
    void cluster.nodes.get(leader)!.node!.changeMembership({ voters: ids('n1', 'n2', 'n3', 'n4', 'n5') }).catch(() => undefined);
    await cluster.runFor(3);
    cluster.crash(leader);
    await cluster.runFor(1_000);
    await cluster.restart(leader);
    await one(cluster, 'after', 3, { timeoutMs: 20_000 });
    await cluster.runFor(500);
    const membership = cluster.leader()!.node!.membership.value;
    const voters = [...membership.voters].sort();
    expect([ids('n1', 'n2', 'n3'), ids('n1', 'n2', 'n3', 'n4', 'n5')]).toContainEqual(voters);
    // A second change is accepted: nothing is left uncommitted or joint.
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3', 'n4') });
    await cluster.close();
  });

  it('rejects a second change while the first is uncommitted', async () => {
    const cluster = await startCluster({ seed: 705, size: 4, voters: ['n1', 'n2', 'n3'] });
    const leader = cluster.nodes.get(await checkOneLeader(cluster, ids('n1', 'n2', 'n3')))!.node!;
    const first = leader.changeMembership({ voters: ids('n1', 'n2', 'n3', 'n4') });
    await expect(leader.changeMembership({ voters: ids('n1', 'n2') })).rejects.toMatchObject({ name: 'MembershipChangeInProgressError' });
    await cluster.settle(first);
    await cluster.close();
  });
});

describe('learners', () => {
  it('a learner replicates, never votes or leads, proposes through the leader, and can be promoted', async () => {
    const cluster = await startCluster({ seed: 706, size: 4, voters: ['n1', 'n2', 'n3'] });
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3'), learners: ids('n4') });
    const learner = cluster.nodes.get(nodeId('n4'))!;
    const entry = await cluster.settle(learner.node!.propose(bytes('from-learner')));
    expect(entry?.command).toEqual(bytes('from-learner'));
    const leader = await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
    cluster.crash(leader);
    await cluster.runFor(2_000);
    expect(learner.node!.role.value).toBe('learner');
    await cluster.restart(leader);
    await changeMembershipWithRetries(cluster, { voters: ids('n1', 'n2', 'n3', 'n4') });
    await cluster.runFor(100);
    expect(learner.node!.role.value).not.toBe('learner');
    await cluster.close();
  });
});

describe('leadership transfer (§3.10)', () => {
  it('transfers to a lagging follower: brings it up to date first, then it leads', async () => {
    const cluster = await startCluster({ seed: 707, size: 3 });
    const leader = await checkOneLeader(cluster);
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.network.isolate(target);
    for (let count = 0; count < 20; count += 1) await one(cluster, `while-lagging-${count}`, 2);
    cluster.network.heal();
    await cluster.settle(cluster.nodes.get(leader)!.node!.transferLeadership(target));
    expect(cluster.leader()!.id).toBe(target);
    await one(cluster, 'under-new-leader', 3);
    await cluster.close();
  });

  it('transfers to a follower whose entries were lost on the way, asked the moment it is reachable again', async () => {
    const cluster = await startCluster({ seed: 709, size: 3 });
    const leaderId = await checkOneLeader(cluster);
    const leader = cluster.nodes.get(leaderId)!.node!;
    const target = cluster.ids.find((id) => id !== leaderId)!;
    cluster.network.isolate(target);
    // Committed by the other two within a few ms: the leader still counts the target's copies
    // as in flight when the link comes back, though the network dropped every one of them.
    await cluster.settle(Promise.all(Array.from({ length: 20 }, (_, count) => leader.propose(bytes(`lost-on-the-way-${count}`)))));
    cluster.network.heal();
    await cluster.settle(leader.transferLeadership(target));
    expect(cluster.leader()!.id).toBe(target);
    await one(cluster, 'under-new-leader', 3);
    await cluster.close();
  });

  it('is abandoned with a reason: timeout, cancelled, notVoter', async () => {
    const cluster = await startCluster({ seed: 708, size: 4, voters: ['n1', 'n2', 'n3'] });
    const leaderId = await checkOneLeader(cluster, ids('n1', 'n2', 'n3'));
    const leader = cluster.nodes.get(leaderId)!.node!;
    const target = ids('n1', 'n2', 'n3').find((id) => id !== leaderId)!;
    await expect(cluster.settle(leader.transferLeadership(nodeId('n4')))).rejects.toMatchObject({ reason: 'notVoter' });
    cluster.network.isolate(target);
    await expect(cluster.settle(leader.transferLeadership(target))).rejects.toMatchObject({ reason: 'timeout' });
    const cancelled = leader.transferLeadership(target);
    leader.cancelTransfer();
    await expect(cluster.settle(cancelled)).rejects.toBeInstanceOf(LeadershipTransferError);
    cluster.network.heal();
    // Proposals resume once the transfer is abandoned.
    expect((await cluster.settle(leader.propose(bytes('resumed'))))?.command).toEqual(bytes('resumed'));
    await cluster.close();
  });
});

describe('linearizable reads (§6.4)', () => {
  it('a partitioned old leader cannot serve a read; the new leader and its followers can', async () => {
    const cluster = await startCluster({ seed: 709, size: 5 });
    const oldLeader = await checkOneLeader(cluster);
    await one(cluster, 'before', 5);
    cluster.network.isolate(oldLeader);
    const stale = cluster.nodes.get(oldLeader)!.node!.readIndex();
    let staleSettled = false;
    stale.then(() => (staleSettled = true), () => (staleSettled = true));
    const written = await one(cluster, 'after-partition', 4);
    expect(staleSettled).toBe(false);
    const follower = cluster.ids.find((id) => id !== oldLeader && id !== cluster.leader()!.id)!;
    const readIndex = await cluster.settle(cluster.nodes.get(follower)!.node!.readIndex());
    expect(readIndex).toBeGreaterThanOrEqual(written);
    const applied = createWatchable(0);
    const simulated = cluster.nodes.get(follower)!;
    applied.set(simulated.appliedIndex);
    const read = awaitRead(simulated.node!, applied);
    await cluster.runFor(50);
    applied.set(simulated.appliedIndex);
    expect(await cluster.settle(read)).toBeGreaterThanOrEqual(written);
    cluster.network.heal();
    await cluster.runFor(500);
    expect(staleSettled).toBe(true); // retried through the new leader once it could reach it
    await cluster.close();
  });
});

describe('a removed node', () => {
  /** The error a call rejected with, running virtual time for at most `timeoutMs`. */
  async function rejectionOf(cluster: SimulatedCluster, call: Promise<unknown>, timeoutMs: number): Promise<unknown> {
    try {
      const value = await cluster.settle(call, timeoutMs);
      return value === undefined ? new Error(`still pending after ${timeoutMs} ms`) : new Error('resolved instead of rejecting');
    } catch (error: unknown) {
      return error;
    }
  }

  /** A 4-voter cluster that removes one follower, optionally cut off while it happens. */
  async function removeOneVoter(seed: number, partitioned: boolean): Promise<{ cluster: SimulatedCluster; victim: NodeId; rest: NodeId[] }> {
    const cluster = await startCluster({ seed, size: 4, voters: ['n1', 'n2', 'n3', 'n4'] });
    const leaderId = await checkOneLeader(cluster);
    const victim = cluster.ids.find((id) => id !== leaderId)!;
    const rest = cluster.ids.filter((id) => id !== victim);
    if (partitioned) cluster.partition([rest, [victim]]);
    await cluster.settle(cluster.nodes.get(leaderId)!.node!.changeMembership({ voters: rest }), 5_000);
    expect([...cluster.nodes.get(leaderId)!.node!.membership.value.voters].sort()).toEqual([...rest].sort());
    await cluster.runFor(1_000);
    cluster.heal();
    await cluster.runFor(1_000);
    return { cluster, victim, rest };
  }

  for (const partitioned of [false, true]) {
    it(`removed while ${partitioned ? 'partitioned' : 'connected'}: its proposals and reads reject with NotMemberError, and the rest keep committing`, async () => {
      const { cluster, victim } = await removeOneVoter(partitioned ? 712 : 711, partitioned);
      const node = cluster.nodes.get(victim)!.node!;
      const proposal = await rejectionOf(cluster, node.propose(bytes('from the removed node')), 3_000);
      expect(proposal).toBeInstanceOf(NotMemberError);
      expect((proposal as NotMemberError).outcomeUnknown).toBe(false);
      const read = await rejectionOf(cluster, node.readIndex(), 3_000);
      expect(read).toBeInstanceOf(NotMemberError);
      expect((read as NotMemberError).outcomeUnknown).toBe(false);
      await one(cluster, 'without-the-removed-node', 3);
      await cluster.close();
    });
  }
});
