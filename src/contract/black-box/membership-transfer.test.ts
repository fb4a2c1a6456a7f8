import { describe, it, expect } from 'vitest';
import { nodeId, NotLeaderError, MembershipChangeInProgressError, LeadershipTransferError } from '../../index.ts';
import { harness, enc, ofType } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('SPEC Membership (§6) and learners', () => {
  it('add a learner, let it catch up, promote it: joint then new; resolves with C_new', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'] });
    const leader = await h.waitLeader();
    // d started with bootstrap config {a,b,c}: it is outside, the leader adds it as learner
    const r1 = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d') }));
    expect(r1?.ok).toBe(true);
    await h.clock.runUntil(() => h.node('d').role.value === 'learner', 2000);
    expect(h.node('d').role.value).toBe('learner');
    const r2 = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c', 'd') }));
    expect(r2?.ok).toBe(true);
    expect([...r2!.value!.voters].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([...leader.membership.value.voters].sort()).toEqual(['a', 'b', 'c', 'd']);
    await h.clock.runUntil(() => h.node('d').role.value === 'follower', 2000);
    expect(h.node('d').role.value).toBe('follower');
    const all = await h.storages.get(leader.id)!.entries(1);
    const cfgs = all.filter((e) => e.config);
    expect(cfgs.at(-2)!.config!.old).not.toBeNull();
    expect(cfgs.at(-1)!.config!.old).toBeNull();
    await h.closeAll();
  });

  it('every changeMembership appends C_old,new first, even one that only adds a learner (docs/spec-readings.md, since 5dc6d93)', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'] });
    const leader = await h.waitLeader();
    const r1 = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d') }));
    expect(r1?.ok).toBe(true);
    const all = await h.storages.get(leader.id)!.entries(1);
    const cfgs = all.filter((e) => e.config);
    expect(cfgs.length).toBe(2);
    expect(cfgs[0]!.config!.old).not.toBeNull();
    expect(cfgs[1]!.config!.old).toBeNull();
    await h.closeAll();
  });

  it('one change at a time: a second change while one is uncommitted rejects with MembershipChangeInProgressError', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c'] });
    const leader = await h.waitLeader();
    const p1 = leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d') });
    const p2 = leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('e') });
    const r2 = await h.settle(p2);
    const r1 = await h.settle(p1);
    expect(r1?.ok).toBe(true);
    expect(r2?.ok).toBe(false);
    expect(r2!.error).toBeInstanceOf(MembershipChangeInProgressError);
    await h.closeAll();
  });

  it('a change while the leader cannot commit: second call rejects with MembershipChangeInProgressError', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c'] });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const others = h.ids.filter((i) => i !== leader.id);
    for (const o of others) h.net.blockOneWay(leader.id, o);
    const p1 = leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d') }).catch((e) => e);
    await h.clock.advance(20);
    const r2 = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c'), learners: N('e') }), 100);
    expect(r2?.ok).toBe(false);
    expect(r2!.error).toBeInstanceOf(MembershipChangeInProgressError);
    h.net.heal();
    await h.clock.advance(2000);
    void p1;
    await h.closeAll();
  });

  it('changeMembership on a follower rejects with NotLeaderError carrying the leader', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const f = h.ids.find((i) => i !== leader.id)!;
    const r = await h.settle(h.node(f).changeMembership({ voters: N('a', 'b') }));
    expect(r?.ok).toBe(false);
    expect(r!.error).toBeInstanceOf(NotLeaderError);
    expect((r!.error as { leader?: unknown }).leader).toBe(leader.id);
    const r2 = await h.settle(h.node(f).transferLeadership(f));
    expect(r2!.error).toBeInstanceOf(NotLeaderError);
    expect((r2!.error as { leader?: unknown }).leader).toBe(leader.id);
    await h.closeAll();
  });

  it('a leader removed from the config steps down (removedFromConfig) after committing C_new; the rest elect a leader', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const rest = h.ids.filter((i) => i !== leader.id);
    const r = await h.settle(leader.changeMembership({ voters: rest }));
    expect(r?.ok).toBe(true);
    await h.clock.runUntil(() => leader.role.value !== 'leader', 2000);
    expect(leader.role.value).not.toBe('leader');
    const ev = ofType(h.traces.get(leader.id)!, 'becomeFollower').at(-1);
    expect(ev?.reason).toBe('removedFromConfig');
    const ok = await h.clock.runUntil(() => rest.some((i) => h.node(i).role.value === 'leader'), 3000);
    expect(ok).toBe(true);
    const termBefore = Math.max(...rest.map((i) => h.node(i).term.value));
    await h.clock.advance(5000);
    // the removed node does not disrupt
    expect(Math.max(...rest.map((i) => h.node(i).term.value))).toBe(termBefore);
    await h.closeAll();
  });

  it('invalid target config is rejected', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const r = await h.settle(leader.changeMembership({ voters: [] }));
    expect(r?.ok).toBe(false);
    const r2 = await h.settle(leader.changeMembership({ voters: N('a', 'a', 'b') }));
    expect(r2?.ok).toBe(false);
    await h.closeAll();
  });
});

describe('SPEC Leadership transfer (§3.10)', () => {
  it('resolves when the target leads; target campaigns with transfer-marked vote requests', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    const r = await h.settle(leader.transferLeadership(target));
    expect(r?.ok).toBe(true);
    expect(h.node(target).role.value).toBe('leader');
    const rv = ofType(h.traces.get(target)!, 'requestVote').at(-1);
    expect(rv!.transfer).toBe(true);
    expect(ofType(h.traces.get(leader.id)!, 'leadershipTransferStarted').some((e) => e.target === target)).toBe(true);
    await h.closeAll();
  });

  it('timeout when the target is unreachable; proposals resume after abandon', async () => {
    const h = await harness(['a', 'b', 'c'], { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 300 } });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(target);
    const t0 = h.clock.now();
    const tp = leader.transferLeadership(target);
    const pp = leader.propose(enc('during'));
    const r = await h.settle(tp, 3000);
    expect(r?.ok).toBe(false);
    expect(r!.error).toBeInstanceOf(LeadershipTransferError);
    expect((r!.error as { reason?: unknown }).reason).toBe('timeout');
    expect(h.clock.now() - t0).toBeLessThanOrEqual(320);
    const ab = ofType(h.traces.get(leader.id)!, 'leadershipTransferAbandoned')[0];
    expect(ab!.reason).toBe('timeout');
    const rp = await h.settle(pp, 2000);
    expect(rp?.ok).toBe(true);
    expect(leader.role.value).toBe('leader');
    await h.closeAll();
  });

  it('cancelTransfer rejects with cancelled', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(target);
    const tp = leader.transferLeadership(target);
    await h.clock.advance(20);
    leader.cancelTransfer();
    const r = await h.settle(tp, 200);
    expect(r?.error).toBeInstanceOf(LeadershipTransferError);
    expect((r!.error as { reason?: unknown }).reason).toBe('cancelled');
    const rp = await h.settle(leader.propose(enc('after')), 2000);
    expect(rp?.ok).toBe(true);
    await h.closeAll();
  });

  it('transfer to a learner rejects with notVoter', async () => {
    const h = await harness(['a', 'b', 'c', 'l'], { voters: ['a', 'b', 'c'], learners: ['l'] });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const r = await h.settle(leader.transferLeadership(nodeId('l')));
    expect(r?.error).toBeInstanceOf(LeadershipTransferError);
    expect((r!.error as { reason?: unknown }).reason).toBe('notVoter');
    const r2 = await h.settle(leader.transferLeadership(nodeId('zz')));
    expect(r2?.error).toBeInstanceOf(LeadershipTransferError);
    expect((r2!.error as { reason?: unknown }).reason).toBe('notVoter');
    await h.closeAll();
  });

  it('target not caught up: leader brings it up to date first', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(target);
    for (let i = 0; i < 20; i++) await h.settle(leader.propose(enc('w' + i)));
    h.net.heal();
    const r = await h.settle(leader.transferLeadership(target), 3000);
    expect(r?.ok).toBe(true);
    expect(h.node(target).role.value).toBe('leader');
    await h.closeAll();
  });

  it('transfer abandoned with leadershipLost when the leader loses quorum', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(leader.id);
    const r = await h.settle(leader.transferLeadership(target), 3000);
    expect(r?.error).toBeInstanceOf(LeadershipTransferError);
    expect(['leadershipLost', 'timeout']).toContain((r!.error as { reason?: unknown }).reason);
    await h.closeAll();
  });
});
