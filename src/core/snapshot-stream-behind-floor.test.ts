// A stalled stream (its follower unreachable) holds no compaction, and once the floor passes the
// snapshot it sends it starts over with the newest. A review of the night's stream fix found it
// kept the stale state for as long as the follower was away, and then streamed it in full before
// a second full stream of the newest (2026-12-06).
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import type { FollowerProgress } from './progress.ts';

const chunkBytes = 1024;
const snapshotBytes = 20 * chunkBytes;

describe('a stalled snapshot stream behind the floor', () => {
  it('a follower back after its stream stalled gets only the newest snapshot, and the stale one is not pinned meanwhile', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 7, ['a', 'b', 'c'], { snapshotChunkCeiling: chunkBytes, snapshotBytesPerSecond: 10 * 1024 });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    harness.isolate(follower.id);
    let request = 1;
    const commitAndPublish = (): void => {
      for (let k = 0; k < 5; k += 1) leader.core.propose(harness.now, request, new Uint8Array([request++ & 0xff]), null);
      harness.advance(20);
      leader.core.publishSnapshot(harness.now, leader.core.applicableIndex, new Uint8Array(snapshotBytes).fill(request & 0xff));
      harness.settle();
    };
    commitAndPublish();
    const first = leader.core.compactionFloor;
    const progress = (): FollowerProgress | undefined => (leader.core as unknown as { core: { progress: Map<string, FollowerProgress> } }).core.progress.get(follower.id);
    harness.heal();
    harness.advance(500); // a quarter of the stream of `first`
    harness.isolate(follower.id);
    harness.advance(10_000); // the stream stalls
    for (let k = 0; k < 5; k += 1) {
      harness.advance(60_000);
      commitAndPublish();
    }
    const newest = leader.core.latestSnapshot?.throughIndex ?? 0;
    expect(leader.core.compactionFloor).toBe(newest);
    const sentBefore = harness.sent.length;
    // Five minutes and five publishes later, the leader still holds the first snapshot for this stream.
    const pinned = progress()?.snapshotStream?.snapshot.meta.lastIncludedIndex;
    harness.heal();
    harness.advance(30_000);
    const streamed = [
      ...new Set(
        harness.sent
          .slice(sentBefore)
          .flatMap((item) => (item.to === follower.id && item.message.type === 'installSnapshot' ? [item.message.meta.lastIncludedIndex] : [])),
      ),
    ];
    expect(follower.core.commitIndex).toBe(leader.core.commitIndex);
    expect({ pinned, streamedAfterHeal: streamed, installs: follower.snapshots }).toEqual({ pinned: newest, streamedAfterHeal: [newest], installs: [newest] });
    expect(first).toBeLessThan(newest);
  }, 60_000);
});
