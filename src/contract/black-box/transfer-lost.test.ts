import { describe, it, expect } from 'vitest';
import { LeadershipTransferError } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

describe('SPEC transfer abandoned with leadershipLost', () => {
  it('the target campaigns but cannot win; the old leader, deposed by its higher term, rejects with leadershipLost', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const L = await h.waitLeader();
    await h.clock.advance(100);
    const others = h.ids.filter((i) => i !== L.id);
    const T = others[0]!;
    // T talks only with L
    h.net.partition([[L.id, T, ...others.slice(1)]]);
    for (const o of others.slice(1)) { h.net.blockOneWay(T, o); h.net.blockOneWay(o, T); }
    const r = await h.settle(L.transferLeadership(T), 3000);
    expect(r?.error).toBeInstanceOf(LeadershipTransferError);
    expect((r!.error as { reason?: unknown }).reason).toBe('leadershipLost');
    h.net.heal();
    await h.clock.advance(3000);
    const w = await h.settle(h.node(others[1]!).propose(enc('after')));
    expect(w?.ok).toBe(true);
    await h.closeAll();
  });
});
