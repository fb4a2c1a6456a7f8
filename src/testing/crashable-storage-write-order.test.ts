// Guards CrashableStorage's promise that writes land in the order they were issued. A write's
// landing time is absolute (no earlier than the write before it), but the clock takes a relative
// delay, and now + (at - now) can round one ulp below `at`: a later write tied to an earlier one's
// landing time then fell due first and landed first, undoing a write the engine was told is
// durable. An outside review found it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { CrashableStorage } from './crashable-storage.ts';
import { VirtualClock } from './virtual-clock.ts';

describe('CrashableStorage write order under rounding', () => {
  it('a write issued after another lands after it, so the disk keeps the newer term', async () => {
    // Values found by a search for a round trip that rounds down (about 1 in 10^5 tied writes).
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
    expect(storage.pendingWrites).toBe(0);
  });

  it('a crash after the later write fell due, before the earlier one landed, leaves neither on the disk', async () => {
    const clock = new VirtualClock(8);
    const draws = [0.8094095521798468, 0];
    const durable = new InMemoryRaftStorage();
    const storage = new CrashableStorage(durable, clock, () => draws.shift() ?? 0, 24);
    const firstLandsAt = 8 + 0.8094095521798468 * 24;
    void storage.saveTermAndVotedFor(2, nodeId('n1'));
    clock.setTimeout(() => {
      void storage.saveTermAndVotedFor(3, nodeId('n2'));
      // The same relative delay as the second write's timer, set after it: the crash comes right
      // after the second write's delay ended (one ulp before the first's), before the first landed.
      clock.setTimeout(() => storage.crash(), firstLandsAt - clock.now());
    }, 3.2128402781016536);
    await clock.advance(100);
    expect(await durable.term()).toBe(0);
  });
});
