import { describe, it, expect } from 'vitest';
import { harness, enc } from './harness.test-support.ts';

describe('forwards lost without a leader change', () => {
  it('follower propose whose forward is dropped still commits once the link heals (same leader)', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const f = h.ids.find((i) => i !== leader.id)!;
    h.net.blockOneWay(f, leader.id);
    const p = h.node(f).propose(enc('lost-forward'));
    await h.clock.advance(60);
    h.net.heal();
    const r = await h.settle(p, 5000);
    expect(leader.role.value).toBe('leader');
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });

  it('follower readIndex whose forward is dropped still resolves once the link heals (same leader)', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const f = h.ids.find((i) => i !== leader.id)!;
    h.net.blockOneWay(f, leader.id);
    const p = h.node(f).readIndex();
    await h.clock.advance(60);
    h.net.heal();
    const r = await h.settle(p, 5000);
    expect(leader.role.value).toBe('leader');
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });

  it('follower readIndex whose answer is dropped still resolves (same leader)', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const f = h.ids.find((i) => i !== leader.id)!;
    const p = h.node(f).readIndex();
    h.net.blockOneWay(leader.id, f);
    await h.clock.advance(40);
    h.net.heal();
    const r = await h.settle(p, 5000);
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });

  it('everything completes under a 30% lossy network', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    h.net.conditions = { minDelayMs: 1, maxDelayMs: 10, dropProbability: 0.3, duplicateProbability: 0.1 };
    const ps = h.ids.flatMap((id) => [h.node(id).propose(enc('p' + id)), h.node(id).readIndex()]);
    const results = await h.settle(Promise.allSettled(ps as Promise<unknown>[]), 20000).then((r) => (r?.value ?? []).map((x) => ({ ok: x.status === 'fulfilled' })));
    expect(results.map((r) => r?.ok)).toEqual(ps.map(() => true));
    void leader;
    await h.closeAll();
  });
});
