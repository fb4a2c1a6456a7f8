import { describe, it, expect } from 'vitest';
import { nodeId, MembershipChangeInProgressError, type RaftTraceEvent } from '../../index.ts';
import { harness } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('a new leader that inherits an uncommitted config entry', () => {
  it('rejects a change with MembershipChangeInProgressError and completes the joint change itself', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], startAll: false });
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 300, electionTimeoutMax: 320 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 900, electionTimeoutMax: 1000 } });
    await h.start(nodeId('d'), { raftConfig: { electionTimeoutMin: 900, electionTimeoutMax: 1000 } });
    const L = await h.waitLeader();
    expect(L.id).toBe('a');
    const r0 = await h.settle(L.changeMembership({ voters: N('a', 'b', 'c'), learners: N('d') }));
    expect(r0?.ok).toBe(true);
    await h.clock.advance(100);
    // a can reach only b: the joint entry {a,b,c}->{a,b,c,d} reaches b, cannot commit (needs 3 of 4 new... and 2 of 3 old: a,b ok; new: a,b of a,b,c,d is not a majority)
    h.net.partition([[nodeId('a'), nodeId('b')], [nodeId('c')], [nodeId('d')]]);
    const change = L.changeMembership({ voters: N('a', 'b', 'c', 'd') }).then(() => 'ok', (e) => e);
    await h.clock.advance(30);
    expect((await h.storages.get(nodeId('b'))!.entries(1)).some((e) => e.config?.old)).toBe(true);
    // a dies; b, c, d reconnect; b (with the joint entry) wins
    await h.stop(nodeId('a'));
    h.net.heal();
    const ok = await h.clock.runUntil(() => h.node('b').role.value === 'leader', 3000);
    expect(ok).toBe(true);
    const b = h.node('b');
    const r = await h.settle(b.changeMembership({ voters: N('b', 'c', 'd') }), 1);
    if (r) expect(r!.error, 'a change right after winning, while the inherited joint entry is uncommitted').toBeInstanceOf(MembershipChangeInProgressError);
    await h.clock.advance(2000);
    const cc = h.traces.get(nodeId('b'))!.filter((e) => e.type === 'configChange') as Extract<RaftTraceEvent, { type: 'configChange' }>[];
    expect(cc.at(-1)!.joint).toBe(false);
    expect([...b.membership.value.voters].sort()).toEqual(['a', 'b', 'c', 'd']);
    void change;
    await h.closeAll();
  });
});
