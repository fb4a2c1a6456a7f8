// Review: CrashableStorage promises that writes "complete in order: each lands no earlier than the
// one before it". It computes an absolute landing time `at = max(lastWriteAt, now + delay)` but
// hands the clock a relative delay `at - now`, which the clock turns back into `now + (at - now)`.
// In floating point that round trip is not exact: a later write tied to an earlier one's landing
// time (the common case: `at` is the earlier write's) can be scheduled one ulp BEFORE it, and then
// lands first. The disk then ends up holding the older write over the newer one: a write the
// engine was told is durable is silently undone (no crash needed), or a crash in between keeps a
// later write while losing an earlier one, which no real disk does.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { CrashableStorage } from '../testing/crashable-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';

describe('CrashableStorage write order (review)', () => {
  it('a write issued after another lands after it, so the disk keeps the newer term', async () => {
    // Values found by a search for a round-trip that rounds down (about 1 in 10^5 tied writes).
    const clock = new VirtualClock(8);
    const draws = [0.8094095521798468, 0];
    const storage = new CrashableStorage(new InMemoryRaftStorage(), clock, () => draws.shift() ?? 0, 24);
    const order: string[] = [];
    // First write: lands at 8 + 0.809... * 24 = 27.425829252316323.
    void storage.saveTermAndVotedFor(2, nodeId('n1')).then(() => order.push('term 2'));
    clock.setTimeout(() => {
      // Second write, issued later (virtual time 11.2128...), drawn delay 0: it must land at the
      // first one's time, after it.
      void storage.saveTermAndVotedFor(3, nodeId('n2')).then(() => order.push('term 3'));
    }, 3.2128402781016536);
    await clock.advance(100);
    expect(order).toEqual(['term 2', 'term 3']);
    expect(await storage.term()).toBe(3);
  });
});
