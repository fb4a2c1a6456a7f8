import { describe, it, expect } from 'vitest';
import { harness, enc } from './harness.test-support.ts';

async function run() {
  const h = await harness(['a', 'b', 'c'], { seed: 99 });
  const leader = await h.waitLeader();
  const out: string[] = [];
  for (let i = 0; i < 5; i++) {
    const id = h.ids[i % 3]!;
    const r = await h.settle(h.node(id).propose(enc('c' + i)));
    const e = r!.value!;
    out.push(`${e.index}/${e.term}/${e.dedupKey!.clientId}#${e.dedupKey!.requestId}`);
  }
  await h.settle(h.node(h.ids[1]!).readIndex());
  h.net.isolate(leader.id);
  await h.clock.runUntil(() => h.ids.some((i) => i !== leader.id && h.node(i).role.value === 'leader'), 3000);
  h.net.heal();
  await h.clock.advance(500);
  const traces = h.ids.flatMap((id) => h.traces.get(id)!.map((e) => JSON.stringify(e)));
  await h.closeAll();
  return { out, traces, now: h.clock.now() };
}

describe('API.md: a whole cluster on a virtual clock runs deterministically from its seeds', () => {
  it('two runs with the same seeds give the same entries, dedup keys and traces', async () => {
    const r1 = await run();
    const r2 = await run();
    expect(r2.out).toEqual(r1.out);
    expect(r2.traces.length).toBe(r1.traces.length);
    expect(r2.traces).toEqual(r1.traces);
  });
});
