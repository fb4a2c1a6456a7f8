import { describe, expect, it } from 'vitest';
import { createProgress, type SnapshotStream } from './progress.ts';
import {
  acknowledgeSnapshotOffset,
  beginSnapshotStream,
  nextSnapshotChunks,
  resendStalledSnapshot,
  snapshotChunkDueAt,
  snapshotChunksInFlight,
  snapshotFirstRegrowAcks,
  snapshotHoldPatienceMs,
  snapshotStreamAdvancing,
  snapshotWindowChunks,
  takeLostReassembly,
} from './snapshot-sender.ts';

const unpaced = { chunkBytes: 1_000, bytesPerSecond: Number.POSITIVE_INFINITY };
/** 1,000-byte chunks at 100,000 bytes per second: one every 10 ms. */
const paced = { chunkBytes: 1_000, bytesPerSecond: 100_000 };
/** The default configuration's: at least 150 ms, a 50 ms margin above the round trip, at most 2.4 s. */
const stallBounds = { floorMs: 150, marginMs: 50, ceilingMs: 2_400 };
/** A stream of a snapshot through `index` (these tests pass sizes and pace to the sender themselves: 1,000-byte chunks). */
const streamOf = (index: number): SnapshotStream => ({ snapshot: { meta: { lastIncludedIndex: index, lastIncludedTerm: 1 }, state: new Uint8Array(0) }, chunkBytes: 1_000 });
const offsets = (chunks: ReadonlyArray<{ offset: number }>): number[] => chunks.map((chunk) => chunk.offset);

describe('snapshot stream flow control', () => {
  it('keeps a bounded window of chunks in flight and advances on acknowledgements', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    const first = nextSnapshotChunks(progress, 10_000, unpaced, 0);
    expect(first.map((chunk) => chunk.offset)).toEqual([0, 1_000, 2_000, 3_000].slice(0, snapshotChunksInFlight));
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 0)).toEqual([]); // window full
    acknowledgeSnapshotOffset(progress, 2_000, 5, 50, stallBounds);
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 0).map((chunk) => chunk.offset)).toEqual([4_000, 5_000]);
  });

  it('clamps a hostile acknowledgement to what was sent', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, unpaced, 0);
    acknowledgeSnapshotOffset(progress, Number.MAX_SAFE_INTEGER, 5, 50, stallBounds);
    expect(progress.snapshotAckedBytes).toBe(4_000);
  });

  it('resends from a stuck offset at most once per interval, then one chunk at a time', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, unpaced, 0);
    acknowledgeSnapshotOffset(progress, 1_000, 10, 50, stallBounds); // progress
    acknowledgeSnapshotOffset(progress, 1_000, 11, 50, stallBounds); // the same offset again: chunk 1,000 was lost
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 0).map((chunk) => chunk.offset)).toEqual([1_000]);
    acknowledgeSnapshotOffset(progress, 1_000, 12, 50, stallBounds); // within the interval: no second resend
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 0)).toEqual([]);
  });

  it('resends from the first unacknowledged chunk when no snapshot progress was made for the timeout, one chunk until an answer', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, unpaced, 0);
    resendStalledSnapshot(progress, 100, stallBounds);
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 0)).toEqual([]);
    resendStalledSnapshot(progress, 200, stallBounds);
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 200).map((chunk) => chunk.offset)).toEqual([0]);
    expect(snapshotWindowChunks(progress, unpaced)).toBe(1);
    acknowledgeSnapshotOffset(progress, 2_000, 250, 50, stallBounds); // the answers came after all
    expect(nextSnapshotChunks(progress, 10_000, unpaced, 250).map((chunk) => chunk.offset)).toEqual([2_000, 3_000, 4_000, 5_000]);
  });

  it('paces chunks evenly: one per interval, never a window at once', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    expect(offsets(nextSnapshotChunks(progress, 10_000, paced, 0))).toEqual([0]);
    expect(snapshotChunkDueAt(progress, 10_000, paced)).toBe(10);
    expect(nextSnapshotChunks(progress, 10_000, paced, 9)).toEqual([]);
    expect(offsets(nextSnapshotChunks(progress, 10_000, paced, 10))).toEqual([1_000]);
    expect(offsets(nextSnapshotChunks(progress, 10_000, paced, 20))).toEqual([2_000]);
    expect(snapshotChunkDueAt(progress, 10_000, paced)).toBe(30);
  });

  it('banks no idle time: after a long wait for acknowledgements at most two chunks go at once', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    for (const now of [0, 10, 20, 30]) nextSnapshotChunks(progress, 10_000, paced, now);
    expect(progress.snapshotSentBytes).toBe(snapshotChunksInFlight * 1_000);
    // The window is full: only an acknowledgement (or the stall timeout) moves the stream on.
    expect(snapshotChunkDueAt(progress, 10_000, paced)).toBe(Number.POSITIVE_INFINITY);
    acknowledgeSnapshotOffset(progress, 4_000, 500, 50, stallBounds);
    expect(offsets(nextSnapshotChunks(progress, 10_000, paced, 500))).toEqual([4_000, 5_000]);
    expect(snapshotChunkDueAt(progress, 10_000, paced)).toBe(510);
  });

  it('makes up a late tick of less than one interval, so the stream keeps its rate', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, paced, 0);
    expect(offsets(nextSnapshotChunks(progress, 10_000, paced, 14))).toEqual([1_000]); // 4 ms late
    expect(snapshotChunkDueAt(progress, 10_000, paced)).toBe(20); // still on the 10 ms grid
  });

  it('spaces chunks by their size: a short last chunk leaves a short gap', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 1_500, paced, 0);
    expect(offsets(nextSnapshotChunks(progress, 1_500, paced, 10))).toEqual([1_000]);
    expect(progress.snapshotPacedUntil).toBe(15);
    expect(snapshotChunkDueAt(progress, 1_500, paced)).toBe(Number.POSITIVE_INFINITY); // all sent
  });

  it('a new stream starts at once, whatever the last one left', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, paced, 0);
    beginSnapshotStream(progress, streamOf(200), 1);
    expect(offsets(nextSnapshotChunks(progress, 10_000, paced, 1))).toEqual([0]);
  });

  /** 1,000-byte chunks at 1,000 bytes per second: one a second, far beyond a 150 ms stall timeout. */
  const slow = { chunkBytes: 1_000, bytesPerSecond: 1_000 };

  it('starts the stall clock when a chunk goes out: a paced stream waiting for its next chunk is not stalled', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, slow, 0);
    acknowledgeSnapshotOffset(progress, 1_000, 20, 50, stallBounds);
    expect(offsets(nextSnapshotChunks(progress, 10_000, slow, 1_000))).toEqual([1_000]);
    // 980 ms since the last acknowledgement, but the chunk in flight went out 100 ms ago: a stall
    // timeout of 150 ms has not passed for it, so it is not given up for lost.
    resendStalledSnapshot(progress, 1_100, stallBounds);
    expect(progress.snapshotSentBytes).toBe(2_000);
    resendStalledSnapshot(progress, 1_150, stallBounds);
    expect(progress.snapshotSentBytes).toBe(1_000);
  });

  it('takes an acknowledgement that comes after a stall gave its chunk up, instead of sending the chunk again', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, slow, 0);
    resendStalledSnapshot(progress, 150, stallBounds); // the round trip is longer than the stall timeout
    expect(progress.snapshotSentBytes).toBe(0);
    acknowledgeSnapshotOffset(progress, 1_000, 160, 50, stallBounds); // the answer, late, before the paced resend
    expect(progress.snapshotAckedBytes).toBe(1_000);
    expect(offsets(nextSnapshotChunks(progress, 10_000, slow, 1_000))).toEqual([1_000]);
  });

  it('clamps an acknowledgement to the furthest byte sent, also after a stall', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, streamOf(100), 0);
    nextSnapshotChunks(progress, 10_000, slow, 0);
    resendStalledSnapshot(progress, 150, stallBounds);
    acknowledgeSnapshotOffset(progress, Number.MAX_SAFE_INTEGER, 160, 50, stallBounds);
    expect(progress.snapshotAckedBytes).toBe(1_000);
    beginSnapshotStream(progress, streamOf(200), 170); // a new stream: nothing of it was sent yet
    acknowledgeSnapshotOffset(progress, 1_000, 180, 50, stallBounds);
    expect(progress.snapshotAckedBytes).toBe(0);
  });

  describe('a shrunk window grows back', () => {
    const total = 1_000_000;
    /** Streams with `progress` and acknowledges each chunk in order, `count` times, one ms apart. */
    const acknowledgeInOrder = (progress: ReturnType<typeof createProgress>, count: number, start: number): number => {
      let now = start;
      for (let acknowledged = 0; acknowledged < count; acknowledged += 1) {
        now += 1;
        nextSnapshotChunks(progress, total, unpaced, now);
        acknowledgeSnapshotOffset(progress, progress.snapshotAckedBytes + 1_000, now, 50, stallBounds);
      }
      return now;
    };
    /** A stuck offset seen again: the rate-limited fall back to one chunk in flight. */
    const shrink = (progress: ReturnType<typeof createProgress>, now: number): void => {
      nextSnapshotChunks(progress, total, unpaced, now);
      acknowledgeSnapshotOffset(progress, progress.snapshotAckedBytes, now, 50, stallBounds);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(1);
    };
    /** A stream whose window the first stuck offset shrank, at 100 ms. */
    const shrunkStream = (): ReturnType<typeof createProgress> => {
      const progress = createProgress(1, 0);
      beginSnapshotStream(progress, streamOf(100), 0);
      shrink(progress, 100);
      return progress;
    };

    it('after two windows of in-order acknowledgements', () => {
      const progress = shrunkStream();
      let now = acknowledgeInOrder(progress, snapshotFirstRegrowAcks - 1, 100);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(1);
      now = acknowledgeInOrder(progress, 1, now);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(snapshotChunksInFlight);
      expect(offsets(nextSnapshotChunks(progress, total, unpaced, now + 1))).toHaveLength(snapshotChunksInFlight);
    });

    it('waits twice as long after each further shrink, so a path that keeps reordering costs little', () => {
      const progress = shrunkStream();
      let now = acknowledgeInOrder(progress, snapshotFirstRegrowAcks, 100);
      shrink(progress, now + 100);
      now = acknowledgeInOrder(progress, 2 * snapshotFirstRegrowAcks - 1, now + 100);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(1);
      acknowledgeInOrder(progress, 1, now);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(snapshotChunksInFlight);
    });

    it('counts a stuck offset seen again while the window is down as the same shrink', () => {
      const progress = shrunkStream();
      // Past the resent chunks (so no answer to a duplicate), and the resend interval passed: a
      // loss in the same episode, not a second shrink.
      let now = acknowledgeInOrder(progress, snapshotChunksInFlight + 1, 100);
      shrink(progress, now + 100);
      now = acknowledgeInOrder(progress, snapshotFirstRegrowAcks - 1, now + 100);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(1);
      acknowledgeInOrder(progress, 1, now);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(snapshotChunksInFlight);
    });

    it('a new stream starts with the full window and the first wait', () => {
      const progress = shrunkStream();
      const now = acknowledgeInOrder(progress, snapshotFirstRegrowAcks, 100);
      shrink(progress, now + 100);
      beginSnapshotStream(progress, streamOf(200), now + 200);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(snapshotChunksInFlight);
      shrink(progress, now + 300);
      acknowledgeInOrder(progress, snapshotFirstRegrowAcks, now + 300);
      expect(snapshotWindowChunks(progress, unpaced)).toBe(snapshotChunksInFlight);
    });
  });

  // Review snap52: a follower that answers every chunk but gets nowhere (it keeps restarting
  // mid-install, or repeats an offset) must not hold the leader's compaction for good.
  describe('whether a stream gets anywhere', () => {
    /** A paced stream (a chunk every 10 ms) whose follower acknowledged 4,000 bytes by t = 40. */
    function fourChunksIn(): ReturnType<typeof createProgress> {
      const progress = createProgress(1, 0);
      beginSnapshotStream(progress, streamOf(100), 0);
      for (let k = 0; k < 4; k += 1) {
        nextSnapshotChunks(progress, 10_000, paced, k * 10);
        acknowledgeSnapshotOffset(progress, (k + 1) * 1_000, k * 10 + 5, 50, stallBounds);
      }
      return progress;
    }

    it('counts as getting somewhere until its furthest acknowledged byte has not moved for the patience', () => {
      const progress = fourChunksIn();
      const patience = snapshotHoldPatienceMs(paced, stallBounds);
      expect(patience).toBe(2_400 + 20);
      expect(snapshotStreamAdvancing(progress, 35 + patience - 1, paced, stallBounds)).toBe(true);
      expect(snapshotStreamAdvancing(progress, 35 + patience, paced, stallBounds)).toBe(false);
      // Repeating what it acknowledged, or less, is not getting further.
      acknowledgeSnapshotOffset(progress, 4_000, 1_000, 50, stallBounds);
      acknowledgeSnapshotOffset(progress, 0, 2_000, 50, stallBounds);
      expect(snapshotStreamAdvancing(progress, 35 + patience, paced, stallBounds)).toBe(false);
    });

    it('a reordered old answer below the furthest byte is no lost reassembly once an answer reaches it again', () => {
      const progress = fourChunksIn();
      acknowledgeSnapshotOffset(progress, 1_000, 100, 50, stallBounds); // late, and rewinds the stream
      expect(progress.snapshotFellBackAt).toBe(100);
      nextSnapshotChunks(progress, 10_000, paced, 100);
      acknowledgeSnapshotOffset(progress, 4_000, 105, 50, stallBounds); // the follower had it all
      expect(takeLostReassembly(progress, 10_000, paced, stallBounds)).toBe(false);
    });

    it('a follower that fell back and does not get back within a stall timeout and a chunk lost its reassembly, counted once', () => {
      const progress = fourChunksIn();
      acknowledgeSnapshotOffset(progress, 0, 100, 50, stallBounds); // it restarted
      nextSnapshotChunks(progress, 10_000, paced, 100);
      acknowledgeSnapshotOffset(progress, 1_000, 105, 50, stallBounds);
      // The stall timeout is the 150 ms floor (the samples were 5 ms), a chunk 10 ms.
      expect(takeLostReassembly(progress, 100 + 159, paced, stallBounds)).toBe(false);
      expect(takeLostReassembly(progress, 100 + 160, paced, stallBounds)).toBe(true);
      expect(takeLostReassembly(progress, 100 + 161, paced, stallBounds)).toBe(false);
      // From there the stream gets somewhere again as the follower gets further.
      expect(progress.snapshotFurthestAckedBytes).toBe(1_000);
      nextSnapshotChunks(progress, 10_000, paced, 300);
      acknowledgeSnapshotOffset(progress, 2_000, 305, 50, stallBounds);
      expect(progress.snapshotFurthestAckedAt).toBe(305);
    });
  });
});
