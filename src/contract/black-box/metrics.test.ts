import { describe, it, expect } from 'vitest';
import { harness, enc, collect } from './harness.test-support.ts';

describe('SPEC Observability: metrics around a proposal', () => {
  it('leader proposer gets proposeAccepted, proposeCommitted, proposeApplied with the entry index', async () => {
    const h = await harness(['a', 'b', 'c']);
    const L = await h.waitLeader();
    await h.clock.advance(50);
    const c = collect(L.committed());
    const r = await h.settle(L.propose(enc('m')));
    const idx = r!.value!.index;
    await h.clock.advance(50);
    const ms = h.metrics.get(L.id)!.filter((m) => 'index' in m && m.index === idx).map((m) => m.type);
    expect(ms).toEqual(expect.arrayContaining(['proposeAccepted', 'proposeCommitted', 'proposeApplied']));
    // Applied is when propose() resolves to its caller (the node applies nothing itself): right
    // after committed, with the same elapsed time (docs/spec-readings.md).
    const timed = h.metrics.get(L.id)!.filter((m) => (m.type === 'proposeCommitted' || m.type === 'proposeApplied') && m.index === idx);
    expect(timed.map((m) => m.type)).toEqual(['proposeCommitted', 'proposeApplied']);
    const elapsed = timed.map((m) => ('elapsedMs' in m ? m.elapsedMs : null));
    expect(elapsed[0]).toBe(elapsed[1]);
    expect(elapsed[0]).toBeGreaterThan(0);
    c.stop();
    await h.closeAll();
  });
  it('follower proposer: what it reports', async () => {
    const h = await harness(['a', 'b', 'c']);
    const L = await h.waitLeader();
    await h.clock.advance(50);
    const f = h.node(h.ids.find((i) => i !== L.id)!);
    const c = collect(f.committed());
    const r = await h.settle(f.propose(enc('m')));
    const idx = r!.value!.index;
    await h.clock.advance(50);
    const fm = h.metrics.get(f.id)!.filter((m) => 'index' in m && m.index === idx).map((m) => m.type);
    const lm = h.metrics.get(L.id)!.filter((m) => 'index' in m && m.index === idx).map((m) => m.type);
    expect([...fm, ...lm]).toEqual(expect.arrayContaining(['proposeAccepted', 'proposeCommitted']));
    c.stop();
    await h.closeAll();
  });
});
