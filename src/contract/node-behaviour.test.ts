// API.md "The node" and SPEC rules without a node-level test before, black-box: errors a caller
// sees on each role, where a learner starts, what committed() tails, and a cancelled transfer.
import { describe, expect, it } from 'vitest';
import { LeadershipLostError, LeadershipTransferError, nodeId, NotLeaderError, type Committed } from '../index.ts';
import { startContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);

describe('API.md The node: per-role behaviour', () => {
  it('a voter starts as follower and a learner as learner; a learner never campaigns', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'] });
    expect(['a', 'b', 'c', 'l'].map((name) => cluster.node(name).role.value)).toEqual(['follower', 'follower', 'follower', 'learner']);
    const leader = await cluster.waitForLeader();
    cluster.network.isolate(nodeId('l'));
    await cluster.clock.advance(3_000);
    expect(cluster.node('l').role.value).toBe('learner');
    expect(cluster.trace.filter((event) => event.node === 'l' && (event.type === 'timeout' || event.type === 'preVoteStarted' || event.type === 'requestVote'))).toEqual([]);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });

  it('changeMembership and transferLeadership on a follower reject with NotLeaderError naming the leader', async () => {
    const cluster = await startContractCluster({ seed: 2 });
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    for (const call of [(): Promise<unknown> => follower.changeMembership({ voters: [leader.id, follower.id] }), (): Promise<unknown> => follower.transferLeadership(follower.id)]) {
      const error = await cluster.settle(call()).then(
        () => null,
        (rejected: unknown) => rejected,
      );
      expect(error).toBeInstanceOf(NotLeaderError);
      expect((error as NotLeaderError).leader).toBe(leader.id);
    }
    await cluster.close();
  });

  it('a leader that loses leadership with a proposal uncommitted rejects it with LeadershipLostError', async () => {
    const cluster = await startContractCluster({ seed: 3 });
    const leader = await cluster.waitForLeader();
    cluster.network.isolate(leader.id);
    await expect(cluster.settle(leader.propose(bytes(1)))).rejects.toBeInstanceOf(LeadershipLostError);
    expect(leader.role.value).toBe('follower');
    await cluster.close();
  });

  it('a forward lost to a leader change is retried to the new leader with the same dedup key, and appended once', async () => {
    const cluster = await startContractCluster({ seed: 1 });
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    cluster.network.isolate(leader.id);
    const entry = await cluster.settle(follower.propose(bytes(7)));
    const next = cluster.leader()!;
    expect(next).not.toBe(leader);
    expect(entry.dedupKey?.clientId).toMatch(new RegExp(`^${follower.id}-`));
    const copies = (await cluster.storage(next.id).entries()).filter((logged) => logged.command.length === 1 && logged.command[0] === 7);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.dedupKey).toEqual(entry.dedupKey);
    await cluster.close();
  });

  it('committed() tails from the moment of the call: nothing committed before it, everything after', async () => {
    const cluster = await startContractCluster({ seed: 4 });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    await cluster.clock.advance(100);
    const iterator = leader.committed()[Symbol.asyncIterator]();
    const later = await cluster.settle(leader.propose(bytes(2)));
    const first = (await cluster.settle(iterator.next())).value as Committed;
    expect(first).toEqual({ type: 'entry', entry: later });
    await cluster.close();
  });
});

describe('SPEC Leadership transfer: cancelTransfer', () => {
  it('cancelled in the same turn as it was asked for, the transfer rejects with cancelled and the leader keeps leading', async () => {
    const cluster = await startContractCluster({ seed: 9 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const target = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const transfer = leader.transferLeadership(target.id);
    leader.cancelTransfer();
    const error = await cluster.settle(transfer).then(
      () => null,
      (rejected: unknown) => rejected,
    );
    expect(error).toBeInstanceOf(LeadershipTransferError);
    expect((error as LeadershipTransferError).reason).toBe('cancelled');
    await cluster.clock.advance(1_000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    // Proposals resume on abandon.
    await expect(cluster.settle(leader.propose(bytes(1)))).resolves.toMatchObject({ term });
    await cluster.close();
  });
});
