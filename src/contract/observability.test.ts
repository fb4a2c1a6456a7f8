// SPEC "Observability", "Roles, terms and elections" and "Leadership transfer", black-box: every
// metric and trace event SPEC names, every vote denial and step-down reason, provoked on a cluster
// built from the public entries only and observed through onMetric and node.trace.
import { describe, expect, it } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, VirtualClock, type RaftMetric, type RaftTraceEvent } from '../index.ts';
import { createPartitionableNetwork, startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number, length = 1): Uint8Array => new Uint8Array(length).fill(value);
const types = (items: ReadonlyArray<{ readonly type: string }>): Set<string> => new Set(items.map((item) => item.type));
const reasonsOf = (cluster: ContractCluster, type: RaftTraceEvent['type']): Set<unknown> =>
  new Set(cluster.trace.filter((event) => event.type === type).map((event) => ('reason' in event ? event.reason : undefined)));
const others = (cluster: ContractCluster, leaderId: string): string[] => [...cluster.nodes.keys()].filter((name) => name !== leaderId);

describe('SPEC Observability: the named metrics and trace events', () => {
  it('an election, a proposal, a read and an idle cluster report their events, each trace event with node, term and clock reading', async () => {
    const cluster = await startContractCluster({ seed: 2 });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    await cluster.settle(cluster.node(others(cluster, leader.id)[0]!).propose(bytes(2)));
    await cluster.settle(leader.readIndex());
    expect([...types(cluster.metrics)]).toEqual(expect.arrayContaining(['electionStarted', 'electionWon', 'proposeAccepted', 'proposeCommitted', 'proposeApplied']));
    expect([...types(cluster.trace)]).toEqual(
      expect.arrayContaining(['timeout', 'preVoteStarted', 'preVoteGranted', 'requestVote', 'voteGranted', 'becomeLeader', 'becomeFollower', 'clientRequest', 'appendEntries', 'appendEntriesAccepted', 'advanceCommitIndex', 'readIndexConfirmed']),
    );
    const won = cluster.metrics.find((metric) => metric.type === 'electionWon');
    expect(won).toMatchObject({ type: 'electionWon', term: leader.term.value, elapsedMs: expect.any(Number) });
    for (const event of cluster.trace) {
      expect(cluster.nodes.has(event.node)).toBe(true);
      expect(Number.isSafeInteger(event.term)).toBe(true);
      expect(typeof event.at).toBe('number');
    }
    // The leader's becomeLeader carries the node and the term it leads.
    expect(cluster.trace.filter((event) => event.type === 'becomeLeader').at(-1)).toMatchObject({ node: leader.id, term: leader.term.value });
    await cluster.close();
  });

  it('a proposal slower than slowProposeThreshold emits proposeSlow with its elapsed time', async () => {
    const cluster = await startContractCluster({ seed: 4, raftConfig: { slowProposeThreshold: 50 } });
    // No leader yet: the follower's proposal waits for one, well over 50 ms.
    const entry = await cluster.settle(cluster.node('b').propose(bytes(1)));
    const slow = cluster.metrics.filter((metric) => metric.type === 'proposeSlow');
    expect(slow).toEqual([expect.objectContaining({ type: 'proposeSlow', index: entry.index, elapsedMs: expect.any(Number), reporter: 'b' })]);
    expect((slow[0] as RaftMetric & { elapsedMs: number }).elapsedMs).toBeGreaterThan(50);
    // A fast one does not.
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(2)));
    expect(cluster.metrics.filter((metric) => metric.type === 'proposeSlow')).toHaveLength(1);
    await cluster.close();
  });

  it('an isolated follower times out its pre-vote rounds (electionTimedOut) without raising its term', async () => {
    const cluster = await startContractCluster({ seed: 5 });
    const leader = await cluster.waitForLeader();
    const cut = others(cluster, leader.id)[0]!;
    const termBefore = cluster.node(cut).term.value;
    cluster.network.isolate(nodeId(cut));
    await cluster.clock.advance(2_000);
    expect(cluster.metrics.filter((metric) => metric.type === 'electionTimedOut' && metric.reporter === cut).length).toBeGreaterThan(0);
    expect(cluster.node(cut).term.value).toBe(termBefore);
    await cluster.close();
  });

  it('a node whose term cannot grow without leaving the safe integers suppresses its election (electionSuppressedTermCeiling)', async () => {
    const id = nodeId('a');
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(Number.MAX_SAFE_INTEGER, null);
    const metrics: RaftMetric[] = [];
    const clock = new VirtualClock();
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createPartitionableNetwork().transport(id), storage, raftConfig: { clock }, onMetric: (metric) => metrics.push(metric) });
    await clock.advance(1_000);
    expect(metrics).toContainEqual({ type: 'electionSuppressedTermCeiling', term: Number.MAX_SAFE_INTEGER });
    expect(node.role.value).toBe('follower');
    expect(node.term.value).toBe(Number.MAX_SAFE_INTEGER);
    await node.close();
  });

  it('snapshots: compacted on publish, installSnapshot to a follower below the floor, installSnapshotAccepted there', async () => {
    const cluster = await startContractCluster({ seed: 7, raftConfig: { snapshotChunkCeiling: 64 } });
    const leader = await cluster.waitForLeader();
    const lagging = others(cluster, leader.id)[0]!;
    cluster.network.isolate(nodeId(lagging));
    for (let value = 0; value < 4; value += 1) await cluster.settle(leader.propose(bytes(value, 100)));
    const through = leader.commitIndex.value;
    await cluster.clock.runUntil(() => cluster.trace.some((event) => event.type === 'advanceCommitIndex' && event.node === leader.id && event.commitIndex === through), 1_000);
    leader.publishSnapshot({ throughIndex: through, state: bytes(7, 300) });
    expect(leader.compactionFloor.value).toBe(through);
    cluster.network.heal();
    await cluster.clock.runUntil(() => cluster.node(lagging).compactionFloor.value === through, 10_000);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'compacted', node: leader.id, throughIndex: through }));
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'installSnapshot', node: leader.id, to: lagging, lastIncludedIndex: through }));
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'installSnapshotAccepted', node: lagging, lastIncludedIndex: through }));
    await cluster.close();
  });

  it('a membership change reports configChange, joint then final, at each index', async () => {
    const cluster = await startContractCluster({ seed: 8, names: ['a', 'b', 'c', 'd'], voters: ['a', 'b', 'c'], learners: ['d'] });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.changeMembership({ voters: ['a', 'b', 'c', 'd'].map((name) => nodeId(name)) }));
    const changes = cluster.trace.filter((event) => event.type === 'configChange' && event.node === leader.id);
    expect(changes.map((event) => (event.type === 'configChange' ? event.joint : null))).toEqual([true, false]);
    await cluster.close();
  });

  it('transfers report leadershipTransferStarted and, abandoned, leadershipTransferAbandoned with the reason', async () => {
    const cluster = await startContractCluster({ seed: 9 });
    const leader = await cluster.waitForLeader();
    const [target, other] = others(cluster, leader.id) as [string, string];
    cluster.network.isolate(nodeId(target));
    await expect(cluster.settle(leader.transferLeadership(nodeId(target)))).rejects.toMatchObject({ name: 'LeadershipTransferError', reason: 'timeout' });
    cluster.network.heal();
    await cluster.clock.advance(500);
    const cancelled = leader.transferLeadership(nodeId(other));
    leader.cancelTransfer();
    await expect(cluster.settle(cancelled)).rejects.toMatchObject({ name: 'LeadershipTransferError', reason: 'cancelled' });
    expect(cluster.trace.filter((event) => event.type === 'leadershipTransferStarted').map((event) => (event.type === 'leadershipTransferStarted' ? event.target : null))).toEqual([target, other]);
    expect([...reasonsOf(cluster, 'leadershipTransferAbandoned')]).toEqual(['timeout', 'cancelled']);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });
});

describe('SPEC Roles, terms and elections: denial and step-down reasons', () => {
  it('leaderAlive: a follower cut off from the leader alone cannot win pre-votes from peers that hear it', async () => {
    const cluster = await startContractCluster({ seed: 3 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [deaf, hearing] = others(cluster, leader.id) as [string, string];
    cluster.network.block(leader.id, nodeId(deaf));
    await cluster.clock.advance(2_000);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'voteDenied', node: hearing, to: deaf, preVote: true, reason: 'leaderAlive' }));
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'preVoteDenied', node: deaf, from: hearing, reason: 'leaderAlive' }));
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    await cluster.close();
  });

  it('staleTerm: a node that missed terms is denied when it asks at a term below the voters\u2019', async () => {
    const cluster = await startContractCluster({ seed: 5 });
    const leader = await cluster.waitForLeader();
    const [behind, next] = others(cluster, leader.id) as [string, string];
    cluster.network.isolate(nodeId(behind));
    await cluster.settle(leader.transferLeadership(nodeId(next)));
    await cluster.settle(cluster.node(next).transferLeadership(leader.id));
    expect(leader.term.value).toBeGreaterThanOrEqual(cluster.node(behind).term.value + 2);
    cluster.network.heal();
    // It hears no one, so it campaigns; its requests still reach the others.
    cluster.network.block(leader.id, nodeId(behind));
    cluster.network.block(nodeId(next), nodeId(behind));
    await cluster.clock.advance(1_000);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'voteDenied', to: behind, reason: 'staleTerm' }));
    await cluster.close();
  });

  it('logNotUpToDate: a voter with a longer log denies a candidate that lacks its entries', async () => {
    const cluster = await startContractCluster({ seed: 6 });
    const leader = await cluster.waitForLeader();
    const [behind, ahead] = others(cluster, leader.id) as [string, string];
    cluster.network.isolate(nodeId(behind));
    await cluster.settle(leader.propose(bytes(1)));
    await cluster.clock.runUntil(() => cluster.node(ahead).commitIndex.value === leader.commitIndex.value, 1_000);
    // The leader is gone; the node that is ahead cannot reach the one behind, whose requests reach it.
    await leader.close();
    cluster.network.heal();
    cluster.network.isolate(leader.id);
    cluster.network.block(nodeId(ahead), nodeId(behind));
    await cluster.clock.advance(2_000);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'voteDenied', node: ahead, to: behind, reason: 'logNotUpToDate' }));
    expect(cluster.node(behind).role.value).not.toBe('leader');
    await cluster.close();
  });

  it('alreadyVoted, lostQuorum: a voter that voted in a term denies a second candidate of that term', async () => {
    const cluster = await startContractCluster({ seed: 10 });
    const leader = await cluster.waitForLeader();
    const [candidate, voter] = others(cluster, leader.id) as [string, string];
    // The transfer target's vote request reaches the voter, but neither answer reaches anyone, and
    // the old leader never hears of the new term: it loses its quorum and campaigns in that term.
    cluster.network.block(nodeId(candidate), leader.id);
    cluster.network.block(nodeId(voter), leader.id);
    cluster.network.block(nodeId(voter), nodeId(candidate));
    leader.transferLeadership(nodeId(candidate)).catch(() => {});
    await cluster.clock.advance(2_000);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'becomeFollower', node: leader.id, reason: 'lostQuorum' }));
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'voteDenied', node: voter, to: leader.id, reason: 'alreadyVoted' }));
    await cluster.close();
  });

  it('higherTermObserved, appendEntriesFromLeader and removedFromConfig name why a node became follower', async () => {
    const cluster = await startContractCluster({ seed: 11 });
    const leader = await cluster.waitForLeader();
    const [first, second] = others(cluster, leader.id) as [string, string];
    await cluster.settle(leader.transferLeadership(nodeId(first)));
    // The old leader learns the new term from the new leader's messages.
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'becomeFollower', node: leader.id, reason: 'higherTermObserved' }));
    expect(reasonsOf(cluster, 'becomeFollower').has('appendEntriesFromLeader')).toBe(true);
    const newLeader = cluster.node(first);
    await cluster.settle(newLeader.changeMembership({ voters: [leader.id, nodeId(second)] }));
    await cluster.clock.advance(1_000);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'becomeFollower', node: first, reason: 'removedFromConfig' }));
    expect(newLeader.role.value).not.toBe('leader');
    await cluster.close();
  });
});
