// The public surface of API.md as code outside the project sees it: every documented name from
// its entry, with its kind, shape, default and validation. Imports only the public entries.
import { describe, expect, it } from 'vitest';
import * as root from '../index.ts';
import * as node from '../node.ts';
import * as signalingServer from '../signaling/server/index.ts';
import * as testing from '../testing/index.ts';
import * as webrtc from '../webrtc.ts';
import * as worker from '../worker.ts';
import {
  awaitRead,
  ClientIdCollisionError,
  ClientSessionTable,
  clientId,
  createRaftNode,
  createWatchable,
  InMemoryRaftStorage,
  LeadershipLostError,
  LeadershipTransferError,
  MembershipChangeInProgressError,
  nodeId,
  NotLeaderError,
  RaftClosedError,
  VirtualClock,
  type ClientIdentity,
  type NodeId,
  type RaftConfig,
  type RaftNode,
} from '../index.ts';
import { createPartitionableNetwork, startContractCluster } from './contract-cluster.test-support.ts';

describe('API.md: the names of each entry', () => {
  it('raftmesh exports every documented value', () => {
    for (const name of ['nodeId', 'clientId', 'createRaftNode', 'awaitRead', 'seededRandom'] as const) expect(typeof root[name], name).toBe('function');
    for (const name of ['InMemoryRaftStorage', 'IndexedDbRaftStorage', 'ClientSessionTable', 'VirtualClock'] as const) expect(typeof root[name], name).toBe('function');
    expect(typeof root.IndexedDbRaftStorage.open).toBe('function');
    expect(typeof root.ClientSessionTable.fromBytes).toBe('function');
  });

  it('the subpath entries export what API.md names', () => {
    expect(typeof worker.createWorkerRaftNode).toBe('function');
    expect(typeof webrtc.createWebRtcTransport).toBe('function');
    expect(typeof webrtc.createWebSocketSignalingClient).toBe('function');
    expect(typeof signalingServer.startSignalingServer).toBe('function');
    expect(typeof testing.VirtualClock).toBe('function');
    expect(typeof testing.seededRandom).toBe('function');
    expect(typeof node.FileRaftStorage).toBe('function');
  });

  it('raftmesh also exports the browser- and Node-only pieces ("Everything below is exported from the package root")', async () => {
    // The same functions as the subpath entries', so either import works alike.
    expect(root.createWorkerRaftNode).toBe(worker.createWorkerRaftNode);
    expect(root.WorkerCrashedError).toBe(worker.WorkerCrashedError);
    expect(root.createWebRtcTransport).toBe(webrtc.createWebRtcTransport);
    expect(root.createWebSocketSignalingClient).toBe(webrtc.createWebSocketSignalingClient);
    expect(root.createBroadcastChannelSignalingClient).toBe(webrtc.createBroadcastChannelSignalingClient);
    // The root's startSignalingServer loads the server on its first call (the root runs in
    // browsers too): it starts a real one, on loopback.
    const server = await root.startSignalingServer({ port: 0, host: '127.0.0.1' });
    try {
      expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await server.close();
    }
  });

  it('every error class extends Error, sets name to its class name and carries its documented field', () => {
    const errors: Error[] = [
      new NotLeaderError(nodeId('b')),
      new LeadershipLostError(),
      new MembershipChangeInProgressError(),
      new LeadershipTransferError('cancelled'),
      new ClientIdCollisionError('x'),
      new RaftClosedError(),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(new NotLeaderError(nodeId('b')).leader).toBe('b');
    expect(new NotLeaderError(null).leader).toBeNull();
    expect(new LeadershipTransferError('timeout').reason).toBe('timeout');
  });
});

describe('API.md: identities and values', () => {
  it("nodeId and clientId brand a string and reject ''", () => {
    expect(nodeId('a')).toBe('a');
    expect(clientId('x')).toBe('x');
    expect(() => nodeId('')).toThrow(RangeError);
    expect(() => clientId('')).toThrow(RangeError);
  });

  it('nodeId and clientId refuse a lone surrogate (it would reach other nodes as another id) and accept a well-formed pair', () => {
    expect(() => nodeId('peer-\ud800')).toThrow(/well-formed/);
    expect(() => clientId('\udc00x')).toThrow(/well-formed/);
    expect(nodeId('peer-\ud83d\ude00')).toBe('peer-😀');
  });

  it('ClientSessionTable: first sight applies, a replay does not, closeSession forgets, bytes round-trip, malformed bytes are refused', () => {
    const table = new ClientSessionTable();
    const key = { clientId: clientId('c1'), requestId: 1 };
    expect(table.shouldApply(undefined)).toBe(true);
    expect(table.shouldApply(key)).toBe(true);
    expect(table.shouldApply(key)).toBe(false);
    const copy = ClientSessionTable.fromBytes(table.toBytes());
    expect(copy.shouldApply(key)).toBe(false);
    copy.closeSession(clientId('c1'));
    expect(copy.shouldApply(key)).toBe(true);
    expect(() => ClientSessionTable.fromBytes(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(/ClientSessionTable/);
  });
});

describe('API.md: configuration', () => {
  const start = (raftConfig: RaftConfig, voters = ['a']): Promise<RaftNode> => {
    const id = nodeId('a');
    return createRaftNode({
      id,
      clusterConfig: { voters: voters.map((voter) => nodeId(voter)) },
      transport: createPartitionableNetwork().transport(id),
      storage: new InMemoryRaftStorage(),
      raftConfig: { clock: new VirtualClock(), ...raftConfig },
    });
  };

  it.each<[RaftConfig, string]>([
    [{ electionTimeoutMin: 300, electionTimeoutMax: 300 }, 'electionTimeoutMax'],
    [{ electionTimeoutMax: 100 }, 'electionTimeoutMax'],
    [{ heartbeatInterval: 0 }, 'heartbeatInterval'],
    [{ heartbeatInterval: 150 }, 'heartbeatInterval'],
    [{ electionTimeoutMin: 40 }, 'heartbeatInterval'],
    [{ slowProposeThreshold: -1 }, 'slowProposeThreshold'],
    [{ snapshotChunkCeiling: 0 }, 'snapshotChunkCeiling'],
    [{ snapshotTotalCeiling: 0 }, 'snapshotTotalCeiling'],
    [{ maxTermJump: 0 }, 'maxTermJump'],
    [{ maxTermJump: 2 ** 20 + 1 }, 'maxTermJump'],
  ])('%j throws a RangeError naming %s and its value', async (raftConfig, field) => {
    const attempt = start(raftConfig);
    await expect(attempt).rejects.toBeInstanceOf(RangeError);
    await expect(attempt).rejects.toThrow(new RegExp(`${field} = -?\\d+`));
  });

  it('accepts the edges of the documented ranges', async () => {
    for (const raftConfig of [{ maxTermJump: 1 }, { maxTermJump: 2 ** 20 }, { heartbeatInterval: 1 }, { heartbeatInterval: 149 }]) {
      const started = await start(raftConfig);
      await started.close();
    }
  });

  it.each([{ voters: [] }, { voters: ['a', 'a'] }, { voters: ['a'], learners: ['a'] }])('refuses the cluster config %j', async (config) => {
    const id = nodeId('a');
    const clusterConfig = { voters: config.voters.map((voter) => nodeId(voter)), learners: (config.learners ?? []).map((learner) => nodeId(learner)) };
    await expect(createRaftNode({ id, clusterConfig, transport: createPartitionableNetwork().transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock() } })).rejects.toBeInstanceOf(RangeError);
  });

  it.each([
    ['an empty durable client id', { type: 'durable', clientId: '' }],
    ['a durable identity without a client id', { type: 'durable' }],
    ['a durable client id longer than any ClientId', { type: 'durable', clientId: 'x'.repeat(300) }],
    ['a durable client id that is not a string', { type: 'durable', clientId: 5 }],
    ['null', null],
  ])('refuses %s as identity with a RangeError, before any proposal carries it', async (_name, identity) => {
    const id = nodeId('a');
    const attempt = createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createPartitionableNetwork().transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock() }, identity: identity as unknown as ClientIdentity });
    await expect(attempt).rejects.toBeInstanceOf(RangeError);
    await expect(attempt).rejects.toThrow(/identity/);
  });

  it('refuses an options id that nodeId() would refuse', async () => {
    const id = 'x'.repeat(300) as NodeId;
    // Not in the bootstrap configuration (a node that will join): only the id check can refuse it.
    await expect(createRaftNode({ id, clusterConfig: { voters: [nodeId('b')] }, transport: createPartitionableNetwork().transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock() } })).rejects.toBeInstanceOf(RangeError);
  });

  it('defaults: election timeouts drawn from [150, 300) ms, heartbeats every 50 ms', async () => {
    const firstTimeouts: number[] = [];
    for (let seed = 1; seed <= 12; seed += 1) {
      const cluster = await startContractCluster({ seed });
      await cluster.clock.advance(150 - 1);
      expect(cluster.trace.filter((event) => event.type === 'timeout'), `seed ${seed}: nothing before 150 ms`).toEqual([]);
      await cluster.clock.advance(301 - 149);
      firstTimeouts.push(Math.min(...cluster.trace.filter((event) => event.type === 'timeout').map((event) => event.at)));
      await cluster.close();
    }
    expect(firstTimeouts.every((at) => at >= 150 && at < 300)).toBe(true);
    expect(new Set(firstTimeouts).size).toBeGreaterThan(3); // drawn, not fixed

    // Heartbeats, seen as frames on the wire from the leader to one follower while idle.
    const cluster = await startContractCluster({ seed: 3 });
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((candidate) => candidate !== leader)!;
    await cluster.clock.advance(500);
    const from = cluster.clock.now();
    const before = cluster.trace.length;
    await cluster.clock.advance(1_000);
    const times = cluster.network.sent.filter((frame) => frame.from === leader.id && frame.to === follower.id && frame.at >= from).map((frame) => frame.at);
    const gaps = times.slice(1).map((at, position) => at - times[position]!);
    expect(gaps.length).toBeGreaterThanOrEqual(18);
    expect(gaps.every((gap) => gap === 50)).toBe(true);
    // A follower hearing its leader never times out.
    expect(cluster.trace.slice(before).filter((event) => event.type === 'timeout')).toEqual([]);
    await cluster.close();
  });
});

describe('API.md: awaitRead', () => {
  it('works with any RaftNode as API.md defines it, not only those with extra members', async () => {
    const applied = createWatchable(0);
    const minimal = { readIndex: async () => 3 } as unknown as RaftNode;
    const read = awaitRead(minimal, applied);
    applied.set(2);
    applied.set(3);
    await expect(read).resolves.toBe(3);
  });
});
