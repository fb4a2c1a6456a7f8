import { describe, it, expect } from 'vitest';
import { nodeId } from '../../index.ts';
import { harness, enc, ofType } from './harness.test-support.ts';

describe('PreVote changes no state; leader pin persisted', () => {
  it('receivers of denied pre-votes keep their term; the pre-voter keeps its term', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 2000, electionTimeoutMax: 2100 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    const L = await h.waitLeader();
    const x = h.ids.find((i) => i !== L.id && i !== 'b')!;
    h.net.isolate(x);
    for (let i = 0; i < 3; i++) await h.settle(L.propose(enc('w' + i)));
    await h.clock.advance(50);
    const term = L.term.value;
    await h.stop(L.id);
    await h.clock.advance(300);
    h.net.heal();
    const bTrace = h.traces.get(nodeId('b'))!;
    const mark = bTrace.length;
    // x pre-votes several times before b's own timer (2 s) fires
    await h.clock.advance(1200);
    const denied = ofType(bTrace.slice(mark), 'voteDenied').filter((e) => e.to === x && e.preVote);
    expect(denied.length).toBeGreaterThan(1);
    expect(h.node('b').term.value).toBe(term);
    expect(await h.storages.get(nodeId('b'))!.term()).toBe(term);
    expect(h.node(x).term.value).toBe(term);
    await h.closeAll();
  });

  it('followers persist the leader of the term (leaderForTerm)', async () => {
    const h = await harness(['a', 'b', 'c']);
    const L = await h.waitLeader();
    await h.clock.advance(100);
    for (const id of h.ids.filter((i) => i !== L.id)) {
      expect(await h.storages.get(id)!.leaderForTerm()).toEqual({ term: L.term.value, leaderId: L.id });
    }
    await h.closeAll();
  });
});
