// A leader paces a snapshot stream (RaftConfig.snapshotBytesPerSecond): chunks go out evenly
// spaced in time, driven by the leader's own deadline, not in window-sized bursts.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';

const chunkBytes = 1024;
const snapshotBytes = 20 * chunkBytes;

interface Streamed {
  readonly harness: CoreHarness;
  readonly leader: HarnessNode;
  readonly lagging: HarnessNode;
  readonly snapshotIndex: number;
}

/** A lagging follower that needs a 20-chunk snapshot, the stream not yet started. */
function laggingFollower(bytesPerSecond: number): Streamed {
  const harness = createCoreHarness(['a', 'b', 'c'], 21, ['a', 'b', 'c'], { snapshotChunkCeiling: chunkBytes, snapshotBytesPerSecond: bytesPerSecond });
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const lagging = [...harness.nodes.values()].find((node) => node !== leader)!;
  harness.isolate(lagging.id);
  for (let request = 1; request <= 10; request += 1) leader.core.propose(harness.now, request, new Uint8Array([request]), null);
  harness.advance(50);
  const snapshotIndex = leader.core.applicableIndex;
  leader.core.publishSnapshot(harness.now, snapshotIndex, new Uint8Array(snapshotBytes).fill(3));
  harness.settle();
  return { harness, leader, lagging, snapshotIndex };
}

/**
 * Heals the partition and runs time forward 1 ms at a time until the install, `untilMs`, or (with
 * `firstOnly`) the first step that sent chunks; returns when each chunk was first sent, by offset.
 */
function chunkTimes(streamed: Streamed, untilMs: number, firstOnly = false): Map<number, number> {
  const { harness, lagging } = streamed;
  const sentAt = new Map<number, number>();
  let seen = harness.sent.length;
  harness.heal();
  while (harness.now < untilMs && lagging.snapshots.length === 0) {
    harness.now += 1;
    for (const node of harness.nodes.values()) node.core.tick(harness.now);
    harness.settle();
    for (const item of harness.sent.slice(seen)) {
      if (item.to === lagging.id && item.message.type === 'installSnapshot' && !sentAt.has(item.message.offset)) sentAt.set(item.message.offset, harness.now);
    }
    seen = harness.sent.length;
    if (firstOnly && sentAt.size > 0) break;
  }
  return sentAt;
}

describe('snapshot pacing', () => {
  it('spaces chunks by their size over the rate, and installs in about size / rate', () => {
    const streamed = laggingFollower(chunkBytes * 100); // one 1 KiB chunk every 10 ms
    const start = streamed.harness.now;
    const sentAt = chunkTimes(streamed, start + 2_000);
    expect(streamed.lagging.snapshots).toEqual([streamed.snapshotIndex]);
    const times = [...sentAt.entries()].sort((left, right) => left[0] - right[0]).map(([, at]) => at);
    expect(times).toHaveLength(snapshotBytes / chunkBytes);
    for (let index = 1; index < times.length; index += 1) expect(times[index]! - times[index - 1]!).toBeGreaterThanOrEqual(10);
    // Not slower than the pace either: the leader wakes itself for each chunk (its heartbeat
    // interval, 50 ms, would otherwise set the rhythm).
    expect(times[times.length - 1]! - times[0]!).toBeLessThanOrEqual(19 * 10 + 19);
    expect(streamed.leader.core.role).toBe('leader');
  });

  it("the leader's next deadline is the next chunk's, while its window has room", () => {
    const streamed = laggingFollower(chunkBytes * 100);
    const { harness, leader } = streamed;
    const sentAt = chunkTimes(streamed, harness.now + 1_000, true);
    expect([...sentAt.keys()]).toEqual([0]); // the stream starts with one chunk
    expect(leader.core.nextDeadline()).toBe(harness.now + 10);
  });

  it('Infinity turns pacing off: only the window and the acknowledgements set the pace', () => {
    const streamed = laggingFollower(Number.POSITIVE_INFINITY);
    // The harness delivers at once, so acknowledgements open the window again within the step.
    const sentAt = chunkTimes(streamed, streamed.harness.now + 1_000, true);
    expect(sentAt.size).toBe(snapshotBytes / chunkBytes);
    expect(new Set(sentAt.values()).size).toBe(1);
    expect(streamed.lagging.snapshots).toEqual([streamed.snapshotIndex]);
  });
});
