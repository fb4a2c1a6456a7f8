import { describe, expect, it } from 'vitest';
import { createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomEvent } from './room-events.ts';
import { collectingRejections } from './unhandled-rejections.test-support.ts';
import { maxReportedPeers, watchUnreachablePeers } from './unreachable-peers.ts';

type Report = Extract<RoomEvent, { type: 'peersUnreachable' }>;
const ids = (...names: string[]): ReadonlySet<NodeId> => new Set(names.map(nodeId));

function watch(listener?: (event: Report) => void) {
  const clock = new VirtualClock(0);
  const listed = createWatchable(ids());
  const reachable = createWatchable(ids());
  const reports: Report[] = [];
  const report = (event: Report): void => {
    reports.push(event);
    listener?.(event);
  };
  const watcher = watchUnreachablePeers({ selfId: nodeId('self'), listed: () => listed.value, reachable, clock, graceMs: 1_000, checkIntervalMs: 100, report });
  return { clock, listed, reachable, reports, watcher };
}

describe('watchUnreachablePeers', () => {
  it('reports a listed peer only once it has gone the grace time without a connection', async () => {
    const test = watch();
    test.listed.set(ids('a', 'b'));
    await test.clock.advance(500);
    test.reachable.set(ids('a')); // a connected in time: never reported
    await test.clock.advance(600);
    expect(test.reports).toEqual([{ type: 'peersUnreachable', peers: ['b'], count: 1, waiting: true, deferringTo: null, at: expect.any(Number) }]);
    test.watcher.close();
  });

  it('reports again when the set or the waiting state changes, and an empty set once all are reachable', async () => {
    const test = watch();
    test.listed.set(ids('a', 'b'));
    await test.clock.advance(1_100);
    test.watcher.setWaiting(false);
    test.reachable.set(ids('a', 'b'));
    await test.clock.advance(200);
    expect(test.reports.map(({ peers, count, waiting }) => ({ peers, count, waiting }))).toEqual([
      { peers: ['a', 'b'], count: 2, waiting: true },
      { peers: ['a', 'b'], count: 2, waiting: false },
      { peers: [], count: 0, waiting: false },
    ]);
    await test.clock.advance(5_000);
    expect(test.reports).toHaveLength(3); // nothing changed: nothing more to say
    test.watcher.close();
  });

  it('reports the chooser discovery promised to join while it waits, and stops naming it once it has a cluster', async () => {
    const test = watch();
    test.listed.set(ids('a', 'b'));
    test.reachable.set(ids('a'));
    await test.clock.advance(1_100);
    test.watcher.setDeferringTo(nodeId('a'));
    test.watcher.setDeferringTo(nodeId('a')); // the same: nothing new to say
    test.watcher.setWaiting(false);
    expect(test.reports.map(({ peers, waiting, deferringTo }) => ({ peers, waiting, deferringTo }))).toEqual([
      { peers: ['b'], waiting: true, deferringTo: null },
      { peers: ['b'], waiting: true, deferringTo: 'a' },
      { peers: ['b'], waiting: false, deferringTo: null },
    ]);
    test.watcher.close();
  });

  it('names at most maxReportedPeers peers, counts them all, and forgets peers signaling no longer lists', async () => {
    const test = watch();
    const many = Array.from({ length: maxReportedPeers + 8 }, (_, index) => `p${String(index).padStart(3, '0')}`);
    test.listed.set(ids(...many, 'self'));
    await test.clock.advance(1_100);
    expect(test.reports.at(-1)).toMatchObject({ count: many.length });
    expect(test.reports.at(-1)!.peers).toHaveLength(maxReportedPeers);
    test.listed.set(ids());
    await test.clock.advance(200);
    expect(test.reports.at(-1)).toMatchObject({ peers: [], count: 0 });
    test.watcher.close();
    test.listed.set(ids('late'));
    await test.clock.advance(5_000);
    expect(test.reports.at(-1)).toMatchObject({ count: 0 }); // closed: silent
  });

  it('a listener that throws is reported apart: the watch goes on, and so does setWaiting', async () => {
    let calls = 0;
    const raised = await collectingRejections(async () => {
      const test = watch(() => {
        calls += 1;
        throw new Error('banner broke');
      });
      test.listed.set(ids('a'));
      await test.clock.advance(1_100);
      expect(() => test.watcher.setWaiting(false)).not.toThrow();
      test.reachable.set(ids('a'));
      await test.clock.advance(200);
      // Before the fix the first throw stopped the timer: 'waiting: false' and 'count: 0' never came.
      expect(test.reports.map(({ count, waiting }) => ({ count, waiting }))).toEqual([
        { count: 1, waiting: true },
        { count: 1, waiting: false },
        { count: 0, waiting: false },
      ]);
      test.watcher.close();
    });
    expect(calls).toBe(3);
    expect(raised).toHaveLength(3);
  });

  it('says nothing new when only peers beyond the named ones change', async () => {
    const test = watch();
    const many = Array.from({ length: maxReportedPeers + 4 }, (_, index) => `p${String(index).padStart(3, '0')}`);
    test.listed.set(ids(...many));
    await test.clock.advance(1_100);
    expect(test.reports).toHaveLength(1);
    // A late peer becomes overdue in the same check that an unnamed one leaves: the same 32 names, the same count.
    test.listed.set(ids(...many, 'zz'));
    await test.clock.advance(1_050);
    expect(test.reports).toHaveLength(1);
    test.listed.set(ids(...many.slice(0, -1), 'zz'));
    await test.clock.advance(1_000);
    expect(test.reports.at(-1)).toMatchObject({ count: many.length });
    expect(test.reports).toHaveLength(1); // before the fix: a second, identical event
    test.watcher.close();
  });

  it('closing after naming peers says count 0, so a rejoin under a fresh id does not leave a stale report', async () => {
    const test = watch();
    test.listed.set(ids('a'));
    await test.clock.advance(1_100);
    expect(test.reports.at(-1)).toMatchObject({ peers: ['a'], count: 1 });
    test.watcher.close();
    expect(test.reports.at(-1)).toMatchObject({ peers: [], count: 0 });
    const quiet = watch();
    quiet.watcher.close();
    expect(quiet.reports).toEqual([]); // nothing was said: nothing to take back
  });
});
