// Review finding (low): a write that was in flight when close() was called and then fails is
// still reported through onMetric as `storageFailed`, after the node was closed on purpose. The
// node itself ignores it (stop() is a no-op by then), but monitoring counts a storage failure for a
// node that was closed (typically: node.close() not awaited, then the storage closed by its owner).
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftMetric } from '../core/events.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { GatedStorage, handTransport, ids, settle } from './driver-harness.scratch-review.test-support.ts';

describe('metrics after close', () => {
  it('a write failing after close() is not reported as a storage failure', async () => {
    const storage = new GatedStorage();
    storage.gated = false;
    const clock = new VirtualClock();
    const metrics: RaftMetric[] = [];
    const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock }, onMetric: (metric) => metrics.push(metric) });
    expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
    storage.gated = true;
    const proposal = node.propose(new Uint8Array([1]));
    proposal.catch(() => undefined);
    await settle();
    expect(storage.pendingWrites).toBe(1);
    const closing = node.close();
    const afterClose = metrics.length;
    storage.fail(new Error('the storage was closed by its owner'));
    await closing;
    await settle();
    expect(metrics.slice(afterClose).map((metric) => metric.type)).not.toContain('storageFailed');
    await expect(proposal).rejects.toThrow(/closed/i);
  });
});
