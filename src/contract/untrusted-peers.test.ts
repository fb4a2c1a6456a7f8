// SPEC "Untrusted peers", black-box: frames a peer forges reach a node built from the public
// entries through its RaftTransport, and what the node does is read off its trace, its metrics,
// its watchables and its storage. The frames are built with the project's codec (an outside test
// would write the same bytes by hand); every claim is checked on a running node, not on the core.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { RaftMessage } from '../core/messages.ts';
import { nodeId, seededRandom, type LogEntry, type NodeId, type RaftTraceEvent, type RaftTransport } from '../index.ts';
import { startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const [d, mallory] = [nodeId('d'), nodeId('m')];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
const appendEntries = (term: number, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[], leaderCommit = 0): RaftMessage => ({ type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound: 0 });

/** Voters a, b, c and d; d never runs a node: its id is the forger's, as is m's (no member at all). */
async function clusterWithForgers(seed: number, maxTermJump?: number): Promise<{ cluster: ContractCluster; voterForger: RaftTransport; stranger: RaftTransport }> {
  const cluster = await startContractCluster({ seed, names: ['a', 'b', 'c'], voters: ['a', 'b', 'c', 'd'], ...(maxTermJump === undefined ? {} : { raftConfig: { maxTermJump } }) });
  return { cluster, voterForger: cluster.network.transport(d), stranger: cluster.network.transport(mallory) };
}

function refusalsAt(cluster: ContractCluster, node: string, from: NodeId): string[] {
  return cluster.trace.filter((event): event is Extract<RaftTraceEvent, { type: 'frameRefused' }> => event.type === 'frameRefused' && event.node === node && event.from === from).map((event) => event.reason);
}

function followerOf(cluster: ContractCluster, leaderId: string): string {
  return [...cluster.nodes.keys()].find((name) => name !== leaderId)!;
}

describe('SPEC Untrusted peers: leader authority', () => {
  it('AppendEntries, InstallSnapshot and TimeoutNow from outside the voter set are refused, traced with the reason and counted, and change nothing', async () => {
    const { cluster, stranger } = await clusterWithForgers(31);
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    await cluster.clock.runUntil(() => target.commitIndex.value === leader.commitIndex.value, 1_000);
    const before = { term: target.term.value, commit: target.commitIndex.value, leader: target.leader.value, log: await cluster.storage(name).entries() };
    const term = before.term;
    stranger.send(target.id, encodeMessage(appendEntries(term + 1, before.log.length, before.log.at(-1)!.term, [entry(before.log.length + 1, term + 1)], before.log.length + 1)));
    stranger.send(target.id, encodeMessage({ type: 'installSnapshot', term: term + 1, meta: { lastIncludedIndex: 50, lastIncludedTerm: term + 1 }, totalBytes: 1, offset: 0, data: new Uint8Array([9]) }));
    stranger.send(target.id, encodeMessage({ type: 'timeoutNow', term }));
    await cluster.clock.advance(100);
    const reasons = refusalsAt(cluster, name, mallory);
    expect(reasons).toHaveLength(3);
    expect(reasons.slice(0, 2)).toEqual(['senderNotVoter', 'senderNotVoter']);
    expect(['senderNotVoter', 'timeoutNowNotFromLeader']).toContain(reasons[2]);
    expect(cluster.metrics.filter((metric) => metric.type === 'frameRefused' && metric.reporter === name && metric.from === mallory)).toHaveLength(3);
    expect(target.term.value).toBe(term);
    expect(target.role.value).toBe('follower');
    expect(target.leader.value).toBe(before.leader);
    expect(target.compactionFloor.value).toBe(0);
    expect(await cluster.storage(name).entries()).toEqual(before.log);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });

  it('the first leader heard in a term is pinned and persisted; a same-term leader frame from another voter is refused with leaderNotPinned', async () => {
    const { cluster, voterForger } = await clusterWithForgers(32);
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    await cluster.clock.runUntil(() => target.commitIndex.value === leader.commitIndex.value, 1_000);
    expect(await cluster.storage(name).leaderForTerm()).toEqual({ term: leader.term.value, leaderId: leader.id });
    const log = await cluster.storage(name).entries();
    const last = log.at(-1)!;
    // d, a voter, claims to lead the same term and tries to overwrite the last entry.
    voterForger.send(target.id, encodeMessage(appendEntries(last.term, last.index - 1, log.at(-2)?.term ?? 0, [{ ...entry(last.index, last.term), command: new Uint8Array([66]) }], last.index)));
    await cluster.clock.advance(100);
    expect(refusalsAt(cluster, name, d)).toEqual(['leaderNotPinned']);
    expect(await cluster.storage(name).entries()).toEqual(log);
    expect(target.leader.value).toBe(leader.id);
    // A TimeoutNow from a voter that is not the pinned leader is refused too: no election follows.
    const termBefore = target.term.value;
    voterForger.send(target.id, encodeMessage({ type: 'timeoutNow', term: termBefore }));
    await cluster.clock.advance(100);
    expect(refusalsAt(cluster, name, d)).toEqual(['leaderNotPinned', 'timeoutNowNotFromLeader']);
    expect(target.term.value).toBe(termBefore);
    expect(target.role.value).toBe('follower');
    await cluster.close();
  });
});

describe('SPEC Roles, terms and elections: leaderAlive on real votes', () => {
  it('a vote request of a higher term, not a pre-vote, is denied with leaderAlive while the leader is heard, without raising the term; one marked as a transfer is not', async () => {
    const { cluster, voterForger } = await clusterWithForgers(71);
    const answers: Array<Extract<RaftMessage, { type: 'requestVoteResponse' }>> = [];
    voterForger.incoming.subscribe((envelope) => {
      const decoded = decodeMessage(envelope.bytes);
      if (decoded.ok && decoded.value.type === 'requestVoteResponse') answers.push(decoded.value);
    });
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    await cluster.clock.advance(60);
    const term = target.term.value;
    const lastLogIndex = (await cluster.storage(name).entries()).at(-1)!.index + 10;
    voterForger.send(target.id, encodeMessage({ type: 'requestVote', term: term + 1, lastLogIndex, lastLogTerm: term, preVote: false, transfer: false }));
    await cluster.clock.advance(5);
    // The denial names the leader the target follows (elections.ts, followVouchedLeader).
    expect(answers).toEqual([{ type: 'requestVoteResponse', term, preVote: false, granted: false, denialReason: 'leaderAlive', leader: leader.id }]);
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'voteDenied', node: name, to: d, preVote: false, reason: 'leaderAlive' }));
    expect(target.term.value).toBe(term);
    await cluster.clock.advance(500);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    // Marked as part of a leadership transfer, the same request is granted at the new term.
    voterForger.send(target.id, encodeMessage({ type: 'requestVote', term: term + 1, lastLogIndex, lastLogTerm: term, preVote: false, transfer: true }));
    await cluster.clock.advance(5);
    expect(answers.at(-1)).toEqual({ type: 'requestVoteResponse', term: term + 1, preVote: false, granted: true, denialReason: null });
    expect(target.term.value).toBe(term + 1);
    await cluster.close();
  });
});

describe('SPEC Untrusted peers: ranges', () => {
  it('a frame whose term exceeds this node\u2019s by more than maxTermJump is refused (termJump); by exactly maxTermJump it is taken', async () => {
    const { cluster, voterForger } = await clusterWithForgers(33, 5);
    const leader = await cluster.waitForLeader();
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    const log = await cluster.storage(name).entries();
    const last = log.at(-1)!;
    const term = target.term.value;
    voterForger.send(target.id, encodeMessage(appendEntries(term + 6, last.index, last.term, [])));
    await cluster.clock.advance(20);
    expect(refusalsAt(cluster, name, d)).toEqual(['termJump']);
    expect(target.term.value).toBe(term);
    voterForger.send(target.id, encodeMessage(appendEntries(term + 5, last.index, last.term, [])));
    await cluster.clock.advance(1);
    expect(refusalsAt(cluster, name, d)).toEqual(['termJump']);
    expect(target.term.value).toBe(term + 5);
    expect(target.leader.value).toBe(d);
    await cluster.close();
  });

  it('entries in a batch with a term above the frame\u2019s term are refused (entryTermAboveFrame)', async () => {
    const { cluster, voterForger } = await clusterWithForgers(34);
    const leader = await cluster.waitForLeader();
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    const log = await cluster.storage(name).entries();
    const last = log.at(-1)!;
    const term = target.term.value + 1;
    // d leads term + 1 (pinned by its first frame), then sends an entry claiming term + 2.
    voterForger.send(target.id, encodeMessage(appendEntries(term, last.index, last.term, [])));
    voterForger.send(target.id, encodeMessage(appendEntries(term, last.index, last.term, [entry(last.index + 1, term + 1)])));
    await cluster.clock.advance(5);
    expect(refusalsAt(cluster, name, d)).toEqual(['entryTermAboveFrame']);
    expect((await cluster.storage(name).entries()).at(-1)).toEqual(last);
    await cluster.close();
  });

  it('a term beyond 2^53-1 is refused, and the node keeps its term and its leader', async () => {
    const { cluster, voterForger } = await clusterWithForgers(35);
    const leader = await cluster.waitForLeader();
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    const term = target.term.value;
    // The encoder refuses such a number, so the frame is written by hand: version, AppendEntries,
    // then a term varint of 2^53 (eight bytes) and the rest of a valid empty batch.
    const valid = encodeMessage(appendEntries(1, 0, 0, []));
    const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
    voterForger.send(target.id, new Uint8Array([valid[0]!, valid[1]!, ...huge, ...valid.subarray(3)]));
    await cluster.clock.advance(100);
    const seen = cluster.trace.filter((event) => event.node === name && (event.type === 'frameRefused' || event.type === 'frameUndecodable') && event.from === d);
    expect(seen).toHaveLength(1);
    expect(target.term.value).toBe(term);
    expect(target.leader.value).toBe(leader.id);
    await cluster.close();
  });
});

describe('SPEC Untrusted peers: nonces', () => {
  it('forward and read answers from a peer that was not asked are discarded: the calls settle only with the leader\u2019s answer', async () => {
    const { cluster, voterForger } = await clusterWithForgers(36);
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    // The leader hears the follower but its answers do not arrive for now.
    cluster.network.block(leader.id, target.id);
    let proposed: LogEntry | null = null;
    let read: number | null = null;
    const proposal = target.propose(new Uint8Array([77]));
    void proposal.then((value) => (proposed = value), () => {});
    const reading = target.readIndex();
    void reading.then((value) => (read = value), () => {});
    await cluster.clock.advance(5);
    for (let correlationId = 0; correlationId < 64; correlationId += 1) {
      voterForger.send(target.id, encodeMessage({ type: 'forwardProposeResponse', correlationId, outcome: { type: 'appended', index: 1, term: 1 } }));
      voterForger.send(target.id, encodeMessage({ type: 'readIndexResponse', correlationId, readIndex: 1 }));
    }
    await cluster.clock.advance(20);
    expect(proposed).toBeNull();
    expect(read).toBeNull();
    cluster.network.heal();
    const entry = await cluster.settle(proposal);
    expect(entry.command).toEqual(new Uint8Array([77]));
    expect((await cluster.storage(leader.id).entries()).find((logged) => logged.index === entry.index)?.command).toEqual(new Uint8Array([77]));
    expect(await cluster.settle(reading)).toBeGreaterThanOrEqual(2);
    await cluster.close();
  });
});

describe('SPEC Untrusted peers: nothing a peer sends can throw inside the engine', () => {
  it('undecodable frames (empty, truncated, trailing bytes, an overlong varint, an entry count or length far beyond the limits) are dropped with frameUndecodable naming the sender', async () => {
    const { cluster, stranger } = await clusterWithForgers(39);
    const leader = await cluster.waitForLeader();
    const name = followerOf(cluster, leader.id);
    const target = cluster.node(name);
    const valid = encodeMessage(appendEntries(target.term.value, 1, 1, [], 1));
    const forward = encodeMessage({ type: 'forwardPropose', correlationId: 1, command: new Uint8Array(4), dedupKey: null, proposerCommitIndex: 0 });
    const [version, appendType] = [valid[0]!, valid[1]!];
    const frames = [
      new Uint8Array(0),
      valid.subarray(0, valid.length - 1),
      new Uint8Array([...valid, 0]),
      new Uint8Array([version, appendType, 0x83, 0x00, 1, 1, 1, 0, 0]),
      new Uint8Array([version, appendType, 1, 1, 1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      new Uint8Array([forward[0]!, forward[1]!, 1, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    ];
    for (const frame of frames) stranger.send(target.id, frame);
    await cluster.clock.advance(50);
    const dropped = cluster.trace.filter((event): event is Extract<RaftTraceEvent, { type: 'frameUndecodable' }> => event.type === 'frameUndecodable' && event.node === name);
    expect(dropped).toHaveLength(frames.length);
    expect(dropped.every((event) => event.from === mallory && event.reason.length > 0)).toBe(true);
    expect(cluster.metrics.filter((metric) => metric.type === 'frameUndecodable' && metric.reporter === name)).toHaveLength(frames.length);
    expect(target.leader.value).toBe(leader.id);
    await expect(cluster.settle(target.propose(new Uint8Array([5])))).resolves.toMatchObject({ command: new Uint8Array([5]) });
    await cluster.close();
  });

  it('mutated copies of every kind of frame, from a voter and a stranger, leave every node running and the cluster committing', async () => {
    const { cluster, voterForger, stranger } = await clusterWithForgers(37);
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(new Uint8Array([1])));
    const term = leader.term.value;
    const samples: RaftMessage[] = [
      { type: 'requestVote', term: term + 1, lastLogIndex: 9, lastLogTerm: term, preVote: true, transfer: true },
      { type: 'requestVoteResponse', term, preVote: false, granted: true, denialReason: null },
      appendEntries(term, 1, 1, [entry(2, term), entry(3, term)], 3),
      { type: 'appendEntriesResponse', term, success: true, matchIndex: 40, conflictIndex: 2, conflictTerm: 1, readRound: 3 },
      { type: 'installSnapshot', term, meta: { lastIncludedIndex: 3, lastIncludedTerm: term, config: { old: null, new: { voters: [d] } } }, totalBytes: 4, offset: 0, data: new Uint8Array([1, 2, 3, 4]) },
      { type: 'installSnapshotResponse', term, lastIncludedIndex: 3, nextOffset: 9, installed: true },
      { type: 'timeoutNow', term },
      { type: 'forwardPropose', correlationId: 1, command: new Uint8Array([5]), dedupKey: null, proposerCommitIndex: 0 },
      { type: 'forwardProposeResponse', correlationId: 1, outcome: { type: 'appended', index: 2, term } },
      { type: 'readIndexRequest', correlationId: 1 },
      { type: 'readIndexResponse', correlationId: 1, readIndex: 2 },
      { type: 'notMember', term, configIndex: 1 },
    ];
    const random = seededRandom(37);
    const failures: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void failures.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (let round = 0; round < 40; round += 1) {
        for (const sample of samples) {
          const frame = encodeMessage(sample).slice();
          const flips = 1 + Math.floor(random() * 3);
          for (let flip = 0; flip < flips; flip += 1) frame[Math.floor(random() * frame.length)] = Math.floor(random() * 256);
          for (const to of cluster.nodes.values()) (random() < 0.5 ? voterForger : stranger).send(to.id, frame);
        }
        await cluster.clock.advance(10);
      }
      await cluster.clock.advance(1_000);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(failures).toEqual([]);
    const current = await cluster.waitForLeader();
    const committed = await cluster.settle(current.propose(new Uint8Array([2])));
    await cluster.clock.runUntil(() => [...cluster.nodes.values()].every((node) => node.commitIndex.value >= committed.index), 2_000);
    for (const node of cluster.nodes.values()) expect(node.commitIndex.value, node.id).toBeGreaterThanOrEqual(committed.index);
    expect(cluster.trace.some((event) => event.type === 'frameUndecodable' || event.type === 'frameRefused')).toBe(true);
    await cluster.close();
  });
});

describe('SPEC Untrusted peers: wedge', () => {
  it('a node that keeps refusing higher-term frames for the term jump emits wedgeSuspected once, naming the leader, both terms, its voters and the gate; refused answers to its own pre-votes are no wedge', async () => {
    const cluster = await startContractCluster({ seed: 38, raftConfig: { maxTermJump: 1 } });
    const leader = await cluster.waitForLeader();
    const [behind, next] = [...cluster.nodes.keys()].filter((name) => name !== leader.id) as [string, string];
    cluster.network.isolate(nodeId(behind));
    // Two transfers: the others' term is two ahead of the cut-off node's, beyond its jump bound.
    await cluster.settle(leader.transferLeadership(nodeId(next)));
    await cluster.settle(cluster.node(next).transferLeadership(leader.id));
    const localTerm = cluster.node(behind).term.value;
    expect(leader.term.value).toBeGreaterThan(localTerm + 1);
    cluster.network.heal();
    await cluster.clock.advance(20_000);
    // Its leader's heartbeats and the other voter's answers to its pre-votes both carry the term it
    // refuses. The heartbeats are what it needs to make progress: the leader is named, once, however
    // long it lasts. The answers are refused too, but are no wedge of their own (each voter used to
    // be named as well).
    const wedges = cluster.metrics.filter((metric): metric is Extract<typeof metric, { type: 'wedgeSuspected' }> => metric.type === 'wedgeSuspected' && metric.reporter === behind);
    expect(wedges.map((wedge) => wedge.from)).toEqual([leader.id]);
    expect(refusalsAt(cluster, behind, nodeId(next))).toContain('termJump');
    for (const wedge of wedges) {
      expect(wedge).toMatchObject({ type: 'wedgeSuspected', localTerm, remoteTerm: leader.term.value, gate: 'termJump' });
      expect([...wedge.voters].sort()).toEqual(['a', 'b', 'c']);
    }
    expect(refusalsAt(cluster, behind, leader.id)).toContain('termJump');
    // It never adopted the forbidden term, and the others were not disturbed.
    expect(cluster.node(behind).term.value).toBe(localTerm);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });
});
