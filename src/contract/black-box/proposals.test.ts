import { describe, it, expect } from 'vitest';
import { nodeId, LeadershipLostError, RaftClosedError, type LogEntry } from '../../index.ts';
import { harness, enc, dec, collect, ofType } from './harness.test-support.ts';

describe('SPEC Proposals from any role', () => {
  it('follower and learner forward; auto dedup key <nodeId>-<hex>, increasing request ids', async () => {
    const h = await harness(['a', 'b', 'c', 'l'], { voters: ['a', 'b', 'c'], learners: ['l'] });
    const leader = await h.waitLeader();
    const f = h.ids.find((i) => i !== leader.id && i !== 'l')!;
    const r1 = await h.settle(h.node(f).propose(enc('one')));
    const r2 = await h.settle(h.node(f).propose(enc('two')));
    const r3 = await h.settle(h.node('l').propose(enc('three')));
    expect(r1?.ok && r2?.ok && r3?.ok).toBe(true);
    const e1 = r1!.value as LogEntry, e2 = r2!.value as LogEntry, e3 = r3!.value as LogEntry;
    expect(dec(e1.command)).toBe('one');
    expect(e1.dedupKey!.clientId).toMatch(new RegExp(`^${f}-[0-9a-f]+$`));
    expect(e2.dedupKey!.clientId).toBe(e1.dedupKey!.clientId);
    expect(e2.dedupKey!.requestId).toBeGreaterThan(e1.dedupKey!.requestId);
    expect(e2.index).toBeGreaterThan(e1.index);
    expect(e3.dedupKey!.clientId).toMatch(/^l-[0-9a-f]+$/);
    expect(e1.isNoOp).toBe(false);
    // the leader's stored entries agree
    const stored = await h.storages.get(leader.id)!.entries(e1.index);
    expect(stored[0]!.dedupKey).toEqual(e1.dedupKey);
    await h.closeAll();
  });

  it('propose with no leader known waits, abort rejects with the signal reason, node stays healthy', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const a = await h.start(nodeId('a'));
    const ac = new AbortController();
    const p = a.propose(enc('x'), { signal: ac.signal });
    await h.clock.advance(1000);
    const reason = new Error('my reason');
    ac.abort(reason);
    const r = await h.settle(p, 100);
    expect(r?.ok).toBe(false);
    expect(r!.error).toBe(reason);
    await h.start(nodeId('b'));
    await h.start(nodeId('c'));
    await h.waitLeader();
    const r2 = await h.settle(a.propose(enc('y')));
    expect(r2?.ok).toBe(true);
    await h.closeAll();
  });

  it('a leader losing leadership with an accepted uncommitted proposal rejects it with LeadershipLostError', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    h.net.isolate(leader.id);
    const r = await h.settle(leader.propose(enc('lost')), 5000);
    expect(r?.ok).toBe(false);
    expect(r!.error).toBeInstanceOf(LeadershipLostError);
    await h.closeAll();
  });

  it('a forward lost to a leader change is retried to the new leader with the same key; commits once', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const leader = await h.waitLeader();
    const f = h.ids.find((i) => i !== leader.id)!;
    // the old leader can receive but cannot send: it appends the forward, never replicates it
    for (const o of h.ids) if (o !== leader.id) h.net.blockOneWay(leader.id, o);
    const p = h.node(f).propose(enc('retry-me'));
    const r = await h.settle(p, 10000);
    expect(r?.ok).toBe(true);
    const entry = r!.value as LogEntry;
    expect(dec(entry.command)).toBe('retry-me');
    h.net.heal();
    await h.clock.advance(2000);
    const newLeader = h.leader()!;
    const all = await h.storages.get(newLeader.id)!.entries(1);
    const copies = all.filter((e) => e.dedupKey && e.dedupKey.clientId === entry.dedupKey!.clientId && e.dedupKey.requestId === entry.dedupKey!.requestId);
    expect(copies.length).toBe(1);
    expect(copies[0]!.index).toBe(entry.index);
    await h.closeAll();
  });

  it('metrics: proposeAccepted, proposeCommitted, proposeApplied and a slow-propose metric', async () => {
    const h = await harness(['a', 'b', 'c'], { raftConfig: { slowProposeThreshold: 1 } });
    const leader = await h.waitLeader();
    h.net.conditions = { minDelayMs: 20, maxDelayMs: 25, dropProbability: 0, duplicateProbability: 0 };
    const c = collect(leader.committed());
    const r = await h.settle(leader.propose(enc('slow')));
    expect(r?.ok).toBe(true);
    await h.clock.advance(200);
    const types = h.metrics.get(leader.id)!.map((m) => m.type);
    expect(types).toContain('proposeAccepted');
    expect(types).toContain('proposeCommitted');
    expect(types).toContain('proposeApplied');
    expect(types.some((t) => /slow/i.test(t))).toBe(true);
    c.stop();
    await h.closeAll();
  });

  it('close: idempotent, pending calls and later calls reject with RaftClosedError', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const a = await h.start(nodeId('a'));
    const p = a.propose(enc('x'));
    const q = a.readIndex();
    const pr = p.then(() => null, (e) => e);
    const qr = q.then(() => null, (e) => e);
    const c1 = a.close();
    const c2 = a.close();
    await h.clock.advance(100);
    await c1; await c2;
    expect(await pr).toBeInstanceOf(RaftClosedError);
    expect(await qr).toBeInstanceOf(RaftClosedError);
    await expect(a.propose(enc('y'))).rejects.toBeInstanceOf(RaftClosedError);
    await expect(a.readIndex()).rejects.toBeInstanceOf(RaftClosedError);
    await expect(a.changeMembership({ voters: [nodeId('a')] })).rejects.toBeInstanceOf(RaftClosedError);
    await expect(a.transferLeadership(nodeId('b'))).rejects.toBeInstanceOf(RaftClosedError);
    await expect(a.awaitLeadership()).rejects.toBeInstanceOf(RaftClosedError);
  });

  it('abort signal in options closes the node', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const ac = new AbortController();
    const { createRaftNode, InMemoryRaftStorage } = await import('../../index.ts');
    const n = await createRaftNode({ id: nodeId('a'), clusterConfig: { voters: h.ids }, transport: h.net.transport(nodeId('a')), storage: new InMemoryRaftStorage(), raftConfig: { clock: h.clock }, signal: ac.signal });
    const p = n.propose(enc('x')).then(() => null, (e) => e);
    ac.abort();
    await h.clock.advance(100);
    expect(await p).toBeInstanceOf(RaftClosedError);
  });

  it('committed() is a live tail from the moment of the call', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.settle(leader.propose(enc('before')));
    await h.clock.advance(50);
    const c = collect(leader.committed());
    await h.settle(leader.propose(enc('after')));
    await h.clock.advance(50);
    const cmds = ofType(c.items, 'entry').map((x) => dec(x.entry.command));
    expect(cmds).toEqual(['after']);
    expect(c.items[0]!.type).toBe('entry');
    c.stop();
    await h.closeAll();
  });
});
