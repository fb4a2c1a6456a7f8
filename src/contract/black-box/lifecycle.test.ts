import { describe, it, expect } from 'vitest';
import { nodeId, InMemoryRaftStorage, type LogEntry } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

class FailingStorage extends InMemoryRaftStorage {
  fail = false;
  override async appendEntries(e: readonly LogEntry[]) { if (this.fail) throw new Error('disk on fire'); return super.appendEntries(e); }
  override async writeBatch(b: Parameters<InMemoryRaftStorage['writeBatch']>[0]) { if (this.fail) throw new Error('disk on fire'); return super.writeBatch(b); }
}

describe('lifecycle', () => {
  it('committed() iterators end when the node closes', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const it1 = leader.committed()[Symbol.asyncIterator]();
    const it2 = leader.committedFrom(1)[Symbol.asyncIterator]();
    await h.settle(it2.next(), 500);
    let r1: unknown, r2: unknown;
    const p1 = it1.next().then((x) => (r1 = x), (e) => (r1 = e));
    const drain = (async () => { for (;;) { const x = await it2.next(); if (x.done) return x; } })().then((x) => (r2 = x), (e) => (r2 = e));
    const c = leader.close();
    await h.clock.advance(100);
    await h.settle(c, 100);
    await h.clock.advance(10);
    expect(r1, 'committed() after close').toBeDefined();
    expect(r2, 'committedFrom() after close').toBeDefined();
    void p1; void drain;
    await h.closeAll();
  });

  it('a leader whose storage fails: its pending proposal settles (rejects) instead of hanging', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const fs = new FailingStorage();
    h.storages.set(nodeId('a'), fs);
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 600, electionTimeoutMax: 700 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 600, electionTimeoutMax: 700 } });
    const L = await h.waitLeader();
    expect(L.id).toBe('a');
    await h.clock.advance(50);
    fs.fail = true;
    const r = await h.settle(L.propose(enc('x')), 3000);
    expect(r).toBeDefined();
    expect(r!.ok).toBe(false);
    // the others carry on
    const ok = await h.clock.runUntil(() => ['b', 'c'].some((i) => h.node(i).role.value === 'leader'), 3000);
    expect(ok).toBe(true);
    await h.closeAll();
  });
});
