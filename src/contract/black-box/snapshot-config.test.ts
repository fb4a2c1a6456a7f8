import { describe, it, expect } from 'vitest';
import { nodeId, type NodeId } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('SPEC: snapshot meta holds the config in force at its index, joint or not', () => {
  it('snapshots before, inside and after a joint change record the right config', async () => {
    const h = await harness(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], learners: ['d'] });
    const leader = await h.waitLeader();
    await h.settle(leader.propose(enc('x')));
    const r = await h.settle(leader.changeMembership({ voters: N('a', 'b', 'c', 'd') }));
    expect(r?.ok).toBe(true);
    await h.settle(leader.propose(enc('y')));
    await h.clock.advance(100);
    const log = await h.storages.get(leader.id)!.entries(1);
    const joint = log.find((e) => e.config?.old)!.index;
    const fin = log.find((e) => e.config && !e.config.old && e.index > joint)!.index;
    const followers = h.ids.filter((i) => i !== leader.id);
    const cases: [NodeId, number][] = [[followers[0]!, joint - 1], [followers[1]!, joint], [followers[2]!, fin]];
    for (const [id, through] of cases) h.node(id).publishSnapshot({ throughIndex: through, state: enc('s' + through) });
    await h.clock.advance(100);
    const m0 = (await h.storages.get(cases[0]![0])!.loadSnapshot())!.meta;
    const m1 = (await h.storages.get(cases[1]![0])!.loadSnapshot())!.meta;
    const m2 = (await h.storages.get(cases[2]![0])!.loadSnapshot())!.meta;
    expect(m0.lastIncludedIndex).toBe(joint - 1);
    if (m0.config) { expect(m0.config.old).toBeNull(); expect([...m0.config.new.voters].sort()).toEqual(['a', 'b', 'c']); }
    expect(m1.config?.old).not.toBeNull();
    expect([...m1.config!.old!.voters].sort()).toEqual(['a', 'b', 'c']);
    expect([...m1.config!.new.voters].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(m2.config?.old ?? null).toBeNull();
    expect([...m2.config!.new.voters].sort()).toEqual(['a', 'b', 'c', 'd']);
    // restart the one holding the joint snapshot: membership is the latest config (C_new, in its log after the snapshot)
    const j = cases[1]![0];
    await h.stop(j);
    await h.start(j);
    expect([...h.node(j).membership.value.voters].sort()).toEqual(['a', 'b', 'c', 'd']);
    await h.closeAll();
  });
});
