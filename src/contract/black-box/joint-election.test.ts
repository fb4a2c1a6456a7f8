import { describe, it, expect } from 'vitest';
import { nodeId } from '../../index.ts';
import { harness } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('SPEC Membership: elections use the latest config in the log, committed or not (joint needs both majorities)', () => {
  it('a follower holding an uncommitted C_old,new cannot win on the old majority alone', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c'], learners: ['d', 'e'], startAll: false });
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    for (const id of ['b', 'c', 'd', 'e']) await h.start(nodeId(id), { raftConfig: { electionTimeoutMin: 400, electionTimeoutMax: 500 } });
    const L = await h.waitLeader();
    expect(L.id).toBe('a');
    await h.clock.advance(200);
    await h.stop(nodeId('d'));
    await h.stop(nodeId('e'));
    h.net.isolate(nodeId('c'));
    void L.changeMembership({ voters: N('a', 'b', 'c', 'd', 'e') }).catch(() => {});
    await h.clock.advance(20);
    expect((await h.storages.get(nodeId('b'))!.entries(1)).some((e) => e.config?.old)).toBe(true);
    expect([...h.node('b').membership.value.voters].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    await h.stop(nodeId('a'));
    h.net.heal();
    await h.clock.advance(4000);
    expect(h.node('b').role.value).not.toBe('leader');
    expect(h.node('c').role.value).not.toBe('leader');
    await h.start(nodeId('d'), { raftConfig: { electionTimeoutMin: 400, electionTimeoutMax: 500 } });
    const ok = await h.clock.runUntil(() => ['b', 'c', 'd'].some((i) => h.node(i).role.value === 'leader'), 5000);
    expect(ok).toBe(true);
    await h.closeAll();
  });
});
