// Paused processes (SIGSTOP, a long garbage collection, a frozen tab): time goes on, the node's
// timers and frames wait. A node that resumes judges its peers by what reached it meanwhile, not
// by a silence that was its own (the driver ticks a late timer behind the queued frames).
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeId } from '../../core/types.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { one, startCluster } from './scenario-helpers.ts';

let cluster: SimulatedCluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

/** Every leader change a node reports, as the ids it followed (null: none). */
function followed(target: SimulatedCluster, id: NodeId): (NodeId | null)[] {
  const seen: (NodeId | null)[] = [];
  target.nodes.get(id)!.node!.leader.subscribe((leader) => seen.push(leader));
  return seen;
}

describe('paused processes', () => {
  for (const order of ['timersFirst', 'framesFirst'] as const) {
    it(`a follower paused for ten election timeouts while its leader kept sending resumes (${order}) without losing its leader or starting an election`, async () => {
      cluster = await startCluster({ seed: 41, size: 3 });
      const leader = await cluster.waitForLeader(2_000);
      await one(cluster, 'before', 3);
      const term = leader!.node!.term.value;
      const follower = cluster.ids.find((id) => id !== leader!.id)!;
      const seen = followed(cluster, follower);
      cluster.pause(follower);
      await cluster.runFor(3_000);
      cluster.resume(follower, order);
      await cluster.runFor(500);
      expect(seen).toEqual([]);
      expect(cluster.nodes.get(follower)!.node!.leader.value).toBe(leader!.id);
      expect(leader!.node!.term.value).toBe(term);
      await one(cluster, 'after', 3);
    });
  }

  it('a paused leader is replaced, and on resuming steps down and follows the new leader; nothing acknowledged is lost', async () => {
    cluster = await startCluster({ seed: 42, size: 3 });
    const first = await cluster.waitForLeader(2_000);
    const before = await one(cluster, 'before', 3);
    cluster.pause(first!.id);
    const second = await cluster.waitForLeader(3_000);
    await cluster.runUntil(() => cluster!.leader()?.id !== first!.id, 3_000);
    expect(cluster.leader()?.id).not.toBe(first!.id);
    await one(cluster, 'during', 2);
    cluster.resume(first!.id, 'timersFirst');
    await cluster.runFor(1_000);
    expect(first!.node!.role.value).not.toBe('leader');
    expect(second).not.toBeNull();
    const after = await one(cluster, 'after', 3);
    expect(after).toBeGreaterThan(before);
    cluster.checker.checkAcknowledgedApplied();
  });

  it('holds a paused node’s timers, frames in and frames out, and drops them when it crashes', async () => {
    cluster = await startCluster({ seed: 43, size: 3 });
    const leader = await cluster.waitForLeader(2_000);
    const follower = cluster.ids.find((id) => id !== leader!.id)!;
    const appliedBefore = cluster.nodes.get(follower)!.appliedIndex;
    cluster.pause(follower);
    const index = await one(cluster, 'while paused', 2);
    // The follower applied nothing while paused, though the entry reached it.
    expect(cluster.nodes.get(follower)!.appliedIndex).toBe(appliedBefore);
    expect(index).toBeGreaterThan(appliedBefore);
    cluster.crash(follower);
    expect(cluster.isPaused(follower)).toBe(false);
    await cluster.restart(follower);
    await cluster.runUntil(() => cluster!.nodes.get(follower)!.appliedIndex >= index, 3_000);
    expect(cluster.nodes.get(follower)!.appliedIndex).toBeGreaterThanOrEqual(index);
  });
});
