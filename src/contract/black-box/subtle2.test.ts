import { describe, it, expect } from 'vitest';
import { nodeId, clientId, ClientSessionTable } from '../../index.ts';
import { harness, enc, collect } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('subtle rules 2', () => {
  it('an empty command commits as an application entry, not an internal marker', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const c = collect(leader.committed());
    const f = h.ids.find((i) => i !== leader.id)!;
    const r1 = await h.settle(leader.propose(new Uint8Array()));
    const r2 = await h.settle(h.node(f).propose(new Uint8Array()));
    expect(r1?.ok && r2?.ok).toBe(true);
    await h.clock.advance(50);
    expect(c.items.map((x) => x.type)).toEqual(['entry', 'entry']);
    expect(r1!.value!.isNoOp).toBe(false);
    expect(r1!.value!.dedupKey).toBeDefined();
    c.stop();
    await h.closeAll();
  });

  it('publishSnapshot beyond the commit index never moves the compaction floor past commitIndex', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.settle(leader.propose(enc('x')));
    await h.clock.advance(50);
    const ci = leader.commitIndex.value;
    let threw = false;
    try { leader.publishSnapshot({ throughIndex: ci + 10, state: enc('future') }); } catch { threw = true; }
    await h.clock.advance(100);
    expect(leader.compactionFloor.value).toBeLessThanOrEqual(leader.commitIndex.value);
    const r = await h.settle(leader.propose(enc('y')));
    expect(r?.ok || threw).toBe(true);
    await h.closeAll();
  });

  it('while joint, commitment needs a majority of the new voters too', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c'] });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    // add d and e as learners first (commits with old majority)
    const r0 = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d', 'e') }));
    expect(r0?.ok).toBe(true);
    await h.clock.advance(200);
    const oldOthers = N('a', 'b', 'c').filter((i) => i !== leader.id);
    // new config: leader + d + e; cut d and e
    h.net.isolate(nodeId('d'));
    h.net.blockOneWay(leader.id, nodeId('e'));
    h.net.partition([[leader.id, ...oldOthers], [nodeId('d')], [nodeId('e')]]);
    const before = leader.commitIndex.value;
    const cm = leader.changeMembership({ voters: [leader.id, nodeId('d'), nodeId('e')] }).then(() => 'ok', (e) => e);
    await h.clock.advance(20);
    const p = leader.propose(enc('joint')).then(() => 'ok', (e) => e);
    await h.clock.advance(1000);
    // old majority is reachable but new majority is not: nothing after the joint entry may commit
    expect(leader.commitIndex.value).toBe(before);
    h.net.heal();
    await h.clock.advance(2000);
    void cm; // 'ok', or LeadershipLostError when CheckQuorum (joint) deposed the leader: both fine
    await h.closeAll();
    void p;
  });

  it('learners do not count toward a commit quorum', async () => {
    const h = await harness(['a', 'b', 'c', 'l1', 'l2'], { voters: ['a', 'b', 'c'], learners: ['l1', 'l2'] });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const others = N('a', 'b', 'c').filter((i) => i !== leader.id);
    h.net.partition([[leader.id, nodeId('l1'), nodeId('l2')], others]);
    const before = leader.commitIndex.value;
    const p = leader.propose(enc('learners-only')).then(() => 'ok', (e) => e);
    await h.clock.advance(1000);
    expect(leader.commitIndex.value).toBe(before);
    expect(leader.role.value).not.toBe('leader'); // CheckQuorum counts voters only
    void p;
    await h.closeAll();
  });

  it('readIndex on a learner goes to the leader', async () => {
    const h = await harness(['a', 'b', 'c', 'l'], { voters: ['a', 'b', 'c'], learners: ['l'] });
    const leader = await h.waitLeader();
    const w = await h.settle(leader.propose(enc('x')));
    const r = await h.settle(h.node('l').readIndex());
    expect(r!.value).toBeGreaterThanOrEqual(w!.value!.index);
    await h.closeAll();
  });

  it('session table: auto ids of node "a" and node "a-b" are different nodes', () => {
    const t = new ClientSessionTable();
    const aId = clientId('a-0123456789abcdef');
    const abId = clientId('a-b-fedcba9876543210');
    expect(t.shouldApply({ clientId: aId, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: abId, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: aId, requestId: 2 })).toBe(true);
    expect(t.shouldApply({ clientId: abId, requestId: 2 })).toBe(true);
  });

  it('changeMembership refuses a target with a node both voter and learner, and one naming a duplicate learner', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const r = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('a') }));
    expect(r?.ok).toBe(false);
    const r2 = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d', 'd') }));
    expect(r2?.ok).toBe(false);
    await h.closeAll();
  });

  it('awaitLeadership resolves on the node that becomes leader through a transfer', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(50);
    const target = h.ids.find((i) => i !== leader.id)!;
    const al = h.node(target).awaitLeadership();
    const r0 = await h.settle(leader.awaitLeadership(), 10);
    expect(r0?.ok).toBe(true);
    await h.settle(leader.transferLeadership(target));
    const r = await h.settle(al, 100);
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });
});
