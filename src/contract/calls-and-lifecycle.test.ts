// API.md "The node": every call's documented outcomes, black-box. Aborting any call's signal
// rejects it with the signal's reason and leaves the node healthy; close() rejects everything
// pending and later with RaftClosedError; changeMembership and transferLeadership resolve and
// reject as API.md's error table says. Only the public entries are used.
import { describe, expect, it } from 'vitest';
import {
  awaitRead,
  createRaftNode,
  createWatchable,
  InMemoryRaftStorage,
  LeadershipTransferError,
  MembershipChangeInProgressError,
  nodeId,
  RaftClosedError,
  VirtualClock,
  type RaftNode,
} from '../index.ts';
import { createPartitionableNetwork, startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);
const voters = (...names: string[]): { voters: ReturnType<typeof nodeId>[] } => ({ voters: names.map((name) => nodeId(name)) });

/** Settles on the cluster's clock; the rejection reason, or the string 'resolved'. */
async function rejectionOf(cluster: ContractCluster, call: Promise<unknown>): Promise<unknown> {
  return cluster.settle(call).then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

function calls(leader: RaftNode, follower: RaftNode, signal?: AbortSignal): Record<string, () => Promise<unknown>> {
  const options = signal === undefined ? {} : { signal };
  return {
    'propose (forwarded)': () => follower.propose(bytes(1), options),
    'readIndex (forwarded)': () => follower.readIndex(options),
    changeMembership: () => leader.changeMembership({ voters: [leader.id, follower.id] }, options),
    transferLeadership: () => leader.transferLeadership(follower.id, options),
    awaitLeadership: () => follower.awaitLeadership(options),
    awaitRead: () => awaitRead(follower, createWatchable(0), options),
  };
}

describe('API.md The node: abort signals', () => {
  it('an already aborted signal rejects every call with its reason, and the node goes on as before', async () => {
    const cluster = await startContractCluster({ seed: 51 });
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const reason = new Error('the caller gave up');
    for (const [name, call] of Object.entries(calls(leader, follower, AbortSignal.abort(reason)))) expect(await rejectionOf(cluster, call()), name).toBe(reason);
    await cluster.clock.advance(1_000);
    expect(leader.role.value).toBe('leader');
    expect(leader.membership.value).toEqual(voters('a', 'b', 'c'));
    const entry = await cluster.settle(follower.propose(bytes(2)));
    expect(await cluster.settle(follower.readIndex())).toBeGreaterThanOrEqual(entry.index);
    await cluster.close();
  });

  it('a signal aborted while the call waits rejects it with the reason; the node stays healthy', async () => {
    const cluster = await startContractCluster({ seed: 52 });
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const third = [...cluster.nodes.values()].find((node) => node !== leader && node !== follower)!;
    // Nothing can finish: the follower hears no one, and the leader cannot reach it.
    cluster.network.isolate(follower.id);
    const controller = new AbortController();
    const pending = Object.entries(calls(leader, follower, controller.signal)).map(([name, call]) => [name, call().then(() => 'resolved', (error: unknown) => error)] as const);
    await cluster.clock.advance(100);
    const reason = new Error('timed out by the caller');
    controller.abort(reason);
    for (const [name, settled] of pending) expect(await cluster.settle(settled), name).toBe(reason);
    cluster.network.heal();
    const current = await cluster.waitForLeader();
    await expect(cluster.settle(third.propose(bytes(3)))).resolves.toMatchObject({ command: bytes(3) });
    await expect(cluster.settle(current.changeMembership(voters('a', 'b', 'c')))).resolves.toEqual(voters('a', 'b', 'c'));
    await cluster.close();
  });

  it('createRaftNode with an already aborted signal rejects with its reason', async () => {
    const id = nodeId('a');
    const reason = new Error('closed before it started');
    await expect(createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createPartitionableNetwork().transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock() }, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});

describe('API.md The node: close()', () => {
  it('rejects every pending call with RaftClosedError, ends the committed streams, is idempotent, and every later call rejects too', async () => {
    const cluster = await startContractCluster({ seed: 53 });
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    cluster.network.isolate(follower.id);
    const pending = Object.entries(calls(follower, follower)).filter(([name]) => name !== 'changeMembership' && name !== 'transferLeadership');
    const waiting = pending.map(([name, call]) => [name, call().then(() => 'resolved', (error: unknown) => error)] as const);
    const tail = follower.committed()[Symbol.asyncIterator]().next();
    const replay = follower.committedFrom(follower.commitIndex.value + 1)[Symbol.asyncIterator]().next();
    await cluster.clock.advance(50);
    await Promise.all([follower.close(), follower.close()]);
    for (const [name, settled] of waiting) expect(await settled, name).toBeInstanceOf(RaftClosedError);
    expect(await tail).toEqual({ done: true, value: undefined });
    expect(await replay).toEqual({ done: true, value: undefined });
    for (const [name, call] of Object.entries(calls(follower, follower))) await expect(call(), name).rejects.toBeInstanceOf(RaftClosedError);
    expect(() => follower.publishSnapshot({ throughIndex: 0, state: new Uint8Array() })).toThrow(RaftClosedError);
    await follower.close();
    await cluster.close();
  });
});

describe('API.md The node: changeMembership', () => {
  it('resolves with the target once C_new commits; a second change while the first is uncommitted rejects with MembershipChangeInProgressError; the same configuration resolves at once', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 54 });
    const leader = await cluster.waitForLeader();
    const target = voters('a', 'b', 'c', 'l');
    const first = leader.changeMembership(target);
    const second = leader.changeMembership(voters('a', 'b', 'c'));
    expect(await rejectionOf(cluster, second)).toBeInstanceOf(MembershipChangeInProgressError);
    await expect(cluster.settle(first)).resolves.toEqual(target);
    expect(leader.membership.value).toEqual(target);
    expect(cluster.node('l').role.value).toBe('follower');
    const commitBefore = leader.commitIndex.value;
    await expect(cluster.settle(leader.changeMembership(target))).resolves.toEqual(target);
    expect(leader.commitIndex.value).toBe(commitBefore);
    await cluster.close();
  });

  it('refuses an invalid target (no voter, a duplicate, an id both voter and learner) with a RangeError, changing nothing', async () => {
    const cluster = await startContractCluster({ seed: 55 });
    const leader = await cluster.waitForLeader();
    const [a, b] = [nodeId('a'), nodeId('b')];
    for (const target of [{ voters: [] }, { voters: [a, a] }, { voters: [a], learners: [b, b] }, { voters: [a, b], learners: [b] }]) {
      expect(await rejectionOf(cluster, leader.changeMembership(target)), JSON.stringify(target)).toBeInstanceOf(RangeError);
    }
    expect(leader.membership.value).toEqual(voters('a', 'b', 'c'));
    await cluster.close();
  });
});

describe('API.md The node: transferLeadership', () => {
  it('to itself resolves at once; to a learner or a node outside the configuration it is abandoned with notVoter', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 56 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    await expect(cluster.settle(leader.transferLeadership(leader.id))).resolves.toBeUndefined();
    for (const target of [nodeId('l'), nodeId('stranger')]) {
      const error = await rejectionOf(cluster, leader.transferLeadership(target));
      expect(error).toBeInstanceOf(LeadershipTransferError);
      expect((error as LeadershipTransferError).reason).toBe('notVoter');
    }
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    await cluster.close();
  });

  it('a proposal made on the leader during a transfer is held, then committed once under the new leader', async () => {
    const cluster = await startContractCluster({ seed: 57 });
    const leader = await cluster.waitForLeader();
    const target = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const transfer = leader.transferLeadership(target.id);
    const proposal = leader.propose(bytes(9));
    await cluster.settle(transfer);
    expect(target.role.value).toBe('leader');
    const entry = await cluster.settle(proposal);
    expect(entry.term).toBe(target.term.value);
    expect(entry.dedupKey?.clientId).toMatch(new RegExp(`^${leader.id}-`));
    const copies = (await cluster.storage(target.id).entries()).filter((logged) => logged.command.length === 1 && logged.command[0] === 9);
    expect(copies).toEqual([entry]);
    await cluster.close();
  });

  it('asked again for the target of the transfer in progress, it joins that transfer (as etcd ignores the repeat): the calls resolve when the target leads, and one caller aborting ends only its own call', async () => {
    const cluster = await startContractCluster({ seed: 59 });
    const leader = await cluster.waitForLeader();
    const target = [...cluster.nodes.values()].find((node) => node !== leader)!;
    cluster.network.block(leader.id, target.id);
    await cluster.settle(leader.propose(bytes(1))); // the target lags: the transfer is still catching it up
    const first = leader.transferLeadership(target.id);
    const second = leader.transferLeadership(target.id);
    // A third caller gives up: only its own call ends, the transfer goes on for the others.
    const controller = new AbortController();
    const third = leader.transferLeadership(target.id, { signal: controller.signal });
    const reason = new Error('not waiting any more');
    controller.abort(reason);
    await expect(third).rejects.toBe(reason);
    cluster.network.heal();
    await expect(cluster.settle(Promise.all([first, second]))).resolves.toEqual([undefined, undefined]);
    expect(target.role.value).toBe('leader');
    expect(cluster.trace.filter((event) => event.type === 'leadershipTransferStarted')).toHaveLength(1);
    expect(cluster.trace.filter((event) => event.type === 'leadershipTransferAbandoned')).toEqual([]);
    await cluster.close();
  });

  it('asked for another target while one is in progress, the first is abandoned with cancelled and the second goes ahead', async () => {
    const cluster = await startContractCluster({ seed: 60 });
    const leader = await cluster.waitForLeader();
    const [first, second] = [...cluster.nodes.values()].filter((node) => node !== leader) as [RaftNode, RaftNode];
    cluster.network.block(leader.id, first.id);
    await cluster.settle(leader.propose(bytes(1)));
    const toFirst = leader.transferLeadership(first.id).then(
      () => null,
      (error: unknown) => error,
    );
    const toSecond = leader.transferLeadership(second.id);
    await cluster.settle(toSecond);
    expect(second.role.value).toBe('leader');
    expect(await toFirst).toMatchObject({ name: 'LeadershipTransferError', reason: 'cancelled' });
    await cluster.close();
  });

  it('resolves once the target leads, and the target\u2019s awaitLeadership resolves with it', async () => {
    const cluster = await startContractCluster({ seed: 58 });
    const leader = await cluster.waitForLeader();
    const target = [...cluster.nodes.values()].find((node) => node !== leader)!;
    let leading = false;
    void target.awaitLeadership().then(() => (leading = true));
    await cluster.clock.advance(500);
    expect(leading).toBe(false);
    await cluster.settle(leader.transferLeadership(target.id));
    expect(target.role.value).toBe('leader');
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'requestVote', node: target.id, transfer: true }));
    await cluster.clock.advance(1);
    expect(leading).toBe(true);
    await cluster.close();
  });
});
