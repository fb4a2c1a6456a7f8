// The driver runs a paced snapshot stream (RaftConfig.snapshotBytesPerSecond) on its own timer:
// a 1 MiB install at 2 MiB/s takes about half a second of virtual time, and the
// leader's timer fires about once per chunk and heartbeat, never again and again at one instant.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../core/config.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { settleOnVirtualClock } from '../testing/settle-on-clock.test-support.ts';
import { createSimulatedNetwork, reliableNetwork, type SimulatedNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode, type RaftNode } from './create-raft-node.ts';

/** More timer firings than any node needs in this test: past it, the driver is spinning. */
const spinningFirings = 20_000;

interface CountingClock extends Clock {
  /** Timers this node's driver set that fired: each is one tick of its engine (or a retry). */
  fired: number;
}

/** The shared virtual clock, counting the firings of one node's timers. */
function countingClock(clock: VirtualClock, id: NodeId): CountingClock {
  const counting: CountingClock = {
    fired: 0,
    now: () => clock.now(),
    setTimeout: (fn, ms) =>
      clock.setTimeout(() => {
        counting.fired += 1;
        if (counting.fired > spinningFirings) throw new Error(`${id}: the driver's timer fired ${counting.fired} times: it spins`);
        fn();
      }, ms),
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
  return counting;
}

interface Streaming {
  readonly clock: VirtualClock;
  readonly network: SimulatedNetwork;
  readonly nodes: readonly RaftNode[];
  readonly leader: RaftNode;
  readonly lagging: RaftNode;
  readonly other: RaftNode;
  /** The leader's clock, counting its driver's timer firings. */
  readonly leaderClock: CountingClock;
  readonly snapshotIndex: number;
}

/**
 * Three nodes pacing at 2 MiB/s in 16 KiB chunks; one follower misses an entry that
 * the leader then compacts into a 1 MiB snapshot. Returns as the partition heals.
 */
async function laggingFollowerNeedsSnapshot(snapshotBytes: number): Promise<Streaming> {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(11), reliableNetwork);
  const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
  const clocks = new Map(ids.map((id) => [id, countingClock(clock, id)]));
  const nodes = await Promise.all(
    ids.map((id, index) =>
      createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock: clocks.get(id) as CountingClock, random: seededRandom(100 + index), snapshotBytesPerSecond: 2 * 1024 * 1024 } }),
    ),
  );
  expect(await clock.runUntil(() => nodes.some((node) => node.role.value === 'leader'), 5_000)).toBe(true);
  const leader = nodes.find((node) => node.role.value === 'leader') as RaftNode;
  const lagging = nodes.find((node) => node !== leader) as RaftNode;
  const other = nodes.find((node) => node !== leader && node !== lagging) as RaftNode;
  network.partition([[leader.id, other.id], [lagging.id]]);
  const proposed = await settleOnVirtualClock(clock, leader.propose(new Uint8Array([1])), 1_000);
  if (proposed.status !== 'fulfilled') throw new Error('the proposal did not commit');
  leader.publishSnapshot({ throughIndex: proposed.value.index, state: new Uint8Array(snapshotBytes).fill(5) });
  network.heal();
  return { clock, network, nodes, leader, lagging, other, leaderClock: clocks.get(leader.id) as CountingClock, snapshotIndex: proposed.value.index };
}

describe('a paced snapshot install through the driver', () => {
  it('takes about size / rate of virtual time, with one timer firing per chunk or heartbeat', async () => {
    const { clock, nodes, leader, lagging, leaderClock, snapshotIndex } = await laggingFollowerNeedsSnapshot(1024 * 1024);
    const start = clock.now();
    const firedBefore = leaderClock.fired;
    expect(await clock.runUntil(() => lagging.compactionFloor.value >= snapshotIndex, 10_000)).toBe(true);
    const elapsedMs = clock.now() - start;
    // 64 chunks of 16 KiB at 2 MiB/s: 63 intervals of 7.8 ms between the first and the last
    // (492 ms), after at most a heartbeat (50 ms) before the leader next turns to the follower.
    expect(elapsedMs).toBeGreaterThanOrEqual(490);
    expect(elapsedMs).toBeLessThanOrEqual(492 + 50 + 30);
    // One firing per chunk (64) and per heartbeat (about 12), with room for a late one each.
    expect(leaderClock.fired - firedBefore).toBeLessThanOrEqual(2 * (64 + 12));
    expect(leader.role.value).toBe('leader');

    // Idle again: the leader's timer settles back to the heartbeat's pace.
    const idleBefore = leaderClock.fired;
    await clock.advance(1_000);
    expect(leaderClock.fired - idleBefore).toBeLessThanOrEqual(1_000 / 50 + 2);
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('waits on the heartbeat while the follower stops answering mid-stream (its window full), then finishes', async () => {
    const { clock, network, nodes, leader, lagging, other, leaderClock, snapshotIndex } = await laggingFollowerNeedsSnapshot(1024 * 1024);
    await clock.advance(200);
    expect(lagging.compactionFloor.value).toBeLessThan(snapshotIndex);
    network.partition([[leader.id, other.id], [lagging.id]]);
    const firedBefore = leaderClock.fired;
    await clock.advance(1_000);
    // Heartbeats (20), the window's chunks until it filled, and a paced resend after each stall.
    expect(leaderClock.fired - firedBefore).toBeLessThanOrEqual(1_000 / 50 + 4 + 2 * (1_000 / 150) + 5);
    network.heal();
    expect(await clock.runUntil(() => lagging.compactionFloor.value >= snapshotIndex, 10_000)).toBe(true);
    expect(leader.role.value).toBe('leader');
    await Promise.all(nodes.map((node) => node.close()));
  });
});
