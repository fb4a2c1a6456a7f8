// What a caller sees when it asks a cluster with a witness (RaftConfig.witness) for something a
// witness makes impossible, through the public entries only. Before: transferLeadership(witness)
// held the leader's proposals for an election timeout and failed as `timeout`; a change to a
// witness-only voter set was appended and left a cluster that could never elect a leader again;
// and a witness started as the only voter waited for ever.
import { describe, expect, it } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, LeadershipTransferError, nodeId, VirtualClock } from '../index.ts';
import { createPartitionableNetwork, startContractCluster, track } from './contract-cluster.test-support.ts';

const electionTimeoutMax = 300;
const raftConfig = { electionTimeoutMin: 150, electionTimeoutMax, heartbeatInterval: 50 };

describe('transferLeadership to a witness', () => {
  it('rejects with LeadershipTransferError neverLeads before the clock passes electionTimeoutMax, and proposals are not held', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'w'], witnesses: ['w'], seed: 71, raftConfig });
    const leader = await cluster.waitForLeader();
    // A commit round: every voter, the witness among them, has answered this leader since.
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const startedAt = cluster.clock.now();
    const transfer = track(leader.transferLeadership(nodeId('w')));
    const proposal = track(leader.propose(new Uint8Array([2])));
    await cluster.clock.runUntil(() => transfer.outcome !== 'pending' && proposal.outcome !== 'pending', electionTimeoutMax - 1);
    expect(cluster.clock.now() - startedAt).toBeLessThan(electionTimeoutMax);
    const outcome = transfer.outcome;
    expect(outcome !== 'pending' && 'error' in outcome && outcome.error).toBeInstanceOf(LeadershipTransferError);
    expect(outcome !== 'pending' && 'error' in outcome && (outcome.error as LeadershipTransferError).reason).toBe('neverLeads');
    expect(proposal.outcome).toMatchObject({ value: { index: expect.any(Number) } });
    expect(cluster.leader()).toBe(leader);
    await cluster.close();
  });
});

describe('changeMembership whose voters would all be witnesses', () => {
  it('rejects with a RangeError naming the witnesses, and changes nothing', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'w'], witnesses: ['w'], seed: 72, raftConfig });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const commitIndex = leader.commitIndex.value;
    const change = cluster.settle(leader.changeMembership({ voters: [nodeId('w')], learners: [nodeId('a'), nodeId('b')] }));
    await expect(change).rejects.toBeInstanceOf(RangeError);
    await expect(change).rejects.toThrow(/every voter of the target is a witness \(w\)/);
    expect(leader.membership.value).toEqual({ voters: ['a', 'b', 'w'] });
    expect(leader.commitIndex.value).toBe(commitIndex);
    // A change that keeps a voter that may lead still goes through.
    const kept = leader.id === nodeId('a') ? 'a' : 'b';
    const dropped = kept === 'a' ? 'b' : 'a';
    await expect(cluster.settle(leader.changeMembership({ voters: [nodeId(kept), nodeId('w')], learners: [nodeId(dropped)] }))).resolves.toEqual({ voters: [kept, 'w'], learners: [dropped] });
    await cluster.close();
  });
});

describe('createRaftNode for a witness', () => {
  it('refuses, with a RangeError, a configuration that names the witness the only voter', async () => {
    const clock = new VirtualClock();
    const network = createPartitionableNetwork();
    const w = nodeId('w');
    const options = { id: w, clusterConfig: { voters: [w] }, transport: network.transport(w), storage: new InMemoryRaftStorage(), raftConfig: { witness: true, clock } };
    await expect(createRaftNode(options)).rejects.toThrow(RangeError);
    await expect(createRaftNode(options)).rejects.toThrow(/RaftConfig\.witness = true is invalid for node "w": RaftNodeOptions\.clusterConfig names it the only voter/);
    // Beside another voter it starts; alone, a node that is no witness starts too.
    const paired = await createRaftNode({ ...options, clusterConfig: { voters: [w, nodeId('x')] } });
    await paired.close();
    network.remove(w);
    const alone = await createRaftNode({ ...options, transport: network.transport(w), storage: new InMemoryRaftStorage(), raftConfig: { witness: false, clock } });
    await alone.close();
  });

  it('judges the configuration its storage holds, which a restarted node starts on, not the bootstrap it ignores', async () => {
    const clock = new VirtualClock();
    const network = createPartitionableNetwork();
    const [w, x] = [nodeId('w'), nodeId('x')];
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(1, null);
    await storage.appendEntries([{ index: 1, term: 1, command: new Uint8Array(0), isNoOp: false, config: { old: null, new: { voters: [w], learners: [x] } } }]);
    const start = createRaftNode({ id: w, clusterConfig: { voters: [w, x] }, transport: network.transport(w), storage, raftConfig: { witness: true, clock } });
    await expect(start).rejects.toThrow(/the configuration its storage holds names it the only voter/);
  });
});
