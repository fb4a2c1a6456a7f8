import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWatchable, nodeId, type NodeId } from '../../src/index.ts';
import { leaderBecomes } from './transfer-outcome.ts';

const [bo, cy] = ['peer-bo', 'peer-cy'].map(nodeId) as [NodeId, NodeId];
afterEach(() => vi.useRealTimers());

describe('an abandoned transfer judged by who leads', () => {
  it('succeeded when the target leads already, or within the wait', async () => {
    vi.useFakeTimers();
    expect(await leaderBecomes(createWatchable<NodeId | null>(cy), cy, 1_000)).toBe(true);
    const leader = createWatchable<NodeId | null>(null);
    const outcome = leaderBecomes(leader, cy, 1_000);
    await vi.advanceTimersByTimeAsync(300);
    leader.set(bo);
    leader.set(cy);
    expect(await outcome).toBe(true);
  });

  it('failed when another leads, or nobody, once the wait is over', async () => {
    vi.useFakeTimers();
    const leader = createWatchable<NodeId | null>(null);
    const outcome = leaderBecomes(leader, cy, 1_000);
    leader.set(bo);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await outcome).toBe(false);
    leader.set(cy); // too late, and no listener left behind to hear it
  });
});
