import { describe, expect, it } from 'vitest';
import { createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomEvent } from './room-events.ts';
import { maxReportedPeers, watchUnreachablePeers } from './unreachable-peers.ts';

type Report = Extract<RoomEvent, { type: 'peersUnreachable' }>;
const ids = (...names: string[]): ReadonlySet<NodeId> => new Set(names.map(nodeId));

function watch() {
  const clock = new VirtualClock(0);
  const listed = createWatchable(ids());
  const reachable = createWatchable(ids());
  const reports: Report[] = [];
  const watcher = watchUnreachablePeers({ selfId: nodeId('self'), listed, reachable, clock, graceMs: 1_000, checkIntervalMs: 100, report: (event) => reports.push(event) });
  return { clock, listed, reachable, reports, watcher };
}

describe('watchUnreachablePeers', () => {
  it('reports a listed peer only once it has gone the grace time without a connection', async () => {
    const test = watch();
    test.listed.set(ids('a', 'b'));
    await test.clock.advance(500);
    test.reachable.set(ids('a')); // a connected in time: never reported
    await test.clock.advance(600);
    expect(test.reports).toEqual([{ type: 'peersUnreachable', peers: ['b'], count: 1, waiting: true, at: expect.any(Number) }]);
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
});
