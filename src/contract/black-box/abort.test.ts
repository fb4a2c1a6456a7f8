import { describe, it, expect } from 'vitest';
import { nodeId, awaitRead, createWatchable } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('API.md: aborting a signal rejects that call with the signal reason and leaves the node healthy', () => {
  it('already-aborted signals reject every call with the reason, nothing is appended', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'] });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const f = h.node(h.ids.find((i) => i !== leader.id && i !== 'd')!);
    const reason = new Error('pre-aborted');
    const signal = AbortSignal.abort(reason);
    const lastBefore = (await h.storages.get(leader.id)!.entries(1)).length;
    const calls: [string, () => Promise<unknown>][] = [
      ['leader.propose', () => leader.propose(enc('x'), { signal })],
      ['follower.propose', () => f.propose(enc('y'), { signal })],
      ['leader.readIndex', () => leader.readIndex({ signal })],
      ['follower.readIndex', () => f.readIndex({ signal })],
      ['leader.changeMembership', () => leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d') }, { signal })],
      ['leader.transferLeadership', () => leader.transferLeadership(f.id, { signal })],
      ['follower.awaitLeadership', () => f.awaitLeadership({ signal })],
      ['awaitRead', () => awaitRead(f, createWatchable(0), { signal })],
    ];
    for (const [name, call] of calls) {
      const r = await h.settle(call(), 200);
      expect(r, name).toBeDefined();
      expect(r!.ok, name).toBe(false);
      expect(r!.error, name).toBe(reason);
    }
    await h.clock.advance(300);
    expect(leader.role.value).toBe('leader');
    const after = await h.storages.get(leader.id)!.entries(1);
    expect(after.length).toBe(lastBefore);
    const ok = await h.settle(f.propose(enc('z')));
    expect(ok?.ok).toBe(true);
    await h.closeAll();
  });

  it('aborting a transfer call mid-way rejects it with the reason; leader keeps working', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(target);
    const ac = new AbortController();
    const p = leader.transferLeadership(target, { signal: ac.signal });
    await h.clock.advance(20);
    ac.abort('stop');
    const r = await h.settle(p, 50);
    expect(r?.error).toBe('stop');
    const w = await h.settle(leader.propose(enc('after')), 1000);
    expect(w?.ok).toBe(true);
    await h.closeAll();
  });

  it('aborting a leader proposal in flight rejects with the reason; the node stays healthy', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    h.net.conditions = { minDelayMs: 50, maxDelayMs: 60, dropProbability: 0, duplicateProbability: 0 };
    const ac = new AbortController();
    const p = leader.propose(enc('abort-me'), { signal: ac.signal });
    await h.clock.advance(5);
    ac.abort('enough');
    const r = await h.settle(p, 50);
    expect(r?.error).toBe('enough');
    h.net.conditions = { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 };
    const w = await h.settle(leader.propose(enc('next')), 1000);
    expect(w?.ok).toBe(true);
    await h.closeAll();
  });
});
