import { describe, it, expect } from 'vitest';
import { harness, enc, ofType } from './harness.test-support.ts';

describe('five-node rules', () => {
  it('transfer: followers that heard the leader recently still grant the transfer vote', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const others = h.ids.filter((i) => i !== leader.id);
    const target = others[0]!;
    // the old leader's own vote alone is not enough: cut it from the target's vote request path is impossible, so check denials instead
    const r = await h.settle(leader.transferLeadership(target));
    expect(r?.ok).toBe(true);
    for (const id of others) {
      const den = ofType(h.traces.get(id)!, 'voteDenied').filter((e) => e.to === target && e.reason === 'leaderAlive');
      expect(den, id).toEqual([]);
    }
    await h.closeAll();
  });

  it('CheckQuorum boundary: hearing 2 of 4 followers keeps a 5-node leader; hearing 1 does not', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const others = h.ids.filter((i) => i !== leader.id);
    h.net.partition([[leader.id, others[0]!, others[1]!], [others[2]!, others[3]!]]);
    await h.clock.advance(2000);
    expect(leader.role.value).toBe('leader');
    const w = await h.settle(leader.propose(enc('majority')));
    expect(w?.ok).toBe(true);
    h.net.partition([[leader.id, others[0]!], [others[1]!, others[2]!, others[3]!]]);
    const ok = await h.clock.runUntil(() => leader.role.value !== 'leader', 1000);
    expect(ok).toBe(true);
    await h.closeAll();
  });

  it('a minority leader\'s reads and writes never succeed; the majority moves on', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const L = await h.waitLeader();
    await h.clock.advance(100);
    const others = h.ids.filter((i) => i !== L.id);
    h.net.partition([[L.id, others[0]!], others.slice(1)]);
    const w = L.propose(enc('minority')).then(() => 'ok', (e) => e);
    const rd = L.readIndex().then(() => 'ok', (e) => e);
    const fr = h.node(others[0]!).readIndex().then(() => 'ok', (e) => e);
    await h.clock.runUntil(() => others.slice(1).some((i) => h.node(i).role.value === 'leader'), 3000);
    const L2 = h.node(others.slice(1).find((i) => h.node(i).role.value === 'leader')!);
    const w2 = await h.settle(L2.propose(enc('majority')));
    expect(w2?.ok).toBe(true);
    await h.clock.advance(1000);
    expect(await Promise.race([w, Promise.resolve('pending')])).not.toBe('ok');
    expect(await Promise.race([rd, Promise.resolve('pending')])).not.toBe('ok');
    // a follower on the minority side: its read must not come back below the majority's write
    const frv = await Promise.race([fr, Promise.resolve('pending')]);
    expect(frv).not.toBe('ok');
    h.net.heal();
    await h.clock.advance(2000);
    await h.closeAll();
  });
});
