import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWatchable, nodeId, type NodeId, type Watchable } from 'raftmesh';
import { leaderBecomes } from './transfer-outcome.ts';

const [bo, cy] = ['peer-bo', 'peer-cy'].map(nodeId) as [NodeId, NodeId];
afterEach(() => vi.useRealTimers());

/** A leader to watch that counts its live listeners: a wait that ends must leave none behind. */
function countedLeader(): { leader: Watchable<NodeId | null>; set(value: NodeId | null): void; listeners(): number } {
  const inner = createWatchable<NodeId | null>(null);
  let listeners = 0;
  const leader: Watchable<NodeId | null> = {
    get value() {
      return inner.value;
    },
    subscribe(listener) {
      listeners += 1;
      const unsubscribe = inner.subscribe(listener);
      let gone = false;
      return () => {
        if (!gone) listeners -= 1;
        gone = true;
        unsubscribe();
      };
    },
  };
  return { leader, set: (value) => inner.set(value), listeners: () => listeners };
}

describe('an abandoned transfer judged by who leads', () => {
  it('succeeded when the target leads already, or within the wait', async () => {
    vi.useFakeTimers();
    expect(await leaderBecomes(createWatchable<NodeId | null>(cy), cy, 1_000)).toBe(true);
    const watched = countedLeader();
    const outcome = leaderBecomes(watched.leader, cy, 1_000);
    await vi.advanceTimersByTimeAsync(300);
    watched.set(bo);
    expect(watched.listeners()).toBe(1);
    watched.set(cy);
    expect(await outcome).toBe(true);
    expect(watched.listeners()).toBe(0);
  });

  it('failed when another leads, or nobody, once the wait is over', async () => {
    vi.useFakeTimers();
    const watched = countedLeader();
    const outcome = leaderBecomes(watched.leader, cy, 1_000);
    watched.set(bo);
    await vi.advanceTimersByTimeAsync(999);
    expect(watched.listeners()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe(false);
    expect(watched.listeners()).toBe(0); // no listener left behind to hear a later leader
  });
});
