// SPEC "Roles, terms and elections", "Log replication and commitment", "Proposals from any role",
// "Leadership transfer" and "Reads", black-box: each rule provoked on a cluster built from the
// public entries only (createRaftNode, InMemoryRaftStorage, VirtualClock, a partitionable
// network) and read off the watchables, the trace, the storage and the calls' outcomes.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import {
  awaitRead,
  createRaftNode,
  createWatchable,
  InMemoryRaftStorage,
  LeadershipTransferError,
  nodeId,
  NotLeaderError,
  RaftClosedError,
  seededRandom,
  VirtualClock,
  type LogEntry,
  type NodeId,
  type RaftNode,
  type RaftRole,
  type RaftStorage,
  type SnapshotMeta,
} from '../index.ts';
import { createPartitionableNetwork, startContractCluster, track, type ContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);
const othersOf = (cluster: ContractCluster, leader: RaftNode): RaftNode[] => [...cluster.nodes.values()].filter((node) => node !== leader);

async function rejectionOf(cluster: ContractCluster, call: Promise<unknown>): Promise<unknown> {
  return cluster.settle(call).then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

describe('SPEC Roles, terms and elections', () => {
  it('PreVote: a follower cut off for many election timeouts rejoins without raising any term, and the leader keeps leading', async () => {
    const cluster = await startContractCluster({ seed: 201 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [away] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.isolate(away.id);
    await cluster.clock.advance(3_000);
    expect(cluster.trace.filter((event) => event.node === away.id && event.type === 'preVoteStarted').length).toBeGreaterThan(3);
    expect(away.term.value).toBe(term);
    expect(await cluster.storage(away.id).term()).toBe(term);
    cluster.network.heal();
    await cluster.clock.advance(1_000);
    for (const node of cluster.nodes.values()) expect(node.term.value, node.id).toBe(term);
    expect(leader.role.value).toBe('leader');
    expect(away.leader.value).toBe(leader.id);
    expect(cluster.trace.filter((event) => event.type === 'requestVote' && event.term > term)).toEqual([]);
    await cluster.close();
  });

  it('PreVote: a would-be candidate without a quorum of pre-votes never increments its term, nor do the voters that deny it', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'd', 'e'], seed: 202 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [lonely, friend] = othersOf(cluster, leader) as [RaftNode, RaftNode];
    // lonely hears only friend (both cut off from the leader and the rest): two of five, no quorum.
    for (const other of cluster.nodes.values()) {
      if (other === lonely || other === friend) continue;
      cluster.network.block(other.id, lonely.id);
      cluster.network.block(lonely.id, other.id);
      cluster.network.block(other.id, friend.id);
      cluster.network.block(friend.id, other.id);
    }
    await cluster.clock.advance(3_000);
    expect(lonely.term.value).toBe(term);
    expect(friend.term.value).toBe(term);
    expect(lonely.role.value).not.toBe('candidate');
    expect(cluster.trace.filter((event) => event.type === 'requestVote' && event.term > term)).toEqual([]);
    await cluster.close();
  });

  it('CheckQuorum: a leader cut off from a majority steps down within an election timeout (lostQuorum), keeping its term; one that hears a bare majority keeps leading', async () => {
    const cluster = await startContractCluster({ seed: 203 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [first] = othersOf(cluster, leader) as [RaftNode];
    // A majority (itself and one follower): it stays.
    cluster.network.isolate(first.id);
    await cluster.clock.advance(2_000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    cluster.network.heal();
    await cluster.clock.advance(500);
    // Alone: it steps down, without a term of its own.
    cluster.network.isolate(leader.id);
    const cutAt = cluster.clock.now();
    const roles: RaftRole[] = [];
    leader.role.subscribe((role) => roles.push(role));
    await cluster.clock.runUntil(() => leader.role.value !== 'leader', 2_000);
    // electionTimeoutMax (300 ms) without a quorum, noticed at the next heartbeat (50 ms).
    expect(cluster.clock.now() - cutAt).toBeLessThanOrEqual(300 + 50);
    expect(roles[0]).toBe('follower');
    expect(leader.term.value).toBe(term);
    expect(leader.leader.value).toBeNull();
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'becomeFollower', node: leader.id, term, reason: 'lostQuorum' }));
    await cluster.close();
  });

  it('a single voter leads alone: it never steps down for want of a quorum and serves reads with its own', async () => {
    const cluster = await startContractCluster({ names: ['a'], seed: 224 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const entry = await cluster.settle(leader.propose(bytes(1)));
    await expect(cluster.settle(leader.readIndex())).resolves.toBe(entry.index);
    await cluster.clock.advance(3_000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    await cluster.close();
  });

  it('the election timeout is drawn anew from [electionTimeoutMin, electionTimeoutMax) each time it is armed', async () => {
    const cluster = await startContractCluster({ seed: 204, raftConfig: { electionTimeoutMin: 200, electionTimeoutMax: 400, heartbeatInterval: 20 } });
    const leader = await cluster.waitForLeader();
    const [away] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.isolate(away.id);
    await cluster.clock.advance(8_000);
    const times = cluster.trace.filter((event) => event.node === away.id && event.type === 'timeout').map((event) => event.at);
    const gaps = times.slice(1).map((at, position) => at - times[position]!);
    expect(gaps.length).toBeGreaterThan(15);
    expect(gaps.every((gap) => gap >= 200 && gap < 400)).toBe(true);
    expect(new Set(gaps).size).toBeGreaterThan(5);
    await cluster.close();
  });

  it('role, term and leader: every node names the leader and its term; a listener sees candidate then leader (pre-votes change no role)', async () => {
    const cluster = await startContractCluster({ seed: 205 });
    const seen = new Map<string, RaftRole[]>();
    for (const [name, node] of cluster.nodes) {
      seen.set(name, []);
      node.role.subscribe((role) => seen.get(name)!.push(role));
    }
    const leader = await cluster.waitForLeader();
    await cluster.clock.advance(200);
    expect(seen.get(leader.id)).toEqual(['candidate', 'leader']);
    for (const node of cluster.nodes.values()) {
      expect(node.leader.value, node.id).toBe(leader.id);
      expect(node.term.value, node.id).toBe(leader.term.value);
    }
    await cluster.close();
  });

  it('on election the new leader appends a no-op of its term, and a read asked the moment it leads waits for that no-op to commit', async () => {
    const cluster = await startContractCluster({ seed: 206 });
    const reads: Array<{ node: RaftNode; commitAtCall: number; read: Promise<number> }> = [];
    for (const node of cluster.nodes.values()) {
      node.role.subscribe((role) => {
        if (role === 'leader') reads.push({ node, commitAtCall: node.commitIndex.value, read: node.readIndex() });
      });
    }
    const leader = await cluster.waitForLeader();
    expect(reads).toHaveLength(1);
    const index = await cluster.settle(reads[0]!.read);
    const log = await cluster.storage(leader.id).entries();
    const noOp = log.find((entry) => entry.term === leader.term.value)!;
    expect(noOp).toMatchObject({ isNoOp: true, term: leader.term.value, command: new Uint8Array(0) });
    expect(reads[0]!.commitAtCall).toBeLessThan(noOp.index);
    expect(index).toBeGreaterThanOrEqual(noOp.index);
    await cluster.close();
  });
});

/** API.md's RaftStorage only (no batched path), recording writes; saveTermAndVotedFor can be held. */
class VoteHoldingStorage implements RaftStorage {
  private readonly inner = new InMemoryRaftStorage();
  private readonly held: Array<() => void> = [];
  holdVotes = false;
  readonly writes: string[] = [];
  release(): void {
    this.holdVotes = false;
    for (const resolve of this.held.splice(0)) resolve();
  }
  term(): Promise<number> {
    return this.inner.term();
  }
  votedFor(): Promise<NodeId | null> {
    return this.inner.votedFor();
  }
  async saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    this.writes.push(`saveTermAndVotedFor(${term}, ${votedFor})`);
    if (this.holdVotes) await new Promise<void>((resolve) => this.held.push(resolve));
    await this.inner.saveTermAndVotedFor(term, votedFor);
  }
  leaderForTerm(): ReturnType<RaftStorage['leaderForTerm']> {
    return this.inner.leaderForTerm();
  }
  saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    this.writes.push('saveLeaderForTerm');
    return this.inner.saveLeaderForTerm(term, leaderId);
  }
  appendEntries(entries: readonly LogEntry[]): Promise<void> {
    this.writes.push('appendEntries');
    return this.inner.appendEntries(entries);
  }
  entries(fromIndex?: number): Promise<LogEntry[]> {
    return this.inner.entries(fromIndex);
  }
  truncateFrom(index: number): Promise<void> {
    this.writes.push('truncateFrom');
    return this.inner.truncateFrom(index);
  }
  saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    this.writes.push('saveSnapshot');
    return this.inner.saveSnapshot(meta, state);
  }
  loadSnapshot(): ReturnType<RaftStorage['loadSnapshot']> {
    return this.inner.loadSnapshot();
  }
  discardLogPrefix(throughIndex: number): Promise<void> {
    this.writes.push('discardLogPrefix');
    return this.inner.discardLogPrefix(throughIndex);
  }
}

describe('SPEC Roles, terms and elections: pre-votes write nothing; the candidacy waits for its term and vote', () => {
  it('a pre-vote round changes no stored state, and vote requests leave only once the new term and self-vote are written', async () => {
    const [f, d, e] = [nodeId('f'), nodeId('d'), nodeId('e')];
    const clock = new VirtualClock();
    const network = createPartitionableNetwork(() => clock.now());
    const storage = new VoteHoldingStorage();
    const node = await createRaftNode({ id: f, clusterConfig: { voters: [f, d, e] }, transport: network.transport(f), storage, raftConfig: { clock, random: seededRandom(7) } });
    const peer = network.transport(d);
    const requests: Array<{ preVote: boolean; term: number; writesBefore: number }> = [];
    let grantPreVotes = false;
    peer.incoming.subscribe((envelope) => {
      const decoded = decodeMessage(envelope.bytes);
      if (!decoded.ok || decoded.value.type !== 'requestVote') return;
      const request = decoded.value;
      requests.push({ preVote: request.preVote, term: request.term, writesBefore: storage.writes.length });
      if (request.preVote && grantPreVotes) peer.send(f, encodeMessage({ type: 'requestVoteResponse', term: request.term, preVote: true, granted: true, denialReason: null }));
    });
    // Unanswered pre-vote rounds: nothing is written, the term stays.
    await clock.advance(1_000);
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.every((request) => request.preVote && request.term === 1)).toBe(true);
    expect(storage.writes).toEqual([]);
    expect(node.term.value).toBe(0);
    // Granted pre-votes: the node campaigns, but its vote requests wait for the write.
    grantPreVotes = true;
    storage.holdVotes = true;
    await clock.runUntil(() => storage.writes.length > 0, 1_000);
    expect(storage.writes).toEqual(['saveTermAndVotedFor(1, f)']);
    await clock.advance(20);
    expect(requests.filter((request) => !request.preVote)).toEqual([]);
    storage.release();
    await clock.advance(1);
    expect(requests.filter((request) => !request.preVote)).toEqual([{ preVote: false, term: 1, writesBefore: 1 }]);
    await node.close();
  });
});

describe('SPEC Log replication and commitment', () => {
  it('a follower holding many entries of a deposed leader\u2019s term is brought back by conflict hints, a term at a time, not an entry at a time', async () => {
    const cluster = await startContractCluster({ seed: 207 });
    const old = await cluster.waitForLeader();
    await cluster.settle(old.propose(bytes(1)));
    await cluster.clock.advance(100);
    cluster.network.isolate(old.id);
    // Forty entries appended alone, never committed.
    const lost = Array.from({ length: 40 }, (_, value) => old.propose(bytes(value)).catch(() => 'lost'));
    await cluster.clock.runUntil(() => othersOf(cluster, old).some((node) => node.role.value === 'leader'), 5_000);
    const next = othersOf(cluster, old).find((node) => node.role.value === 'leader')!;
    // The new leader's own forty entries sit at the same indices, in its term.
    await cluster.settle(Promise.all(Array.from({ length: 40 }, (_, value) => next.propose(bytes(100 + value)))));
    expect(await cluster.settle(Promise.all(lost))).toEqual(Array.from({ length: 40 }, () => 'lost'));
    // A leader elected now starts probing the deposed one from the end of its own longer log.
    const third = othersOf(cluster, old).find((node) => node !== next)!;
    await cluster.settle(next.transferLeadership(third.id));
    const healedAt = cluster.clock.now();
    cluster.network.heal();
    await cluster.clock.runUntil(() => old.commitIndex.value === third.commitIndex.value && old.leader.value === third.id, 5_000);
    const rejections = cluster.trace.filter((event) => event.type === 'appendEntriesRejected' && event.node === third.id && event.from === old.id && event.at >= healedAt);
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(3);
    expect(await cluster.storage(old.id).entries()).toEqual(await cluster.storage(third.id).entries());
    await cluster.close();
  });
});

describe('SPEC Proposals from any role', () => {
  it('a learner\u2019s proposal is forwarded to the leader under the learner\u2019s key and resolves when it commits', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 208 });
    const leader = await cluster.waitForLeader();
    const entry = await cluster.settle(cluster.node('l').propose(bytes(5)));
    expect(entry.dedupKey?.clientId).toMatch(/^l-/);
    expect(leader.commitIndex.value).toBeGreaterThanOrEqual(entry.index);
    expect((await cluster.storage(leader.id).entries()).find((logged) => logged.index === entry.index)).toEqual(entry);
    await cluster.close();
  });

  it('a proposal on a node that knows no leader waits for one (no error meanwhile), then commits', async () => {
    const cluster = await startContractCluster({ seed: 209 });
    const leader = await cluster.waitForLeader();
    const [cut] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.isolate(cut.id);
    await cluster.clock.advance(1_000); // its pre-votes fail; it knows no leader
    expect(cut.leader.value).toBeNull();
    const call = track(cut.propose(bytes(6)));
    await cluster.clock.advance(2_000);
    expect(call.outcome).toBe('pending');
    cluster.network.heal();
    await cluster.clock.runUntil(() => call.outcome !== 'pending', 5_000);
    expect(call.outcome).toMatchObject({ value: { command: bytes(6) } });
    await cluster.close();
  });
});

describe('SPEC Proposals and reads on a node that knows no leader', () => {
  it('wait abortably: an aborted signal rejects each with its reason, and once a leader is heard again the node proposes and reads as before', async () => {
    const cluster = await startContractCluster({ seed: 225 });
    const leader = await cluster.waitForLeader();
    const [cut] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.isolate(cut.id);
    await cluster.clock.advance(1_000);
    expect(cut.leader.value).toBeNull();
    const controller = new AbortController();
    const proposal = track(cut.propose(bytes(7), { signal: controller.signal }));
    const read = track(cut.readIndex({ signal: controller.signal }));
    await cluster.clock.advance(500);
    expect([proposal.outcome, read.outcome]).toEqual(['pending', 'pending']);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await cluster.clock.advance(1);
    expect([proposal.outcome, read.outcome]).toEqual([{ error: reason }, { error: reason }]);
    cluster.network.heal();
    const entry = await cluster.settle(cut.propose(bytes(8)));
    await expect(cluster.settle(cut.readIndex())).resolves.toBeGreaterThanOrEqual(entry.index);
    await cluster.close();
  });
});

describe('SPEC Leadership transfer', () => {
  it('timeout: a target that cannot be reached abandons the transfer after an election timeout; a proposal held meanwhile then commits under the same leader and term', async () => {
    const cluster = await startContractCluster({ seed: 210 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [target] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.isolate(target.id);
    const startedAt = cluster.clock.now();
    const transfer = track(leader.transferLeadership(target.id));
    const proposal = track(leader.propose(bytes(3)));
    await cluster.clock.advance(100);
    expect(proposal.outcome).toBe('pending'); // held while handing over
    await cluster.clock.runUntil(() => transfer.outcome !== 'pending', 2_000);
    const elapsed = cluster.clock.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThanOrEqual(300 + 50);
    const error = (transfer.outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(LeadershipTransferError);
    expect((error as LeadershipTransferError).reason).toBe('timeout');
    await cluster.clock.runUntil(() => proposal.outcome !== 'pending', 2_000);
    expect(proposal.outcome).toMatchObject({ value: { command: bytes(3), term } });
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    await expect(cluster.settle(leader.propose(bytes(4)))).resolves.toMatchObject({ term });
    await cluster.close();
  });

  it('cancelled while the target is still being caught up: the leader keeps leading and the proposals it held commit under its term', async () => {
    const cluster = await startContractCluster({ seed: 211 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [target] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.block(leader.id, target.id);
    await cluster.settle(leader.propose(bytes(1)));
    const transfer = leader.transferLeadership(target.id);
    const held = track(leader.propose(bytes(2)));
    const fromFollower = track(othersOf(cluster, leader).find((node) => node !== target)!.propose(bytes(3)));
    await cluster.clock.advance(60);
    expect(held.outcome).toBe('pending');
    expect(fromFollower.outcome).toBe('pending');
    leader.cancelTransfer();
    const error = await rejectionOf(cluster, transfer);
    expect(error).toMatchObject({ name: 'LeadershipTransferError', reason: 'cancelled' });
    cluster.network.heal();
    await cluster.clock.runUntil(() => held.outcome !== 'pending', 2_000);
    expect(held.outcome).toMatchObject({ value: { command: bytes(2), term } });
    await cluster.clock.runUntil(() => fromFollower.outcome !== 'pending', 2_000);
    expect(fromFollower.outcome).toMatchObject({ value: { command: bytes(3), term } });
    await cluster.clock.advance(1_000);
    expect(leader.role.value).toBe('leader');
    expect(target.role.value).toBe('follower');
    await cluster.close();
  });

  it('the only caller aborting its signal abandons the transfer (cancelled in the trace); proposals resume on the same leader', async () => {
    const cluster = await startContractCluster({ seed: 212 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [target] = othersOf(cluster, leader) as [RaftNode];
    cluster.network.block(leader.id, target.id);
    await cluster.settle(leader.propose(bytes(1)));
    const controller = new AbortController();
    const transfer = leader.transferLeadership(target.id, { signal: controller.signal });
    const held = track(leader.propose(bytes(2)));
    await cluster.clock.advance(20);
    const reason = new Error('no longer wanted');
    controller.abort(reason);
    await expect(transfer).rejects.toBe(reason);
    cluster.network.heal();
    await cluster.clock.runUntil(() => held.outcome !== 'pending', 2_000);
    expect(held.outcome).toMatchObject({ value: { command: bytes(2), term } });
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'leadershipTransferAbandoned', node: leader.id, target: target.id, reason: 'cancelled' }));
    await cluster.clock.advance(1_000);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });

  it('leadershipLost: a proposal held by the abandoned transfer is not lost: it commits once, under the leader that took over', async () => {
    const cluster = await startContractCluster({ seed: 5 });
    const leader = await cluster.waitForLeader();
    const [target, other] = othersOf(cluster, leader) as [RaftNode, RaftNode];
    cluster.network.block(leader.id, target.id);
    await cluster.settle(leader.propose(bytes(1)));
    cluster.network.block(leader.id, other.id);
    const transfer = leader.transferLeadership(target.id);
    const held = leader.propose(bytes(42));
    const error = await rejectionOf(cluster, transfer);
    expect(error).toMatchObject({ name: 'LeadershipTransferError', reason: 'leadershipLost' });
    cluster.network.heal();
    const entry = await cluster.settle(held);
    const next = cluster.leader()!;
    expect(next).not.toBe(leader);
    expect(entry.term).toBe(next.term.value);
    expect((await cluster.storage(next.id).entries()).filter((logged) => logged.command.length === 1 && logged.command[0] === 42)).toEqual([entry]);
    await cluster.close();
  });

  it('notVoter: a transfer to a learner fails at once and holds no proposal', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 213 });
    const leader = await cluster.waitForLeader();
    const transfer = track(leader.transferLeadership(nodeId('l')));
    const proposal = track(leader.propose(bytes(8)));
    await cluster.clock.advance(30);
    expect(transfer.outcome).toMatchObject({ error: { name: 'LeadershipTransferError', reason: 'notVoter' } });
    expect(proposal.outcome).toMatchObject({ value: { command: bytes(8) } });
    await cluster.close();
  });

  it('close() rejects a transfer in progress with RaftClosedError; cancelTransfer with none in progress, or on a follower, changes nothing', async () => {
    const cluster = await startContractCluster({ seed: 214 });
    const leader = await cluster.waitForLeader();
    const term = leader.term.value;
    const [target, other] = othersOf(cluster, leader) as [RaftNode, RaftNode];
    leader.cancelTransfer();
    other.cancelTransfer();
    await cluster.clock.advance(500);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    await expect(cluster.settle(leader.propose(bytes(1)))).resolves.toMatchObject({ term });
    cluster.network.isolate(target.id);
    const transfer = track(leader.transferLeadership(target.id));
    await cluster.clock.advance(50);
    await leader.close();
    await cluster.clock.advance(1);
    expect(transfer.outcome).toMatchObject({ error: expect.any(RaftClosedError) });
    await cluster.close();
  });
});

describe('SPEC Reads', () => {
  it('on a follower the request goes to the leader; the index is at least the leader\u2019s commit index when the call began, and nothing is answered while the leader is unreachable', async () => {
    const cluster = await startContractCluster({ seed: 215 });
    const leader = await cluster.waitForLeader();
    const [follower, third] = othersOf(cluster, leader) as [RaftNode, RaftNode];
    await cluster.settle(leader.propose(bytes(1)));
    // The follower lags: its commit index is behind the leader's.
    cluster.network.block(leader.id, follower.id);
    await cluster.settle(leader.propose(bytes(2)));
    const leaderCommit = leader.commitIndex.value;
    expect(follower.commitIndex.value).toBeLessThan(leaderCommit);
    const sentBefore = cluster.network.sent.length;
    const read = track(follower.readIndex());
    await cluster.clock.advance(100);
    expect(read.outcome).toBe('pending'); // the leader's answer cannot arrive
    expect(cluster.network.sent.slice(sentBefore).some((frame) => frame.from === follower.id && frame.to === leader.id)).toBe(true);
    expect(cluster.network.sent.slice(sentBefore).some((frame) => frame.from === follower.id && frame.to === third.id)).toBe(false);
    cluster.network.heal();
    await cluster.clock.runUntil(() => read.outcome !== 'pending', 2_000);
    expect((read.outcome as { value: number }).value).toBeGreaterThanOrEqual(leaderCommit);
    await cluster.close();
  });

  it('the leader confirms a read only with acknowledgements of a round begun after the call: answers to earlier heartbeats do not count', async () => {
    const cluster = await startContractCluster({ seed: 216 });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    await cluster.clock.advance(200);
    for (const follower of othersOf(cluster, leader)) cluster.network.block(follower.id, leader.id);
    const read = track(leader.readIndex());
    await cluster.clock.advance(150);
    expect(read.outcome).toBe('pending');
    expect(leader.role.value).toBe('leader');
    cluster.network.heal();
    await cluster.clock.runUntil(() => read.outcome !== 'pending', 2_000);
    expect((read.outcome as { value: number }).value).toBe(leader.commitIndex.value);
    await cluster.close();
  });

  it('a read on a leader cut off from the cluster is never served by it: it is retried through the next leader, at that leader\u2019s term', async () => {
    const cluster = await startContractCluster({ seed: 217 });
    const old = await cluster.waitForLeader();
    await cluster.settle(old.propose(bytes(1)));
    await cluster.clock.advance(100);
    cluster.network.isolate(old.id);
    const read = track(old.readIndex());
    await cluster.clock.runUntil(() => othersOf(cluster, old).some((node) => node.role.value === 'leader'), 5_000);
    expect(read.outcome).toBe('pending');
    expect(cluster.trace.filter((event) => event.type === 'readIndexConfirmed' && event.node === old.id)).toEqual([]);
    const next = cluster.leader()!;
    const committed = await cluster.settle(next.propose(bytes(2)));
    cluster.network.heal();
    await cluster.clock.runUntil(() => read.outcome !== 'pending', 5_000);
    expect((read.outcome as { value: number }).value).toBeGreaterThanOrEqual(committed.index);
    await cluster.close();
  });

  it('concurrent reads share one round and are served at one index', async () => {
    const cluster = await startContractCluster({ seed: 218 });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    await cluster.clock.advance(10);
    const sentBefore = cluster.network.sent.length;
    const indices = await cluster.settle(Promise.all(Array.from({ length: 20 }, () => leader.readIndex())));
    expect(new Set(indices).size).toBe(1);
    // One heartbeat round: at most one frame to each follower.
    const frames = cluster.network.sent.slice(sentBefore).filter((frame) => frame.from === leader.id);
    expect(frames.length).toBeLessThanOrEqual(2);
    await cluster.close();
  });

  it('awaitRead resolves only once the caller\u2019s applied index reaches the read index; aborted meanwhile it rejects with the reason', async () => {
    const cluster = await startContractCluster({ seed: 219 });
    const leader = await cluster.waitForLeader();
    const [follower] = othersOf(cluster, leader) as [RaftNode];
    await cluster.settle(leader.propose(bytes(1)));
    const applied = createWatchable(0);
    const read = track(awaitRead(follower, applied));
    await cluster.clock.advance(200);
    expect(read.outcome).toBe('pending');
    const target = leader.commitIndex.value;
    applied.set(target - 1);
    await cluster.clock.advance(10);
    expect(read.outcome).toBe('pending');
    applied.set(target);
    await cluster.clock.advance(1);
    expect(read.outcome).toEqual({ value: target });
    const controller = new AbortController();
    const reason = new Error('enough');
    const aborted = track(awaitRead(follower, createWatchable(0), { signal: controller.signal }));
    await cluster.clock.advance(200);
    expect(aborted.outcome).toBe('pending');
    controller.abort(reason);
    await cluster.clock.advance(1);
    expect(aborted.outcome).toEqual({ error: reason });
    await expect(cluster.settle(follower.readIndex())).resolves.toBeGreaterThanOrEqual(target);
    await cluster.close();
  });

  it('a read on the leader aborted while its round is out rejects with the reason, leaving the leader serving reads; close() rejects one pending with RaftClosedError', async () => {
    const cluster = await startContractCluster({ seed: 220 });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    for (const follower of othersOf(cluster, leader)) cluster.network.block(follower.id, leader.id);
    const controller = new AbortController();
    const read = track(leader.readIndex({ signal: controller.signal }));
    await cluster.clock.advance(50);
    const reason = new Error('gave up');
    controller.abort(reason);
    await cluster.clock.advance(1);
    expect(read.outcome).toEqual({ error: reason });
    cluster.network.heal();
    await expect(cluster.settle(leader.readIndex())).resolves.toBe(leader.commitIndex.value);
    for (const follower of othersOf(cluster, leader)) cluster.network.block(follower.id, leader.id);
    const pending = track(leader.readIndex());
    await cluster.clock.advance(20);
    await leader.close();
    await cluster.clock.advance(1);
    expect(pending.outcome).toMatchObject({ error: expect.any(RaftClosedError) });
    await cluster.close();
  });

  it('a learner’s read goes to the leader too; a learner asked to transfer leadership rejects with NotLeaderError naming the leader', async () => {
    const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'], seed: 222 });
    const leader = await cluster.waitForLeader();
    const learner = cluster.node('l');
    await cluster.settle(leader.propose(bytes(1)));
    const leaderCommit = leader.commitIndex.value;
    const sentBefore = cluster.network.sent.length;
    await expect(cluster.settle(learner.readIndex())).resolves.toBeGreaterThanOrEqual(leaderCommit);
    expect(cluster.network.sent.slice(sentBefore).some((frame) => frame.from === learner.id && frame.to === leader.id)).toBe(true);
    const error = await rejectionOf(cluster, learner.transferLeadership(learner.id));
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).leader).toBe(leader.id);
    await cluster.close();
  });

  it('awaitRead waiting for the caller to apply rejects with RaftClosedError when the node closes', async () => {
    const cluster = await startContractCluster({ seed: 223 });
    const leader = await cluster.waitForLeader();
    const [follower] = othersOf(cluster, leader) as [RaftNode];
    await cluster.settle(leader.propose(bytes(1)));
    const read = track(awaitRead(follower, createWatchable(0)));
    await cluster.clock.advance(200);
    expect(read.outcome).toBe('pending');
    await follower.close();
    await cluster.clock.advance(1);
    expect(read.outcome).toMatchObject({ error: expect.any(RaftClosedError) });
    await cluster.close();
  });

  it('reads beyond maxPendingProposals on the leader are not lost: they are served once the earlier ones are', async () => {
    const cluster = await startContractCluster({ seed: 221, raftConfig: { maxPendingProposals: 1 } });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    for (const follower of othersOf(cluster, leader)) cluster.network.block(follower.id, leader.id);
    const reads = Array.from({ length: 3 }, () => leader.readIndex());
    await cluster.clock.advance(20);
    cluster.network.heal();
    const indices = await cluster.settle(Promise.all(reads), 2_000);
    expect(indices).toEqual([leader.commitIndex.value, leader.commitIndex.value, leader.commitIndex.value]);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });
});
