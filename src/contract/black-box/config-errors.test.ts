import { describe, it, expect } from 'vitest';
import {
  createRaftNode, InMemoryRaftStorage, nodeId, clientId, createLoopbackNetwork, VirtualClock, seededRandom,
  NotLeaderError, LeadershipLostError, MembershipChangeInProgressError, LeadershipTransferError,
  ClientIdCollisionError, RaftClosedError, type RaftConfig,
} from '../../index.ts';

async function tryCreate(raftConfig: RaftConfig, voters = ['a', 'b', 'c']) {
  const net = createLoopbackNetwork();
  const clock = new VirtualClock();
  try {
    const n = await createRaftNode({
      id: nodeId('a'), clusterConfig: { voters: voters.map(nodeId) }, transport: net.transport(nodeId('a')),
      storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(1), ...raftConfig },
    });
    const p = n.close();
    await clock.advance(100);
    await p;
    return null;
  } catch (e) {
    return e as Error;
  }
}

describe('Configuration (API.md): invalid configs throw RangeError naming field, value and rule', () => {
  const bad: [string, RaftConfig, string][] = [
    ['heartbeat equal to electionTimeoutMin', { heartbeatInterval: 150, electionTimeoutMin: 150, electionTimeoutMax: 300 }, 'heartbeatInterval'],
    ['heartbeat above electionTimeoutMin', { heartbeatInterval: 200 }, 'heartbeatInterval'],
    ['heartbeat 0', { heartbeatInterval: 0 }, 'heartbeatInterval'],
    ['heartbeat 0.5', { heartbeatInterval: 0.5 }, 'heartbeatInterval'],
    ['heartbeat NaN', { heartbeatInterval: NaN }, 'heartbeatInterval'],
    ['maxTermJump 0', { maxTermJump: 0 }, 'maxTermJump'],
    ['maxTermJump 2**20+1', { maxTermJump: 2 ** 20 + 1 }, 'maxTermJump'],
    ['maxTermJump NaN', { maxTermJump: NaN }, 'maxTermJump'],
    ['electionTimeoutMin > Max', { electionTimeoutMin: 400, electionTimeoutMax: 300 }, 'electionTimeout'],
    ['electionTimeoutMin negative', { electionTimeoutMin: -1 }, 'electionTimeoutMin'],
    ['electionTimeoutMax Infinity', { electionTimeoutMax: Infinity }, 'electionTimeoutMax'],
    ['snapshotChunkCeiling 0', { snapshotChunkCeiling: 0 }, 'snapshotChunkCeiling'],
    ['snapshotTotalCeiling -5', { snapshotTotalCeiling: -5 }, 'snapshotTotalCeiling'],
    ['slowProposeThreshold NaN', { slowProposeThreshold: NaN }, 'slowProposeThreshold'],
  ];
  for (const [name, cfg, field] of bad) {
    it(`rejects ${name}`, async () => {
      const e = await tryCreate(cfg);
      expect(e).toBeInstanceOf(RangeError);
      expect(e!.message).toContain(field);
    });
  }
  it('names the value in the message', async () => {
    const e = await tryCreate({ heartbeatInterval: 777 });
    expect(e).toBeInstanceOf(RangeError);
    expect(e!.message).toContain('777');
  });
  it('accepts boundary values', async () => {
    expect(await tryCreate({ maxTermJump: 1 })).toBeNull();
    expect(await tryCreate({ maxTermJump: 2 ** 20 })).toBeNull();
    expect(await tryCreate({ heartbeatInterval: 1 })).toBeNull();
    expect(await tryCreate({ heartbeatInterval: 149 })).toBeNull();
    expect(await tryCreate({})).toBeNull();
  });
  it('rejects invalid cluster configs', async () => {
    expect(await tryCreate({}, [])).toBeInstanceOf(Error);
    expect(await tryCreate({}, ['a', 'a'])).toBeInstanceOf(Error);
    const net = createLoopbackNetwork();
    await expect(createRaftNode({
      id: nodeId('a'), clusterConfig: { voters: [nodeId('a')], learners: [nodeId('a')] }, transport: net.transport(nodeId('a')),
      storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock(), random: seededRandom(1) },
    })).rejects.toBeInstanceOf(Error);
    const net2 = createLoopbackNetwork();
    await expect(createRaftNode({
      id: nodeId('a'), clusterConfig: { voters: [nodeId('a')], learners: [nodeId('b'), nodeId('b')] }, transport: net2.transport(nodeId('a')),
      storage: new InMemoryRaftStorage(), raftConfig: { clock: new VirtualClock(), random: seededRandom(1) },
    })).rejects.toBeInstanceOf(Error);
  });
  it("nodeId('') is rejected; clientId('') too", () => {
    expect(() => nodeId('')).toThrow();
    expect(() => clientId('')).toThrow();
    expect(nodeId('a')).toBe('a');
  });
});

describe('Errors (API.md): extend Error, name = class name, fields', () => {
  it('names and fields', () => {
    const cases: [Error, string][] = [
      [new NotLeaderError(nodeId('x')), 'NotLeaderError'],
      [new LeadershipLostError(), 'LeadershipLostError'],
      [new MembershipChangeInProgressError(), 'MembershipChangeInProgressError'],
      [new LeadershipTransferError('timeout'), 'LeadershipTransferError'],
      [new ClientIdCollisionError('c'), 'ClientIdCollisionError'],
      [new RaftClosedError(), 'RaftClosedError'],
    ];
    for (const [e, name] of cases) {
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(name);
    }
    expect(new NotLeaderError(nodeId('x')).leader).toBe('x');
    expect(new NotLeaderError(null).leader).toBeNull();
    expect(new LeadershipTransferError('cancelled').reason).toBe('cancelled');
  });
});
