import { describe, it, expect } from 'vitest';
import { harness } from './harness.test-support.ts';

describe('SPEC Observability: election metrics', () => {
  it('an isolated follower reports electionTimedOut/electionStarted metrics for its failed attempts (probe)', async () => {
    const h = await harness(['a', 'b', 'c']);
    const L = await h.waitLeader();
    const x = h.ids.find((i) => i !== L.id)!;
    const mark = h.metrics.get(x)!.length;
    h.net.isolate(x);
    await h.clock.advance(2000);
    const types = h.metrics.get(x)!.slice(mark).map((m) => m.type);
    expect(types).toContain('electionTimedOut');
    await h.closeAll();
  });
});
