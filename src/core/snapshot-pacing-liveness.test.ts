// A paced snapshot stream (RaftConfig.snapshotBytesPerSecond) always finishes, at about size /
// rate, and never makes the driver spin: run here the way the driver runs a node (a node is
// ticked only when its nextDeadline() is due), over paths with a real round trip, while the
// snapshot, the configuration and the leadership change under the stream.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { DriverLikeRun } from './driver-like-run.test-support.ts';
import type { NodeId } from './types.ts';

const chunkBytes = 1024;

interface Lagging {
  readonly harness: CoreHarness;
  readonly leader: HarnessNode;
  readonly lagging: HarnessNode[];
  readonly snapshotIndex: number;
}

/**
 * A leader whose `laggingCount` followers were cut off while it compacted into a
 * `snapshotChunks`-chunk snapshot (1 KiB chunks), so each needs it; the followers are still cut off.
 */
function laggingFollowers(names: readonly string[], laggingCount: number, snapshotChunks: number, bytesPerSecond: number, seed = 21): Lagging {
  const harness = createCoreHarness(names, seed, names, { snapshotChunkCeiling: chunkBytes, snapshotBytesPerSecond: bytesPerSecond });
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const lagging = [...harness.nodes.values()].filter((node) => node !== leader).slice(0, laggingCount);
  for (const node of lagging) harness.isolate(node.id);
  for (let request = 1; request <= 10; request += 1) leader.core.propose(harness.now, request, new Uint8Array([request]), null);
  harness.advance(50);
  const snapshotIndex = leader.core.applicableIndex;
  leader.core.publishSnapshot(harness.now, snapshotIndex, new Uint8Array(snapshotChunks * chunkBytes).fill(3));
  harness.settle();
  return { harness, leader, lagging, snapshotIndex };
}

/** Offsets of the chunks of snapshot `snapshotIndex` sent to `to` since message `since`, in order. */
function chunkOffsets(harness: CoreHarness, to: NodeId, since: number, snapshotIndex: number): number[] {
  return harness.sent
    .slice(since)
    .flatMap((item) => (item.to === to && item.message.type === 'installSnapshot' && item.message.meta.lastIncludedIndex === snapshotIndex ? [item.message.offset] : []));
}

const everyOffset = (chunks: number): number[] => Array.from({ length: chunks }, (_, chunk) => chunk * chunkBytes);

describe('a paced snapshot stream over a slow path', () => {
  // 1 KiB a second in 1 KiB chunks: a chunk a second, far apart against the stall timeout
  // (electionTimeoutMin, 150 ms), as with 16 KiB chunks at 16 KiB/s. Round trips of 120 ms
  // (below the timeout) and 200 ms (above it).
  for (const oneWayMs of [60, 100]) {
    it(`sends each chunk once and installs in about size / rate (round trip ${2 * oneWayMs} ms, a chunk a second)`, () => {
      const chunks = 8;
      const { harness, leader, lagging, snapshotIndex } = laggingFollowers(['a', 'b', 'c'], 1, chunks, 1024);
      const follower = lagging[0]!;
      const run = new DriverLikeRun(harness, oneWayMs);
      harness.heal();
      run.slowPath(leader.id, follower.id);
      const since = harness.sent.length;
      const start = harness.now;
      expect(run.runUntil(() => follower.snapshots.length > 0, 30_000)).toBe(true);
      expect(follower.snapshots).toEqual([snapshotIndex]);
      // The first chunk, sent before the heal, was lost: it goes again at the pace, then the rest.
      expect(chunkOffsets(harness, follower.id, since, snapshotIndex)).toEqual(everyOffset(chunks));
      expect(harness.now - start).toBeLessThanOrEqual(chunks * 1_000 + 2 * oneWayMs + 50);
      expect(leader.core.role).toBe('leader');
      expect(run.spins).toEqual([]);
    });
  }

  it('recovers a lost chunk at a slow pace: it goes again after the stall timeout and the next pace slot', () => {
    const chunks = 4;
    const { harness, leader, lagging, snapshotIndex } = laggingFollowers(['a', 'b', 'c'], 1, chunks, 1024);
    const follower = lagging[0]!;
    const run = new DriverLikeRun(harness, 20);
    harness.heal();
    run.slowPath(leader.id, follower.id);
    const since = harness.sent.length;
    // Let the chunk at 1 KiB go out, then lose it on the way.
    expect(run.runUntil(() => chunkOffsets(harness, follower.id, since, snapshotIndex).includes(chunkBytes), 5_000)).toBe(true);
    const lost = harness.sent.length;
    const lostAt = harness.now;
    run.loseInTransit();
    expect(run.runUntil(() => follower.snapshots.length > 0, 20_000)).toBe(true);
    expect(chunkOffsets(harness, follower.id, lost, snapshotIndex)).toEqual([chunkBytes, 2 * chunkBytes, 3 * chunkBytes]);
    // Once more in its own slot a second later, then the other two a second apart.
    expect(harness.now - lostAt).toBeLessThanOrEqual(3 * 1_000 + 2 * 20 + 50);
    expect(run.spins).toEqual([]);
  });
});

describe('a stream whose window a lost chunk shrank', () => {
  it('grows the window back once the path delivers in order, so a long round trip does not hold it to one chunk per trip', () => {
    const chunks = 64;
    // Fast enough (1 MiB/s in 1 KiB chunks) that the window, not the pace, sets the rate over a
    // 100 ms round trip: four chunks a trip with the full window, one with a shrunk one.
    const { harness, leader, lagging, snapshotIndex } = laggingFollowers(['a', 'b', 'c'], 1, chunks, 1024 * 1024);
    const follower = lagging[0]!;
    const run = new DriverLikeRun(harness, 50);
    harness.heal();
    run.slowPath(leader.id, follower.id);
    const since = harness.sent.length;
    const lostOffset = 8 * chunkBytes;
    expect(run.runUntil(() => chunkOffsets(harness, follower.id, since, snapshotIndex).includes(lostOffset), 5_000)).toBe(true);
    // Only that chunk is lost: the ones after it arrive out of order and the follower repeats its
    // offset, which shrinks the window to one chunk.
    run.loseInTransitWhere((message) => message.type === 'installSnapshot' && message.offset === lostOffset);
    const start = harness.now;
    expect(run.runUntil(() => follower.snapshots.length > 0, 30_000)).toBe(true);
    expect(follower.snapshots).toEqual([snapshotIndex]);
    // The 56 chunks left at one a round trip would take 5.6 s; with the window back after two
    // windows of in-order acknowledgements, about a quarter of that plus the recovery.
    expect(harness.now - start).toBeLessThan(3_000);
    expect(leader.core.role).toBe('leader');
    expect(run.spins).toEqual([]);
  });
});

describe('two lagging followers', () => {
  it('are paced independently, the leader waking for whichever chunk is due first', () => {
    const chunks = 60;
    // 1 KiB every 16 ms to each (64,000 bytes a second): streams (re)started on different
    // heartbeats (50 ms apart) are out of step, so each needs its own wake-ups.
    const { harness, leader, lagging, snapshotIndex } = laggingFollowers(['a', 'b', 'c', 'd', 'e'], 2, chunks, 64_000, 23);
    const [first, second] = lagging as [HarnessNode, HarnessNode];
    const run = new DriverLikeRun(harness);
    harness.heal();
    harness.isolate(second.id);
    run.runUntil(() => false, 200); // the first stream resumes; chunks to the second are still lost
    harness.heal();
    expect(run.runUntil(() => first.snapshots.length > 0 && second.snapshots.length > 0, 3_000)).toBe(true);
    const startedAt: number[] = [];
    for (const follower of [first, second]) {
      expect(follower.snapshots).toEqual([snapshotIndex]);
      // The stream that got through: each chunk once, the first two at once (lateness after a
      // stall is made up), then one every 16 ms on the dot.
      const stream = run.chunks.filter((chunk) => chunk.to === follower.id).slice(-chunks);
      expect(stream.map((chunk) => chunk.offset)).toEqual(everyOffset(chunks));
      const gaps = stream.slice(2).map((chunk, index) => chunk.at - (stream[index + 1] as { at: number }).at);
      expect(new Set(gaps)).toEqual(new Set([16]));
      startedAt.push((stream[0] as { at: number }).at);
    }
    // They overlapped, out of step.
    expect((startedAt[1] as number) - (startedAt[0] as number)).toBeLessThan(chunks * 16);
    expect(((startedAt[1] as number) - (startedAt[0] as number)) % 16).not.toBe(0);
    expect(run.ticks.get(leader.id)).toBeLessThanOrEqual(2 * chunks + 30);
    expect(run.spins).toEqual([]);
  });
});

describe('a paced stream when things change under it', () => {
  /** A stream to one follower, 1 KiB every 10 ms, running for `ms` before the change. */
  function midStream(snapshotChunks: number, ms: number) {
    const lagged = laggingFollowers(['a', 'b', 'c'], 1, snapshotChunks, chunkBytes * 100);
    const follower = lagged.lagging[0]!;
    const run = new DriverLikeRun(lagged.harness);
    lagged.harness.heal();
    const since = lagged.harness.sent.length;
    run.runUntil(() => false, ms);
    expect(chunkOffsets(lagged.harness, follower.id, since, lagged.snapshotIndex).length).toBeGreaterThan(1);
    expect(follower.snapshots).toEqual([]);
    return { ...lagged, follower, run };
  }

  /** The leader commits a few more entries and publishes a snapshot of `bytes` bytes through them. */
  function publishNewer(lagged: Lagging, bytes: number): number {
    const { harness, leader } = lagged;
    for (let request = 100; request < 103; request += 1) leader.core.propose(harness.now, request, new Uint8Array([request]), null);
    harness.settle();
    const index = leader.core.applicableIndex;
    expect(index).toBeGreaterThan(lagged.snapshotIndex);
    expect(leader.core.publishSnapshot(harness.now, index, new Uint8Array(bytes).fill(7))).toBe(true);
    harness.settle();
    return index;
  }

  for (const [name, bytes] of [
    ['larger', 40 * chunkBytes],
    ['smaller than what was already sent', chunkBytes / 2],
    ['empty', 0],
  ] as const) {
    // Until a review on 2026-12-06, a newer snapshot replaced the one being streamed (restarting
    // at offset 0), and one published faster than a stream takes never let a follower install.
    it(`a newer snapshot, ${name}, leaves the stream alone: the follower installs the one it was sent, at the pace, then catches up from the log`, () => {
      const lagged = midStream(20, 60);
      const { harness, follower, run } = lagged;
      const newer = publishNewer(lagged, bytes);
      const publishedAt = harness.now;
      expect(run.runUntil(() => follower.snapshots.length > 0, 2_000)).toBe(true);
      expect(follower.snapshots).toEqual([lagged.snapshotIndex]);
      // The stream keeps its pace (what was left of its 20 chunks, one every 10 ms), not restarted.
      expect(harness.now - publishedAt).toBeLessThanOrEqual(20 * 10 + 50 + 10);
      expect(chunkOffsets(harness, follower.id, 0, newer)).toEqual([]);
      expect(run.runUntil(() => follower.core.commitIndex >= newer, 1_000)).toBe(true);
      expect(follower.snapshots).toEqual([lagged.snapshotIndex]);
      expect(run.spins).toEqual([]);
    });
  }

  it('a follower removed from the configuration stops receiving chunks once the removal commits', () => {
    const lagged = midStream(200, 60);
    const { harness, leader, follower, run } = lagged;
    const rest = [...harness.nodes.keys()].filter((id) => id !== follower.id);
    leader.core.changeMembership(harness.now, 1, { voters: rest });
    harness.settle();
    expect(run.runUntil(() => !leader.core.matchIndexes().has(follower.id), 1_000)).toBe(true);
    const removedAt = harness.sent.length;
    run.runUntil(() => false, 500);
    expect(chunkOffsets(harness, follower.id, removedAt, lagged.snapshotIndex)).toEqual([]);
    expect(leader.core.role).toBe('leader');
    expect(run.spins).toEqual([]);
  });

  it('a leader that loses its quorum mid-stream stops streaming; the follower catches up from the next leader', () => {
    const lagged = midStream(40, 60);
    const { harness, leader, follower, run } = lagged;
    const other = [...harness.nodes.values()].find((node) => node !== leader && node !== follower)!;
    harness.isolate(leader.id);
    expect(run.runUntil(() => leader.core.role !== 'leader', 1_000)).toBe(true);
    const steppedDownAt = harness.sent.length;
    // The next leader compacted nothing: it sends the follower its log instead.
    expect(run.runUntil(() => follower.core.commitIndex >= lagged.snapshotIndex, 5_000)).toBe(true);
    expect(harness.sent.slice(steppedDownAt).filter((item) => item.from === leader.id && item.message.type === 'installSnapshot')).toEqual([]);
    expect(other.core.role).toBe('leader');
    expect(run.spins).toEqual([]);
    harness.heal();
    run.runUntil(() => false, 500);
    expect(run.spins).toEqual([]);
  });

  it('a leadership transfer to the follower being streamed to waits for the stream at its pace, then hands over', () => {
    const lagged = midStream(10, 30);
    const { harness, leader, follower, run } = lagged;
    leader.core.transferLeadership(harness.now, 1, follower.id);
    harness.settle();
    expect(run.runUntil(() => leader.transfers.length > 0, 1_000)).toBe(true);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: null }]);
    expect(follower.snapshots).toEqual([lagged.snapshotIndex]);
    expect(follower.core.role).toBe('leader');
    expect(run.spins).toEqual([]);
  });

  it('a transfer the stream cannot finish in time is abandoned on its timeout; the stream goes on to the install', () => {
    const lagged = midStream(100, 30); // a second of stream against a 300 ms transfer timeout
    const { harness, leader, follower, run } = lagged;
    leader.core.transferLeadership(harness.now, 1, follower.id);
    harness.settle();
    expect(run.runUntil(() => leader.transfers.length > 0, 1_000)).toBe(true);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'timeout' }]);
    expect(leader.core.role).toBe('leader');
    expect(run.runUntil(() => follower.snapshots.length > 0, 2_000)).toBe(true);
    expect(follower.snapshots).toEqual([lagged.snapshotIndex]);
    expect(run.spins).toEqual([]);
  });
});
