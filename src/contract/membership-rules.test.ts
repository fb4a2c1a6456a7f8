// SPEC "Membership (§6) and learners", black-box, for the rules the other contract files leave
// open: when a leader outside C_new steps down, removed nodes not campaigning, learners
// forwarding proposals, one change at a time across a leader change, and validation messages.
import { describe, expect, it } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, LeadershipLostError, MembershipChangeInProgressError, nodeId, validateClusterConfig, VirtualClock, type ClusterConfig, type NodeId, type RaftRole } from '../index.ts';
import { createPartitionableNetwork, startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);
const ids = (...names: string[]): NodeId[] => names.map((name) => nodeId(name));
const settledError = async (cluster: ContractCluster, promise: Promise<unknown>): Promise<unknown> =>
  cluster.settle(
    promise.then(
      () => null,
      (error: unknown) => error,
    ),
  );

/** The index of the last configuration entry in a node's stored log. */
async function lastConfigIndex(cluster: ContractCluster, name: string): Promise<number> {
  const configs = (await cluster.storage(name).entries()).filter((entry) => entry.config !== undefined);
  return configs.at(-1)?.index ?? 0;
}

describe('SPEC Membership: a leader not in C_new', () => {
  it('keeps leading through the joint phase, and steps down (removedFromConfig) only once C_new commits; the change resolves', async () => {
    const cluster = await startContractCluster({ seed: 31 });
    const leader = await cluster.waitForLeader();
    const remaining = [...cluster.nodes.keys()].filter((name) => name !== leader.id);
    const target: ClusterConfig = { voters: ids(...remaining) };
    // Every change of role, with the leader's commit index at that moment.
    const transitions: Array<{ role: RaftRole; commitIndex: number }> = [];
    leader.role.subscribe((role) => transitions.push({ role, commitIndex: leader.commitIndex.value }));
    const change = leader.changeMembership(target);
    const outcome = await cluster.settle(change.then((config) => config, (error: unknown) => error));
    const cNewIndex = await lastConfigIndex(cluster, leader.id);
    const configs = (await cluster.storage(leader.id).entries()).filter((entry) => entry.config !== undefined);
    expect(configs.map((entry) => entry.config)).toEqual([
      { old: { voters: ids('a', 'b', 'c') }, new: target },
      { old: null, new: target },
    ]);
    await cluster.clock.advance(1_000);
    const stepDown = transitions.find((transition) => transition.role !== 'leader');
    expect(stepDown, 'the removed leader stepped down').toBeDefined();
    expect(stepDown!.commitIndex).toBeGreaterThanOrEqual(cNewIndex);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'becomeFollower', node: leader.id, reason: 'removedFromConfig' }));
    // It led while joint: C_new is an entry of its own term.
    expect(configs.at(-1)!.term).toBe(configs.at(0)!.term);
    expect(outcome).toEqual(target);
    // The rest of the cluster elects a leader among C_new.
    await cluster.clock.runUntil(() => remaining.some((name) => cluster.node(name).role.value === 'leader'), 5_000);
    await cluster.close();
  });

  it('with C_new appended but not committed, it is still the leader', async () => {
    const cluster = await startContractCluster({ seed: 32 });
    const leader = await cluster.waitForLeader();
    const [first, second] = [...cluster.nodes.keys()].filter((name) => name !== leader.id) as [string, string];
    const change = leader.changeMembership({ voters: ids(first, second) });
    change.catch(() => {});
    // C_old,new is the entry after the current log end. The moment it commits on the leader (which
    // then appends C_new), nothing the leader sends reaches anyone any more: C_new cannot commit.
    const jointIndex = leader.commitIndex.value + 1;
    const stop = leader.commitIndex.subscribe((commitIndex) => {
      if (commitIndex < jointIndex) return;
      cluster.network.block(leader.id, nodeId(first));
      cluster.network.block(leader.id, nodeId(second));
    });
    await cluster.clock.runUntil(() => leader.commitIndex.value >= jointIndex, 2_000);
    stop();
    await cluster.clock.advance(10);
    const cNewIndex = await lastConfigIndex(cluster, leader.id);
    expect(cNewIndex).toBe(jointIndex + 1);
    // Less than an election timeout: the leader has no reason but C_new to step down.
    await cluster.clock.advance(100);
    expect(leader.commitIndex.value).toBe(jointIndex);
    expect(leader.role.value).toBe('leader');
    expect(leader.membership.value).toEqual({ voters: ids(first, second) });
    expect(cluster.trace.filter((event) => event.type === 'becomeFollower' && event.node === leader.id)).toEqual([]);
    await cluster.close();
  });
});

describe('SPEC Membership: removed nodes stop campaigning', () => {
  it('a voter demoted to learner, once the demotion commits, never campaigns again, even hearing no leader', async () => {
    const cluster = await startContractCluster({ seed: 33 });
    const leader = await cluster.waitForLeader();
    const demoted = [...cluster.nodes.keys()].find((name) => name !== leader.id)!;
    const kept = [...cluster.nodes.keys()].filter((name) => name !== demoted);
    await cluster.settle(leader.changeMembership({ voters: ids(...kept), learners: ids(demoted) }));
    await cluster.clock.runUntil(() => cluster.node(demoted).commitIndex.value === leader.commitIndex.value, 2_000);
    expect(cluster.node(demoted).role.value).toBe('learner');
    const term = leader.term.value;
    const since = cluster.trace.length;
    cluster.network.isolate(nodeId(demoted));
    await cluster.clock.advance(5_000);
    const campaign = cluster.trace.slice(since).filter((event) => event.node === demoted && (event.type === 'timeout' || event.type === 'preVoteStarted' || event.type === 'requestVote'));
    expect(campaign).toEqual([]);
    expect(cluster.node(demoted).role.value).toBe('learner');
    expect(cluster.node(demoted).term.value).toBe(term);
    await cluster.close();
  });

  it('a removed follower is ignored: whatever it does, it never raises the cluster term or deposes the leader', async () => {
    const cluster = await startContractCluster({ seed: 33 });
    const leader = await cluster.waitForLeader();
    const removed = [...cluster.nodes.keys()].find((name) => name !== leader.id)!;
    const kept = [...cluster.nodes.keys()].filter((name) => name !== removed);
    await cluster.settle(leader.changeMembership({ voters: ids(...kept) }));
    const term = leader.term.value;
    const since = cluster.trace.length;
    // The leader no longer sends to it; it hears nothing from anyone.
    await cluster.clock.advance(5_000);
    expect(cluster.trace.slice(since).filter((event) => event.node === removed && event.type === 'requestVote')).toEqual([]);
    expect(cluster.trace.slice(since).filter((event) => event.type === 'voteGranted' && event.to === removed)).toEqual([]);
    expect(cluster.node(removed).role.value).toBe('learner');
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    await cluster.close();
  });

  it('a removed follower that never heard of its removal is ignored: its campaigns depose no one', async () => {
    const cluster = await startContractCluster({ seed: 34 });
    const leader = await cluster.waitForLeader();
    const removed = [...cluster.nodes.keys()].find((name) => name !== leader.id)!;
    const kept = [...cluster.nodes.keys()].filter((name) => name !== removed);
    cluster.network.isolate(nodeId(removed));
    await cluster.settle(leader.changeMembership({ voters: ids(...kept) }));
    // It times out alone for a while (its term may rise), then it is heard again.
    await cluster.clock.advance(3_000);
    cluster.network.heal();
    const term = leader.term.value;
    await cluster.clock.advance(5_000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    expect(cluster.node(removed).role.value).not.toBe('leader');
    await expect(cluster.settle(leader.propose(bytes(1)))).resolves.toMatchObject({ term });
    await cluster.close();
  });
});

describe('SPEC Membership: learners', () => {
  it('a learner proposes: the command is forwarded to the leader, committed, and the learner gets its entry', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 35 });
    const leader = await cluster.waitForLeader();
    const learner = cluster.node('l');
    expect(learner.role.value).toBe('learner');
    const entry = await cluster.settle(learner.propose(bytes(9)));
    expect(entry.command).toEqual(bytes(9));
    expect(entry.dedupKey?.clientId).toMatch(/^l-[0-9a-f]+$/);
    expect((await cluster.storage(leader.id).entries()).find((logged) => logged.index === entry.index)?.command).toEqual(bytes(9));
    expect(leader.commitIndex.value).toBeGreaterThanOrEqual(entry.index);
    expect(learner.role.value).toBe('learner');
    await cluster.close();
  });

  it('every change goes through C_old,new and then C_new, a change of learners only too (SPEC "Membership")', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], seed: 37 });
    const leader = await cluster.waitForLeader();
    const withLearner: ClusterConfig = { voters: ids('a', 'b', 'c'), learners: ids('l') };
    expect(await cluster.settle(leader.changeMembership(withLearner))).toEqual(withLearner);
    await cluster.clock.runUntil(() => cluster.node('l').commitIndex.value >= leader.commitIndex.value, 5_000);
    expect(cluster.node('l').role.value).toBe('learner');
    const promoted: ClusterConfig = { voters: ids('a', 'b', 'c', 'l') };
    expect(await cluster.settle(leader.changeMembership(promoted))).toEqual(promoted);
    const configs = (await cluster.storage(leader.id).entries()).filter((entry) => entry.config !== undefined).map((entry) => entry.config);
    expect(configs).toEqual([
      { old: { voters: ids('a', 'b', 'c') }, new: withLearner },
      { old: null, new: withLearner },
      { old: withLearner, new: promoted },
      { old: null, new: promoted },
    ]);
    await cluster.close();
  });

  it('a follower\'s membership listener hears of a change once, as the leader\'s does: C_new repeats the configuration C_old,new already showed', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], seed: 37 });
    const leader = await cluster.waitForLeader();
    const follower = (['a', 'b', 'c'] as const).map((name) => cluster.node(name)).find((node) => node.id !== leader.id);
    if (follower === undefined) throw new Error('no follower');
    const heardByFollower: ClusterConfig[] = [];
    const heardByLeader: ClusterConfig[] = [];
    follower.membership.subscribe((config) => heardByFollower.push(config));
    leader.membership.subscribe((config) => heardByLeader.push(config));
    const withLearner: ClusterConfig = { voters: ids('a', 'b', 'c'), learners: ids('l') };
    await cluster.settle(leader.changeMembership(withLearner));
    await cluster.clock.runUntil(() => follower.commitIndex.value >= leader.commitIndex.value, 5_000);
    expect(heardByLeader).toEqual([withLearner]);
    // Each decoded config entry is a new object: compared by identity, the follower heard the
    // same configuration twice (the joint entry's new half, then C_new), the worker node once.
    expect(heardByFollower).toEqual([withLearner]);
    await cluster.close();
  });

  it('a learner receives the log and, below the floor, the snapshot', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 36 });
    const leader = await cluster.waitForLeader();
    cluster.network.isolate(nodeId('l'));
    const entry = await cluster.settle(leader.propose(bytes(1)));
    leader.publishSnapshot({ throughIndex: entry.index, state: bytes(77) });
    cluster.network.heal();
    const last = await cluster.settle(leader.propose(bytes(2)));
    await cluster.clock.runUntil(() => cluster.node('l').commitIndex.value >= last.index, 5_000);
    expect(await cluster.storage('l').loadSnapshot()).toMatchObject({ meta: { lastIncludedIndex: entry.index }, state: bytes(77) });
    expect((await cluster.storage('l').entries()).at(-1)).toMatchObject({ index: last.index, command: bytes(2) });
    await cluster.close();
  });
});

describe('SPEC Membership: one change at a time', () => {
  it('a change asked while C_new (not only C_old,new) is uncommitted rejects with MembershipChangeInProgressError, the same target too', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 54 });
    const leader = await cluster.waitForLeader();
    const target: ClusterConfig = { voters: ids('a', 'b', 'c', 'l') };
    const first = leader.changeMembership(target);
    const jointIndex = leader.commitIndex.value + 1;
    const asked: Array<Promise<unknown>> = [];
    // The moment C_old,new commits, C_new is appended and uncommitted.
    const stop = leader.commitIndex.subscribe((commitIndex) => {
      if (commitIndex < jointIndex || asked.length > 0) return;
      for (const next of [{ voters: ids('a', 'b', 'c') }, target]) {
        asked.push(
          leader.changeMembership(next).then(
            () => null,
            (error: unknown) => error,
          ),
        );
      }
    });
    await expect(cluster.settle(first)).resolves.toEqual(target);
    stop();
    expect(asked).toHaveLength(2);
    for (const call of asked) expect(await cluster.settle(call)).toBeInstanceOf(MembershipChangeInProgressError);
    expect(leader.membership.value).toEqual(target);
    await cluster.close();
  });
});

describe('SPEC Membership: one change at a time, across a leader change', () => {
  it('a leader that inherits an unfinished joint configuration refuses another change with MembershipChangeInProgressError until it has finished the first', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 37 });
    const first = await cluster.waitForLeader();
    const promoted: ClusterConfig = { voters: ids('a', 'b', 'c', 'l') };
    const change = first.changeMembership(promoted);
    const outcome = change.then(
      (config) => config,
      (error: unknown) => error,
    );
    // C_old,new reaches everyone; then the leader is gone before it can append C_new.
    await cluster.clock.runUntil(() => [...cluster.nodes.values()].every((node) => node.membership.value.voters.length === 4), 1_000);
    cluster.network.isolate(first.id);
    await cluster.clock.runUntil(() => [...cluster.nodes.values()].some((node) => node !== first && node.role.value === 'leader'), 5_000);
    const next = cluster.leader()!;
    expect(next).not.toBe(first);
    const error = await settledError(cluster, next.changeMembership({ voters: ids('a', 'b', 'c') }));
    // Either refused as in progress, or accepted only once the joint configuration was left.
    if (error !== null) expect(error).toBeInstanceOf(MembershipChangeInProgressError);
    // The new leader finishes the change: C_new, committed.
    const configs = (await cluster.storage(next.id).entries()).filter((entry) => entry.config !== undefined);
    expect(configs.some((entry) => entry.config!.old === null && entry.config!.new.voters.length === 4 && entry.index <= next.commitIndex.value)).toBe(true);
    // No joint configuration was ever made out of a joint one.
    for (const entry of configs) if (entry.config!.old !== null) expect(entry.config!.old.voters.length === 3 || entry.config!.old.voters.length === 4).toBe(true);
    cluster.network.heal();
    const result = await cluster.settle(outcome);
    if (result instanceof Error) expect(result).toBeInstanceOf(LeadershipLostError);
    else expect(result).toEqual(promoted);
    await cluster.close();
  });

  it('a change asked of a leader that loses leadership before C_old,new commits rejects with LeadershipLostError', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 38 });
    const first = await cluster.waitForLeader();
    cluster.network.isolate(first.id);
    const change = first.changeMembership({ voters: ids('a', 'b', 'c', 'l') });
    await cluster.clock.runUntil(() => [...cluster.nodes.values()].some((node) => node !== first && node.role.value === 'leader'), 5_000);
    cluster.network.heal();
    const error = await settledError(cluster, change);
    expect(error).toBeInstanceOf(LeadershipLostError);
    await cluster.close();
  });
});

describe('SPEC Membership: a change racing a leader change', () => {
  it.each([1, 2, 5])('leadership handed, mid-change, to the voter being removed (seed %i): it finishes C_new, steps down once that commits, and C_new elects the next leader', async (seed) => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'd'], voters: ['a', 'b', 'c'], learners: ['d'], seed });
    const first = await cluster.waitForLeader();
    const [removed, kept] = ['a', 'b', 'c'].filter((name) => name !== first.id) as [string, string];
    const target: ClusterConfig = { voters: ids(first.id, kept, 'd') };
    const change = first.changeMembership(target).then(
      (config) => config,
      (error: unknown) => error,
    );
    const interim = cluster.node(removed);
    const transitions: Array<{ role: RaftRole; commitIndex: number }> = [];
    interim.role.subscribe((role) => transitions.push({ role, commitIndex: interim.commitIndex.value }));
    // C_old,new is uncommitted; the removed voter is still a voter of it, so it may take over.
    await cluster.settle(first.transferLeadership(nodeId(removed)));
    await cluster.clock.runUntil(() => interim.role.value !== 'leader', 5_000);
    const led = transitions.findIndex((transition) => transition.role === 'leader');
    expect(led).toBeGreaterThanOrEqual(0);
    const stepDown = transitions[led + 1]!;
    const configs = (await cluster.storage(removed).entries()).filter((entry) => entry.config !== undefined);
    const cNew = configs.at(-1)!;
    expect(cNew.config).toEqual({ old: null, new: target });
    // It appended C_new itself, as leader of its term, and stepped down only once it committed.
    expect(cNew.term).toBe(interim.term.value);
    expect(stepDown.commitIndex).toBeGreaterThanOrEqual(cNew.index);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'becomeFollower', node: removed, reason: 'removedFromConfig' }));
    await cluster.clock.runUntil(() => [first.id, kept, 'd'].some((name) => cluster.node(name).role.value === 'leader'), 5_000);
    const next = cluster.leader()!;
    expect(target.voters).toContain(next.id);
    await expect(cluster.settle(next.propose(bytes(1)))).resolves.toMatchObject({ term: next.term.value });
    expect(next.membership.value).toEqual(target);
    // Its first caller learns it committed, or that leadership moved while it was in flight.
    const outcome = await cluster.settle(change);
    if (outcome instanceof Error) expect(outcome).toBeInstanceOf(LeadershipLostError);
    else expect(outcome).toEqual(target);
    await cluster.close();
  });
});

describe('API.md ClusterConfig validation messages', () => {
  it('changeMembership names what is wrong with the target', async () => {
    const cluster = await startContractCluster({ seed: 39 });
    const leader = await cluster.waitForLeader();
    const cases: Array<[ClusterConfig, RegExp]> = [
      [{ voters: [] }, /voter/],
      [{ voters: ids('a', 'a') }, /"a"/],
      [{ voters: ids('a', 'b'), learners: ids('b') }, /"b"/],
      [{ voters: ids('a'), learners: ids('c', 'c') }, /"c"/],
    ];
    for (const [target, message] of cases) {
      const error = await settledError(cluster, leader.changeMembership(target));
      expect(error, JSON.stringify(target)).toBeInstanceOf(RangeError);
      expect((error as Error).message, JSON.stringify(target)).toMatch(message);
    }
    await cluster.close();
  });

  // Code outside the project may hand over a configuration it parsed or built untyped. A string
  // is iterable: taken as is, voters: 'abc' would be a three-voter cluster {a, b, c}.
  it.each<[string, unknown]>([
    ['no configuration', undefined],
    ['null', null],
    ['no voters field', {}],
    ['voters as a string', { voters: 'abc' }],
    ['a single voter as a string', { voters: 'a' }],
    ['learners as a string', { voters: ['a'], learners: 'b' }],
    ['voters as an object', { voters: { 0: 'a', length: 1 } }],
  ])('refuses %s with a RangeError naming ClusterConfig, at createRaftNode and in validateClusterConfig', async (_name, config) => {
    const id = nodeId('a');
    expect(() => validateClusterConfig(config as ClusterConfig)).toThrow(RangeError);
    expect(() => validateClusterConfig(config as ClusterConfig)).toThrow(/ClusterConfig/);
    const attempt = createRaftNode({ id, clusterConfig: config as ClusterConfig, transport: createPartitionableNetwork().transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock() } });
    await expect(attempt).rejects.toBeInstanceOf(RangeError);
    await expect(attempt).rejects.toThrow(/ClusterConfig/);
  });

  it('changeMembership refuses a target whose voters are a string, changing nothing', async () => {
    const cluster = await startContractCluster({ seed: 40 });
    const leader = await cluster.waitForLeader();
    const before = leader.membership.value;
    const error = await settledError(cluster, leader.changeMembership({ voters: 'abd' } as unknown as ClusterConfig));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/ClusterConfig\.voters/);
    await cluster.clock.advance(500);
    expect(leader.membership.value).toEqual(before);
    await cluster.close();
  });
});
