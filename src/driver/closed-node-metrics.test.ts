// Guards: a node closed on purpose reports no storage failure afterwards. A write in flight when
// close() is called may still fail (typically: close() not awaited, then the storage closed by its
// owner); the node ignores it, and so must monitoring. An outside review found the metric still
// emitted (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import type { RaftMetric } from '../core/events.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';
import { GatedStorage, handTransport, ids, settle } from './hand-driven-node.test-support.ts';

/** A one-voter leader whose metrics are recorded, its next storage write held until the test lets it go. */
async function soloLeaderWithGatedWrites(): Promise<{ storage: GatedStorage; node: RaftNode; metrics: RaftMetric[] }> {
  const storage = new GatedStorage();
  storage.gated = false;
  const clock = new VirtualClock();
  const metrics: RaftMetric[] = [];
  const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock }, onMetric: (metric) => metrics.push(metric) });
  expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
  storage.gated = true;
  return { storage, node, metrics };
}

describe('metrics after close', () => {
  it('a write failing after close() is not reported as a storage failure', async () => {
    const { storage, node, metrics } = await soloLeaderWithGatedWrites();
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

  it('a write failing while the node runs is still reported, once', async () => {
    const { storage, node, metrics } = await soloLeaderWithGatedWrites();
    node.propose(new Uint8Array([1])).catch(() => undefined);
    await settle();
    storage.fail(new Error('disk full'));
    await settle();
    expect(node.stopped.value?.message).toMatch(/storage write failed.*disk full/);
    expect(metrics.filter((metric) => metric.type === 'storageFailed')).toEqual([expect.objectContaining({ message: 'disk full' })]);
  });
});
