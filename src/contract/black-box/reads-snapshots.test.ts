import { describe, it, expect } from 'vitest';
import { nodeId, awaitRead, createWatchable, type Committed } from '../../index.ts';
import { harness, enc, dec, collect, ofType } from './harness.test-support.ts';

describe('SPEC Reads', () => {
  it('leader and follower readIndex cover every write acknowledged before the call', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const f = h.ids.find((i) => i !== leader.id)!;
    const w = await h.settle(h.node(f).propose(enc('w')));
    const idx = w!.value!.index;
    const r1 = await h.settle(leader.readIndex());
    const r2 = await h.settle(h.node(f).readIndex());
    expect(r1!.value).toBeGreaterThanOrEqual(idx);
    expect(r2!.value).toBeGreaterThanOrEqual(idx);
    expect(h.traces.get(leader.id)!.some((e) => e.type === 'readIndexConfirmed')).toBe(true);
    await h.closeAll();
  });

  it('a leader that has lost its quorum never serves a read', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    h.net.isolate(leader.id);
    const r = await h.settle(leader.readIndex(), 3000);
    expect(r === undefined || r.ok === false).toBe(true);
    await h.closeAll();
  });

  it('a read on a freshly elected leader waits for its no-op: result >= no-op index', async () => {
    const h = await harness(['a', 'b', 'c']);
    const l1 = await h.waitLeader();
    for (let i = 0; i < 3; i++) await h.settle(l1.propose(enc('x' + i)));
    const last = l1.commitIndex.value;
    h.net.isolate(l1.id);
    const ok = await h.clock.runUntil(() => h.ids.some((i) => i !== l1.id && h.node(i).role.value === 'leader'), 3000);
    expect(ok).toBe(true);
    const l2 = h.ids.map((i) => h.node(i)).find((n) => n.id !== l1.id && n.role.value === 'leader')!;
    const r = await h.settle(l2.readIndex());
    expect(r!.value).toBeGreaterThanOrEqual(last + 1);
    const other = h.ids.find((i) => i !== l1.id && i !== l2.id)!;
    const r2 = await h.settle(h.node(other).readIndex());
    expect(r2!.value).toBeGreaterThanOrEqual(last + 1);
    await h.closeAll();
  });

  it('a read on a follower after a leader change goes to the new leader', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const l1 = await h.waitLeader();
    h.net.isolate(l1.id);
    await h.clock.runUntil(() => h.ids.some((i) => i !== l1.id && h.node(i).role.value === 'leader'), 3000);
    const l2 = h.ids.map((i) => h.node(i)).find((n) => n.id !== l1.id && n.role.value === 'leader')!;
    const w = await h.settle(l2.propose(enc('after-change')));
    const f = h.ids.find((i) => i !== l1.id && i !== l2.id)!;
    const r = await h.settle(h.node(f).readIndex());
    expect(r!.value).toBeGreaterThanOrEqual(w!.value!.index);
    await h.closeAll();
  });

  it('awaitRead waits until the caller applied index reaches the read index', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const f = h.node(h.ids.find((i) => i !== leader.id)!);
    await h.settle(leader.propose(enc('x')));
    const applied = createWatchable(0);
    const r = awaitRead(f, applied);
    let done: number | undefined;
    void r.then((v) => (done = v));
    await h.clock.advance(200);
    expect(done).toBeUndefined();
    applied.set(f.commitIndex.value);
    await h.clock.advance(10);
    expect(done).toBeGreaterThanOrEqual(2);
    await h.closeAll();
  });

  it('abort of readIndex rejects with the reason and leaves the node healthy', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const a = await h.start(nodeId('a'));
    const ac = new AbortController();
    const p = a.readIndex({ signal: ac.signal }).then(() => 'ok', (e) => e);
    await h.clock.advance(500);
    ac.abort('why');
    await h.clock.advance(1);
    expect(await p).toBe('why');
    await h.start(nodeId('b')); await h.start(nodeId('c'));
    await h.waitLeader();
    const r = await h.settle(a.readIndex());
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });
});

describe('SPEC Snapshots and compaction', () => {
  it('publishSnapshot compacts, committedFrom below the floor starts with install, then continues with no gap/dup', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    for (let i = 0; i < 5; i++) await h.settle(leader.propose(enc('c' + i)));
    await h.clock.advance(100);
    const ci = leader.commitIndex.value;
    leader.publishSnapshot({ throughIndex: 4, state: enc('state@4') });
    await h.clock.runUntil(() => leader.compactionFloor.value >= 4, 1000);
    expect(leader.compactionFloor.value).toBe(4);
    expect(ofType(h.traces.get(leader.id)!, 'compacted').some((e) => e.throughIndex === 4)).toBe(true);
    for (const from of [1, 4, 5]) {
      const c = collect(leader.committedFrom(from));
      await h.clock.runUntil(() => c.items.length >= ci - Math.max(from, 4) + 1 + (from <= 4 ? 0 : 0), 500);
      await h.clock.advance(10);
      const first = c.items[0]!;
      if (from <= 4) {
        expect(first.type).toBe('install');
        if (first.type !== 'install') continue;
        expect(first.snapshot.throughIndex).toBe(4);
        expect(dec(first.snapshot.state)).toBe('state@4');
      } else {
        expect(first.type === 'entry' ? first.entry.index : first.type).toBe(5);
      }
      const idxs = c.items.slice(from <= 4 ? 1 : 0).map((x: Committed) => (x.type === 'entry' ? x.entry.index : x.type === 'internal' ? x.index : -1));
      const start = from <= 4 ? 5 : from;
      expect(idxs).toEqual(Array.from({ length: ci - start + 1 }, (_, k) => start + k));
      c.stop();
    }
    await h.closeAll();
  });

  it('committedFrom replay then live tail, no gap or duplicate across new commits', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    for (let i = 0; i < 3; i++) await h.settle(leader.propose(enc('c' + i)));
    const c = collect(leader.committedFrom(2));
    for (let i = 3; i < 6; i++) await h.settle(leader.propose(enc('c' + i)));
    await h.clock.advance(50);
    const idxs = c.items.map((x: Committed) => (x.type === 'entry' ? x.entry.index : x.type === 'internal' ? x.index : -1));
    expect(idxs).toEqual(Array.from({ length: leader.commitIndex.value - 1 }, (_, k) => k + 2));
    c.stop();
    await h.closeAll();
  });

  it('a node joining behind the floor receives InstallSnapshot in chunks and installs it', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], raftConfig: { snapshotChunkCeiling: 64 } });
    const leader = await h.waitLeader();
    for (let i = 0; i < 5; i++) await h.settle(leader.propose(enc('c' + i)));
    await h.clock.advance(50);
    const big = new Uint8Array(1000).map((_, k) => k % 251);
    const through = leader.commitIndex.value;
    for (const id of h.ids.filter((i) => i !== 'd')) h.node(id).publishSnapshot({ throughIndex: through, state: big });
    await h.clock.advance(50);
    const cd = collect(h.node('d').committed());
    const r = await h.settle(leader.changeMembership({ voters: [nodeId('a'), nodeId('b'), nodeId('c')], learners: [nodeId('d')] }));
    expect(r?.ok).toBe(true);
    await h.clock.runUntil(() => cd.items.some((x) => x.type === 'install'), 3000);
    const inst = ofType(cd.items, 'install')[0];
    expect(inst).toBeDefined();
    expect(inst!.snapshot.throughIndex).toBe(through);
    expect([...inst!.snapshot.state]).toEqual([...big]);
    expect(h.traces.get(nodeId('d'))!.some((e) => e.type === 'installSnapshotAccepted')).toBe(true);
    expect(h.node('d').compactionFloor.value).toBeGreaterThanOrEqual(through);
    await h.closeAll();
  });

  it('snapshotTotalCeiling: a receiver refuses a larger snapshot with a metric', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], startAll: false });
    for (const id of ['a', 'b', 'c']) await h.start(nodeId(id));
    await h.start(nodeId('d'), { raftConfig: { snapshotTotalCeiling: 100, snapshotChunkCeiling: 64 } });
    const leader = await h.waitLeader();
    for (let i = 0; i < 3; i++) await h.settle(leader.propose(enc('c' + i)));
    await h.clock.advance(50);
    for (const id of ['a', 'b', 'c']) h.node(id).publishSnapshot({ throughIndex: leader.commitIndex.value, state: new Uint8Array(1000) });
    await h.clock.advance(50);
    void leader.changeMembership({ voters: [nodeId('a'), nodeId('b'), nodeId('c')], learners: [nodeId('d')] }).catch(() => {});
    await h.clock.advance(2000);
    expect(h.metrics.get(nodeId('d'))!.some((m) => m.type === 'snapshotRejectedSizeCeiling')).toBe(true);
    await h.closeAll();
  });
});
