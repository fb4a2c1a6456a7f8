import { describe, it, expect } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type RaftNode, type RaftTransport, type NodeId, type RaftMetric } from '../../index.ts';
import { VirtualClock, createSimulatedNetwork, seededRandom } from '../../testing/index.ts';
import { enc, collect } from './harness.test-support.ts';

function bounded(inner: RaftTransport, max: number, oversize: { from: NodeId; size: number }[]): RaftTransport {
  return {
    selfId: inner.selfId, peers: inner.peers, incoming: inner.incoming, maxPayloadBytes: max,
    send(to, bytes) { if (bytes.length > max) { oversize.push({ from: inner.selfId, size: bytes.length }); return; } inner.send(to, bytes); },
  };
}

async function cluster(max: number, extra: { snapshotChunkCeiling?: number } = {}) {
  const clock = new VirtualClock();
  const net = createSimulatedNetwork(clock, seededRandom(5), { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 });
  const ids = ['a', 'b', 'c'].map(nodeId);
  const oversize: { from: NodeId; size: number }[] = [];
  const nodes = new Map<string, RaftNode>();
  for (const [k, id] of ids.entries()) {
    const p = createRaftNode({ id, clusterConfig: { voters: ids }, transport: bounded(net.transport(id), max, oversize), storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(k + 20), electionTimeoutMin: k === 0 ? 150 : 400, electionTimeoutMax: k === 0 ? 160 : 500, ...extra } });
    let n: RaftNode | undefined; void p.then((x) => (n = x));
    await clock.runUntil(() => n !== undefined, 100);
    nodes.set(id, n!);
  }
  await clock.runUntil(() => nodes.get('a')!.role.value === 'leader', 2000);
  return { clock, net, nodes, oversize, close: async () => { const c = [...nodes.values()].map((n) => n.close()); await clock.advance(100); await Promise.all(c); } };
}

describe('SPEC: batches (and snapshot chunks) respect the transport maxPayloadBytes', () => {
  it('many pipelined 700-byte commands over a 4 KiB transport: no oversize frame, all commit', async () => {
    const c = await cluster(4096);
    const a = c.nodes.get('a')!;
    let done = 0;
    for (let i = 0; i < 60; i++) void a.propose(new Uint8Array(700).fill(i)).then(() => done++);
    await c.clock.runUntil(() => done === 60, 10000);
    expect(done).toBe(60);
    expect(c.oversize).toEqual([]);
    await c.close();
  });

  it('a 40 KiB snapshot over a 4 KiB transport with the default chunk ceiling installs (chunks fit the transport)', async () => {
    const c = await cluster(4096);
    const a = c.nodes.get('a')!;
    const cNode = c.nodes.get('c')!;
    c.net.isolate(nodeId('c'));
    let done = 0;
    for (let i = 0; i < 3; i++) void a.propose(enc('x' + i)).then(() => done++);
    await c.clock.runUntil(() => done === 3, 2000);
    const state = new Uint8Array(40 * 1024).map((_, k) => k & 255);
    a.publishSnapshot({ throughIndex: a.commitIndex.value, state });
    c.nodes.get('b')!.publishSnapshot({ throughIndex: a.commitIndex.value, state });
    await c.clock.advance(20);
    const cc = collect(cNode.committed());
    c.net.heal();
    const ok = await c.clock.runUntil(() => cc.items.some((x) => x.type === 'install'), 10000);
    expect(c.oversize).toEqual([]);
    expect(ok).toBe(true);
    cc.stop();
    await c.close();
  });

  it('snapshot chunks are at most snapshotChunkCeiling bytes (plus framing)', async () => {
    const c = await cluster(1 << 20, { snapshotChunkCeiling: 1000 });
    const sizes: number[] = [];
    c.net.onSend = (from, to, bytes) => { if (from === 'a' && to === 'c') sizes.push(bytes.length); };
    const a = c.nodes.get('a')!;
    c.net.isolate(nodeId('c'));
    let done = 0;
    for (let i = 0; i < 3; i++) void a.propose(enc('x' + i)).then(() => done++);
    await c.clock.runUntil(() => done === 3, 2000);
    const state = new Uint8Array(30_000).map((_, k) => k & 255);
    a.publishSnapshot({ throughIndex: a.commitIndex.value, state });
    await c.clock.advance(20);
    const cc = collect(c.nodes.get('c')!.committed());
    c.net.heal();
    await c.clock.runUntil(() => cc.items.some((x) => x.type === 'install'), 10000);
    expect(Math.max(...sizes)).toBeLessThan(1000 + 200);
    cc.stop();
    await c.close();
  });
});

describe('SPEC: a node at the term ceiling stops campaigning', () => {
  it('a lone voter stored at term 2^53-1 reports electionSuppressedTermCeiling and does not throw', async () => {
    const clock = new VirtualClock();
    const net = createSimulatedNetwork(clock, seededRandom(5));
    const s = new InMemoryRaftStorage();
    await s.saveTermAndVotedFor(Number.MAX_SAFE_INTEGER, null);
    const metrics: RaftMetric[] = [];
    const p = createRaftNode({ id: nodeId('a'), clusterConfig: { voters: [nodeId('a')] }, transport: net.transport(nodeId('a')), storage: s, raftConfig: { clock, random: seededRandom(1) }, onMetric: (m) => metrics.push(m) });
    let n: RaftNode | undefined; let err: unknown;
    p.then((x) => (n = x), (e) => (err = e));
    await clock.runUntil(() => n !== undefined || err !== undefined, 100);
    expect(err).toBeUndefined();
    await clock.advance(2000);
    expect(metrics.some((m) => m.type === 'electionSuppressedTermCeiling')).toBe(true);
    expect(n!.stopped.value).toBeNull();
    expect(n!.role.value).not.toBe('leader');
    const c = n!.close(); await clock.advance(50); await c;
  });
});
