// Guards the bounds on what holds a leader's compaction back for a follower catching up
// (snapshots.ts lowestFollowerHold): a follower that gets somewhere keeps the entries it will need,
// and one that does not (it keeps restarting mid-install, it is stuck at an offset, it went silent
// after installing) never keeps the log from being compacted for long. An outside review
// (snap52) found a follower restarting every 2 s holding the floor at the first snapshot for two
// minutes while 120 newer ones were published, the log growing with every command.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig, type RaftConfig } from './config.ts';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import type { InstallSnapshotResponse } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type NodeId } from './types.ts';

const overrides: RaftConfig = { snapshotChunkCeiling: 1024, snapshotBytesPerSecond: 10 * 1024 };
const voters = ['a', 'b', 'c'];

interface Scene {
  readonly harness: CoreHarness;
  readonly leader: HarnessNode;
  readonly follower: HarnessNode;
  /** Five small commands, committed, and a 40 KiB snapshot through them: a 4 s stream at 10 KiB/s. */
  commitAndPublish(): void;
}

/** The follower misses the first publish behind a partition, so it needs a snapshot once back. */
function followerBehindTheFloor(): Scene {
  const harness = createCoreHarness(voters, 7, voters, overrides);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
  harness.isolate(follower.id);
  let request = 1;
  const commitAndPublish = (): void => {
    for (let k = 0; k < 5; k += 1) leader.core.propose(harness.now, request, new Uint8Array(100).fill(request++ & 0xff), null);
    harness.advance(20);
    leader.core.publishSnapshot(harness.now, leader.core.applicableIndex, new Uint8Array(40 * 1024).fill(request & 0xff));
    harness.settle();
  };
  commitAndPublish();
  return { harness, leader, follower, commitAndPublish };
}

/**
 * Restarts a harness node on what it stored (no snapshot installed yet: its durable log and hard
 * state), as a tab that crashed and reloaded would: everything in memory, the reassembly with it, is gone.
 */
function restartOnStoredLog(node: HarnessNode, now: number): void {
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

describe('compaction held for a follower catching up is bounded', () => {
  it('a follower that keeps restarting mid-install does not keep the leader from compacting behind newer snapshots', () => {
    const { harness, leader, follower, commitAndPublish } = followerBehindTheFloor();
    const held = leader.core.compactionFloor;
    harness.heal();
    // The follower crashes and reloads every 2 s (say it runs out of memory installing), answering
    // every chunk it gets in between; the application publishes a snapshot a second for two minutes.
    for (let second = 1; second <= 120; second += 1) {
      harness.advance(980);
      commitAndPublish();
      if (second % 2 === 0) restartOnStoredLog(follower, harness.now);
    }
    expect(leader.core.role).toBe('leader');
    expect(follower.snapshots).toEqual([]); // never installed anything
    const newest = leader.core.latestSnapshot?.throughIndex ?? 0;
    // README "Snapshot streams under frequent publishing": a follower that is not getting anywhere
    // must not keep the log from being compacted. Here the floor stayed at the first stream's
    // snapshot while 120 newer ones were published: the leader's log grew with every command.
    expect({ floor: leader.core.compactionFloor, entriesKept: leader.core.lastIndex - leader.core.compactionFloor }).toEqual({ floor: newest, entriesKept: 0 });
    expect(held).toBeLessThan(newest);
  }, 120_000);

  it('a follower that restarted once mid-install still installs one snapshot and catches up from the log', () => {
    const { harness, leader, follower, commitAndPublish } = followerBehindTheFloor();
    harness.heal();
    for (let second = 1; second <= 30; second += 1) {
      harness.advance(980);
      commitAndPublish();
      if (second === 2) restartOnStoredLog(follower, harness.now);
    }
    expect(follower.snapshots).toHaveLength(1);
    expect(follower.core.commitIndex).toBe(leader.core.commitIndex);
    expect(leader.core.compactionFloor).toBe(leader.core.latestSnapshot?.throughIndex);
  }, 60_000);

  it('a follower that restarted twice mid-install and then stays up still gets through while snapshots keep coming', () => {
    const { harness, leader, follower, commitAndPublish } = followerBehindTheFloor();
    harness.heal();
    for (let second = 1; second <= 40; second += 1) {
      harness.advance(980);
      commitAndPublish();
      if (second === 2 || second === 4) restartOnStoredLog(follower, harness.now);
    }
    // Its stream after the second loss held nothing but was let finish (an older snapshot by
    // then); the next one held again, and the follower caught up from the log after it.
    expect(follower.snapshots.length).toBeGreaterThanOrEqual(1);
    expect(follower.snapshots.length).toBeLessThanOrEqual(2);
    expect(follower.core.commitIndex).toBe(leader.core.commitIndex);
    expect(leader.core.compactionFloor).toBe(leader.core.latestSnapshot?.throughIndex);
  }, 60_000);

  it('a follower that answers every chunk 80 ms later but never gets past an offset holds compaction only for a while at a time', () => {
    const { harness, leader, follower, commitAndPublish } = followerBehindTheFloor();
    const first = leader.core.compactionFloor;
    // The follower's link stays cut; a stand-in answers for it as a follower would that cannot
    // take the bytes past 4 KiB (it takes only the next offset, and answers with what it has), 80
    // ms late: each answer rewinds the stream (the resend interval is 50 ms) before the 150 ms
    // stall timeout runs out, so the stream never counts as stalled.
    const stuckAt = 4 * 1024;
    let transfer = { index: 0, received: 0 };
    const due: Array<{ readonly at: number; readonly answer: InstallSnapshotResponse }> = [];
    let seen = harness.sent.length;
    let floorMovedAt = harness.now;
    let floor = leader.core.compactionFloor;
    let longestStill = 0;
    let nextPublishAt = harness.now + 1_000;
    const end = harness.now + 30_000;
    while (harness.now < end) {
      harness.advance(5);
      for (const item of harness.sent.slice(seen)) {
        const chunk = item.message;
        if (item.from !== leader.id || item.to !== follower.id || chunk.type !== 'installSnapshot') continue;
        if (chunk.meta.lastIncludedIndex !== transfer.index) transfer = { index: chunk.meta.lastIncludedIndex, received: 0 };
        if (chunk.offset === transfer.received && transfer.received < stuckAt) transfer.received += chunk.data.length;
        const answer: InstallSnapshotResponse = { type: 'installSnapshotResponse', term: chunk.term, lastIncludedIndex: chunk.meta.lastIncludedIndex, nextOffset: transfer.received, installed: false };
        due.push({ at: harness.now + 80, answer });
      }
      seen = harness.sent.length;
      while (due.length > 0 && (due[0] as { at: number }).at <= harness.now) {
        leader.core.receive(harness.now, follower.id, (due.shift() as { answer: InstallSnapshotResponse }).answer);
        harness.settle();
      }
      if (harness.now >= nextPublishAt) {
        commitAndPublish();
        nextPublishAt += 1_000;
      }
      if (leader.core.compactionFloor !== floor) {
        floor = leader.core.compactionFloor;
        floorMovedAt = harness.now;
      }
      longestStill = Math.max(longestStill, harness.now - floorMovedAt);
    }
    expect(leader.core.role).toBe('leader');
    expect(leader.core.compactionFloor).toBeGreaterThan(first);
    // The hold ends once the stream has not got further for the patience (2.4 s and two chunks at
    // the pace), and the stream starts over with the newest snapshot, which holds as long again.
    expect(longestStill).toBeLessThan(4_000);
  }, 60_000);

  it('a follower that installed and then went silent holds compaction at its match index no longer than the patience', () => {
    const { harness, leader, follower, commitAndPublish } = followerBehindTheFloor();
    const first = leader.core.compactionFloor;
    // Gone right after its install: no append after the snapshot reaches it.
    harness.dropWhen = (_from, to, message) => to === follower.id && message.type === 'appendEntries' && follower.snapshots.length > 0;
    harness.heal();
    harness.advance(1_000);
    commitAndPublish(); // while the stream runs: the follower will need these entries after it
    while (follower.snapshots.length === 0) harness.advance(5);
    expect(follower.snapshots).toEqual([first]);
    const installedAt = harness.now;
    commitAndPublish();
    const newest = leader.core.latestSnapshot?.throughIndex ?? 0;
    expect(leader.core.compactionFloor).toBe(first); // held at its match index for now
    harness.advance(2_400 + 100);
    expect(leader.core.compactionFloor).toBe(newest);
    expect(harness.now - installedAt).toBeLessThan(3_000);
  });
});
