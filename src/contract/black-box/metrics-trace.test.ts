// Item 3: SPEC "Observability" / API.md "Metrics and trace": every metric and trace name, in its situation.
import { describe, expect, it } from 'vitest';
import { harness, enc, type Harness } from './user-transport.test-support.ts';
import { InMemoryRaftStorage, LeadershipTransferError, nodeId, type NodeId, type RaftNode } from '../../index.ts';

const [A, B, C, D] = ['a', 'b', 'c', 'd'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];
const types = (h: Harness, node?: NodeId) => new Set(h.traces.filter((e) => !node || (e as { node?: unknown }).node === node).map((e) => e.type));
const metricTypes = (h: Harness, node?: NodeId) => new Set(h.metrics.filter((x) => !node || x.node === node).map((x) => x.m.type));

async function three(seed = 1) {
  const h = harness(['a', 'b', 'c'], seed);
  for (const id of [A, B, C]) await h.start(id);
  await h.until(() => !!h.leader());
  return h;
}

describe('trace: every event carries the node, its term and a clock reading', () => {
  it('in a run with elections, proposals, reads, config change, transfer, snapshot', async () => {
    const h = await three();
    const l = h.leader()!;
    for (let i = 0; i < 5; i++) await h.run(l.propose(enc(`x${i}`)));
    await h.run(l.readIndex());
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    await h.run(l.transferLeadership(f.id));
    await h.run(f.propose(enc('y')));
    f.publishSnapshot({ throughIndex: f.commitIndex.value, state: enc('s') });
    await h.clock.advance(50);
    expect(h.traces.length).toBeGreaterThan(20);
    h.traces.forEach((e, i) => {
      const r = e as unknown as Record<string, unknown>;
      expect(typeof r.node, JSON.stringify(e)).toBe('string');
      expect(h.nodes.has(r.node as NodeId), JSON.stringify(e)).toBe(true);
      expect(Number.isSafeInteger(r.term), JSON.stringify(e)).toBe(true);
      expect(r.at, JSON.stringify(e)).toBe(h.traceAt[i]); // the injected clock's reading at emission
    });
    await h.closeAll();
  });
});

describe('trace names (SPEC "Observability")', () => {
  it('an election and a commit: timeout, preVoteStarted, preVoteGranted, requestVote, voteGranted, becomeLeader, becomeFollower, clientRequest, appendEntries, appendEntriesAccepted, advanceCommitIndex, readIndexConfirmed', async () => {
    const h = await three();
    const l = h.leader()!;
    await h.run(l.propose(enc('x')));
    await h.run(l.readIndex());
    const t = types(h);
    for (const name of ['timeout', 'preVoteStarted', 'preVoteGranted', 'requestVote', 'voteGranted', 'becomeLeader', 'becomeFollower',
      'clientRequest', 'appendEntries', 'appendEntriesAccepted', 'advanceCommitIndex', 'readIndexConfirmed']) {
      expect(t.has(name as never), name).toBe(true);
    }
    // the real vote, not only the pre-vote, is granted and traced
    expect(h.traces.some((e) => e.type === 'voteGranted' && (e as { preVote?: boolean }).preVote !== true)).toBe(true);
    expect(h.traces.find((e) => e.type === 'becomeLeader')!.node).toBe(l.id);
    await h.closeAll();
  });

  it('a follower that stops hearing the leader while the others still do: preVoteDenied / voteDenied (leaderAlive)', async () => {
    const h = await three();
    const l = h.leader()!;
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    h.net.cut.add(`${l.id}>${f.id}`); // one way: f can still ask the others
    const before = h.traces.length;
    await h.clock.advance(1_000);
    const after = h.traces.slice(before);
    expect(after.some((e) => e.type === 'preVoteDenied' && e.node === f.id)).toBe(true);
    const denied = after.filter((e) => e.type === 'voteDenied');
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.map((e) => (e as { reason?: string }).reason)).toContain('leaderAlive');
    expect(l.role.value).toBe('leader');
    await h.closeAll();
  });

  it('voteDenied with reason logNotUpToDate, to a stale node campaigning', async () => {
    const h = await three();
    const l = h.leader()!;
    const [f1, f2] = [...h.nodes.values()].filter((n) => n !== l) as [RaftNode, RaftNode];
    h.net.isolate(f2.id);
    for (let i = 0; i < 3; i++) await h.run(l.propose(enc(`x${i}`)));
    h.net.isolate(l.id);
    h.net.heal(); h.net.isolate(l.id);
    for (const p of [l.id, f2.id]) h.net.cut.add(`${f1.id}>${p}`); // f1 hears f2 but cannot answer or campaign
    const n = h.traces.length;
    await h.clock.advance(3_000);
    const denied = h.traces.slice(n).filter((e) => e.type === 'voteDenied' && e.node === f1.id);
    expect(denied.map((e) => (e as { reason?: string }).reason)).toContain('logNotUpToDate');
    await h.closeAll();
  });

  it('a follower behind a leader change: appendEntriesRejected', async () => {
    const h = await three();
    const l = h.leader()!;
    const [f1, f2] = [...h.nodes.values()].filter((n) => n !== l) as [RaftNode, RaftNode];
    h.net.isolate(f2.id);
    for (let i = 0; i < 5; i++) await h.run(l.propose(enc(`x${i}`)));
    await h.run(l.transferLeadership(f1.id));
    h.net.heal();
    await h.clock.advance(500);
    expect(h.traces.some((e) => e.type === 'appendEntriesRejected' && e.node === f2.id)).toBe(true);
    expect(f2.commitIndex.value).toBe(f1.commitIndex.value);
    await h.closeAll();
  });

  it('a compacted leader and a node behind its floor: compacted, installSnapshot, installSnapshotAccepted', async () => {
    const h = harness(['a', 'b', 'c']);
    await h.start(A); await h.start(B);
    await h.until(() => !!h.leader());
    const l = h.leader()!;
    for (let i = 0; i < 5; i++) await h.run(l.propose(enc(`y${i}`)));
    for (const n of h.nodes.values()) n.publishSnapshot({ throughIndex: n.commitIndex.value, state: enc('state') });
    await h.until(() => l.compactionFloor.value > 0);
    expect(types(h, l.id).has('compacted')).toBe(true);
    await h.start(C);
    await h.until(() => h.nodes.get(C)!.compactionFloor.value > 0, 5_000);
    expect(types(h).has('installSnapshot')).toBe(true);
    expect(types(h).has('installSnapshotAccepted')).toBe(true);
    await h.closeAll();
  });

  it('changeMembership: configChange', async () => {
    const h = await three();
    await h.start(D);
    const l = h.leader()!;
    await h.run(l.changeMembership({ voters: [A, B, C], learners: [D] }));
    expect(types(h).has('configChange')).toBe(true);
    await h.closeAll();
  });

  it('transferLeadership then cancelTransfer: leadershipTransferStarted, leadershipTransferAbandoned', async () => {
    const h = await three();
    const l = h.leader()!;
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    h.net.isolate(f.id); // the target cannot be reached, so the transfer stays in progress
    const p = l.transferLeadership(f.id).then(() => null, (e: unknown) => e);
    await h.clock.advance(5);
    l.cancelTransfer();
    const err = await h.run(p);
    expect(err).toBeInstanceOf(LeadershipTransferError);
    expect((err as LeadershipTransferError).reason).toBe('cancelled');
    expect((err as Error).name).toBe('LeadershipTransferError');
    expect(types(h, l.id).has('leadershipTransferStarted')).toBe(true);
    expect(types(h, l.id).has('leadershipTransferAbandoned')).toBe(true);
    await h.closeAll();
  });

  it('garbage bytes: frameUndecodable, and nothing throws', async () => {
    const h = await three();
    const l = h.leader()!;
    for (const bytes of [new Uint8Array([]), new Uint8Array([0xff, 0xff, 0xff]), enc('hello world, not a frame')]) {
      expect(() => h.net.inject(A, l.id === A ? B : A, bytes)).not.toThrow();
    }
    await h.clock.advance(10);
    expect(types(h).has('frameUndecodable')).toBe(true);
    await h.run(l.propose(enc('still fine')));
    await h.closeAll();
  });

  it('a frame from outside the voter set: frameRefused with from and reason', async () => {
    const h = await three();
    const l = h.leader()!;
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    // capture a real leader->follower frame, then deliver it as if it came from a stranger
    h.net.sent.length = 0;
    await h.clock.advance(60);
    const frame = h.net.sent.find((s) => s.from === l.id && s.to === f.id)!;
    h.net.inject(nodeId('stranger'), f.id, frame.bytes);
    await h.clock.advance(1);
    const refused = h.traces.filter((e) => e.type === 'frameRefused');
    expect(refused.length).toBeGreaterThan(0);
    const r = refused[0] as unknown as { from: string; reason: string };
    expect(r.from).toBe('stranger');
    expect(typeof r.reason).toBe('string');
    await h.closeAll();
  });
});

describe('metrics (SPEC "Observability")', () => {
  it('proposeAccepted, proposeCommitted, proposeApplied (with elapsed ms), electionStarted, electionWon {term, elapsedMs}', async () => {
    const h = await three();
    const l = h.leader()!;
    await h.run(l.propose(enc('x')));
    const mt = metricTypes(h);
    for (const name of ['proposeAccepted', 'proposeCommitted', 'proposeApplied', 'electionStarted', 'electionWon']) expect(mt.has(name as never), name).toBe(true);
    const won = h.metrics.find((x) => x.m.type === 'electionWon')!;
    expect(won.node).toBe(l.id);
    expect(won.m).toMatchObject({ type: 'electionWon', term: l.term.value });
    expect(typeof (won.m as { elapsedMs: unknown }).elapsedMs).toBe('number');
    const applied = h.metrics.find((x) => x.m.type === 'proposeApplied')!.m as unknown as { elapsedMs: unknown };
    expect(typeof applied.elapsedMs).toBe('number');
    await h.closeAll();
  });

  it('electionTimedOut: a candidate whose vote replies never arrive', async () => {
    const h = harness(['a', 'b', 'c']);
    for (const id of [A, B, C]) await h.start(id);
    // drop every frame to a node while it is a candidate
    h.net.tap = (_from, to) => h.nodes.get(to)?.role.value !== 'candidate';
    await h.clock.advance(3_000);
    expect(metricTypes(h).has('electionTimedOut')).toBe(true);
    h.net.tap = null;
    await h.closeAll();
  });

  it('a slow commit (longer than slowProposeThreshold) emits a metric that a fast one does not', async () => {
    const h = harness(['a', 'b', 'c']);
    for (const id of [A, B, C]) await h.start(id, { raftConfig: { slowProposeThreshold: 20 } });
    await h.until(() => !!h.leader());
    const l = h.leader()!;
    await h.run(l.propose(enc('fast')));
    const fastTypes = metricTypes(h);
    (h.net as { latencyMs: number }).latencyMs = 30;
    await h.run(l.propose(enc('slow')));
    const added = [...metricTypes(h)].filter((t) => !fastTypes.has(t));
    expect(added.length, `metric types: ${[...metricTypes(h)].join(',')}`).toBeGreaterThan(0);
    await h.closeAll();
  });

  it('snapshotRejectedSizeCeiling: a follower refuses a snapshot bigger than its snapshotTotalCeiling', async () => {
    const h = harness(['a', 'b', 'c']);
    await h.start(A); await h.start(B);
    await h.until(() => !!h.leader());
    const l = h.leader()!;
    for (let i = 0; i < 3; i++) await h.run(l.propose(enc(`x${i}`)));
    const big = new Uint8Array(200_000).fill(7);
    for (const n of h.nodes.values()) n.publishSnapshot({ throughIndex: n.commitIndex.value, state: big });
    await h.until(() => l.compactionFloor.value > 0);
    await h.start(C, { raftConfig: { snapshotTotalCeiling: 100_000 } });
    await h.clock.advance(2_000);
    expect(metricTypes(h, C).has('snapshotRejectedSizeCeiling')).toBe(true);
    expect(h.nodes.get(C)!.compactionFloor.value).toBe(0);
    await h.closeAll();
  });

  it('wedgeSuspected: a voter started with a stale bootstrap configuration refuses the real leader', async () => {
    const h = await three();
    const l = h.leader()!;
    await h.run(l.propose(enc('x')));
    // d believes the cluster is {d, x, y}; the leader of {a,b,c} is made to talk to it by adding it as a learner
    await h.start(D, { clusterConfig: { voters: [D, nodeId('x'), nodeId('y')] } });
    await h.run(l.changeMembership({ voters: [A, B, C], learners: [D] }));
    await h.clock.advance(5_000);
    const wedge = h.metrics.filter((x) => x.m.type === 'wedgeSuspected');
    expect(wedge.length, `d trace: ${[...types(h, D)].join(',')}`).toBeGreaterThan(0);
    expect(wedge.length).toBe(1); // once
    expect(wedge[0]!.node).toBe(D);
    // SPEC "Wedge": naming the sender, both terms, its voters and the gate
    expect(wedge[0]!.m).toMatchObject({ from: l.id, localTerm: 0, remoteTerm: l.term.value, gate: 'senderNotVoter' });
    expect((wedge[0]!.m as unknown as { voters: string[] }).voters).toEqual([D, 'x', 'y']);
    await h.closeAll();
  });

  it('electionSuppressedTermCeiling: a node at the largest term does not campaign past it', async () => {
    const h = harness(['a']);
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(Number.MAX_SAFE_INTEGER, null);
    // Restore takes it (docs/spec-readings.md: a stored term up to 2^53-1 is plausible).
    await h.start(A, { storage });
    await h.clock.advance(2_000);
    expect(h.nodes.get(A)!.term.value).toBe(Number.MAX_SAFE_INTEGER);
    expect(metricTypes(h).has('electionSuppressedTermCeiling')).toBe(true);
    await h.closeAll();
  });
});
