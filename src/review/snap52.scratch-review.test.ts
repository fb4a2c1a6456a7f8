// Outside review (snapshots and compaction), session snap52: failing tests for defects found.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import { createCoreHarness, type HarnessNode } from '../core/core-harness.test-support.ts';
import { RaftCore } from '../core/raft-core.ts';
import { nodeId, type NodeId } from '../core/types.ts';

describe('snap52: held compaction released at install', () => {
  it('a follower whose stream finished catches up from the log even when the entries after the snapshot exceed one probe', () => {
    const chunkBytes = 1024;
    const snapshotBytes = 20 * chunkBytes;
    const harness = createCoreHarness(['a', 'b', 'c'], 7, ['a', 'b', 'c'], { snapshotChunkCeiling: chunkBytes, snapshotBytesPerSecond: 10 * 1024 });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    harness.isolate(follower.id);
    let request = 1;
    const commitAndPublish = (): void => {
      // 5 commands of 3 KiB: 15 KiB of entries per publish, more than an 8 KiB probe carries.
      for (let k = 0; k < 5; k += 1) leader.core.propose(harness.now, request, new Uint8Array(3 * 1024).fill(request++ & 0xff), null);
      harness.advance(20);
      leader.core.publishSnapshot(harness.now, leader.core.applicableIndex, new Uint8Array(snapshotBytes).fill(request & 0xff));
      harness.settle();
    };
    commitAndPublish();
    const first = leader.core.compactionFloor;
    harness.heal();
    for (let second = 0; second < 30; second += 1) {
      harness.advance(980);
      commitAndPublish();
    }
    const installs = (node: HarnessNode): number[] => node.snapshots;
    // README "A stream finishes the snapshot it began": the follower then catches up from the log.
    expect({ installs: installs(follower), caughtUp: follower.core.commitIndex === leader.core.commitIndex }).toEqual({ installs: [first], caughtUp: true });
  }, 60_000);
});

/**
 * Restarts a harness node on what it stored (no snapshot installed yet: its durable log and hard
 * state), as a tab that crashed and reloaded would: everything in memory, the reassembly with it, is gone.
 */
function restartOnStoredLog(node: HarnessNode, now: number, voters: readonly string[], overrides: RaftConfig): void {
  const stored = (node.core as unknown as { core: { votedFor: NodeId | null; pinnedLeader: { term: number; leaderId: NodeId } | null } }).core;
  expect(node.snapshots).toEqual([]);
  node.core = new RaftCore({
    id: node.id,
    config: resolveRaftConfig(overrides),
    random: () => 0.5,
    now,
    bootstrap: { voters: voters.map((name) => nodeId(name)) },
    hardState: { term: node.core.term, votedFor: stored.votedFor },
    leaderPin: stored.pinnedLeader,
    snapshotMeta: null,
    entries: node.durable,
  });
}

describe('snap52: a stream that answers but never finishes holds compaction for good', () => {
  it('a follower that keeps restarting mid-install does not keep the leader from compacting behind newer snapshots', () => {
    const overrides: RaftConfig = { snapshotChunkCeiling: 1024, snapshotBytesPerSecond: 10 * 1024 };
    const harness = createCoreHarness(['a', 'b', 'c'], 7, ['a', 'b', 'c'], overrides);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    harness.isolate(follower.id);
    let request = 1;
    const commitAndPublish = (): void => {
      for (let k = 0; k < 5; k += 1) leader.core.propose(harness.now, request, new Uint8Array(100).fill(request++ & 0xff), null);
      harness.advance(20);
      // 40 KiB: a 4 s stream at 10 KiB/s.
      leader.core.publishSnapshot(harness.now, leader.core.applicableIndex, new Uint8Array(40 * 1024).fill(request & 0xff));
      harness.settle();
    };
    commitAndPublish();
    const held = leader.core.compactionFloor;
    harness.heal();
    // The follower crashes and reloads every 2 s (say it runs out of memory installing), answering
    // every chunk it gets in between; the application publishes a snapshot a second for two minutes.
    for (let second = 1; second <= 120; second += 1) {
      harness.advance(980);
      commitAndPublish();
      if (second % 2 === 0) restartOnStoredLog(follower, harness.now, ['a', 'b', 'c'], overrides);
    }
    expect(leader.core.role).toBe('leader');
    expect(follower.snapshots).toEqual([]); // never installed anything
    const newest = leader.core.latestSnapshot?.throughIndex ?? 0;
    // README "Snapshot streams under frequent publishing": a follower that is not getting anywhere
    // must not keep the log from being compacted. Here the floor stays at the first stream's
    // snapshot while 120 newer ones are published: the leader's log grows with every command.
    expect({ floor: leader.core.compactionFloor, entriesKept: leader.core.lastIndex - leader.core.compactionFloor }).toEqual({ floor: newest, entriesKept: 0 });
    expect(held).toBeLessThan(newest);
  }, 120_000);
});
