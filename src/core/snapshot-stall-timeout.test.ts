// The snapshot stream's stall decision follows the follower's measured round trip: samples from
// chunks sent once (Karn's rule), a timeout of max(electionTimeoutMin, SRTT + max(margin,
// 4 x RTTVAR)), doubled per stall with no sample since, bounded, and kept across streams.
import { describe, expect, it } from 'vitest';
import { defaultResolvedRaftConfig } from './config.ts';
import { becomeProbe, createProgress, type FollowerProgress, type SnapshotStream } from './progress.ts';
import {
  acknowledgeSnapshotOffset,
  beginSnapshotStream,
  nextSnapshotChunks,
  resendStalledSnapshot,
  snapshotBytesInFlightCeiling,
  snapshotChunksInFlight,
  snapshotStallBounds,
  snapshotStallTimeoutMs,
  snapshotWindowChunks,
} from './snapshot-sender.ts';

/** A stream of a snapshot through `index` (these tests pass sizes and pace to the sender themselves: 1,000-byte chunks). */
const streamOf = (index: number): SnapshotStream => ({ snapshot: { meta: { lastIncludedIndex: index, lastIncludedTerm: 1 }, state: new Uint8Array(0) }, chunkBytes: 1_000 });
const stallBounds = snapshotStallBounds(defaultResolvedRaftConfig);
/** 1,000-byte chunks, one every 10 ms. */
const paced = { chunkBytes: 1_000, bytesPerSecond: 100_000 };
const total = 100_000;
const resendIntervalMs = 50;

function stream(): FollowerProgress {
  const progress = createProgress(1, 0);
  beginSnapshotStream(progress, streamOf(100), 0);
  return progress;
}

const acknowledge = (progress: FollowerProgress, offset: number, now: number): void => acknowledgeSnapshotOffset(progress, offset, now, resendIntervalMs, stallBounds);

describe('the snapshot stall timeout bounds', () => {
  it('derive from the configuration: electionTimeoutMin, a heartbeat interval of margin, 8 x electionTimeoutMax', () => {
    expect(stallBounds).toEqual({ floorMs: 150, marginMs: 50, ceilingMs: 2_400 });
    expect(snapshotStallBounds({ electionTimeoutMinMs: 1_000, electionTimeoutMaxMs: 2_000, heartbeatIntervalMs: 100 })).toEqual({ floorMs: 1_000, marginMs: 100, ceilingMs: 16_000 });
  });
});

describe('round-trip samples from snapshot chunks', () => {
  it('times a chunk from its sending to the first acknowledgement that reaches its end', () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, paced, 0); // chunk 0, timed
    nextSnapshotChunks(progress, total, paced, 10); // chunk 1,000, not timed: one at a time
    acknowledge(progress, 1_000, 300);
    expect(progress.roundTrip.smoothedMs).toBe(300);
    acknowledge(progress, 2_000, 310);
    expect(progress.roundTrip.smoothedMs).toBe(300); // no second sample from the untimed chunk
    nextSnapshotChunks(progress, total, paced, 310); // the next chunk is timed
    acknowledge(progress, 3_000, 610);
    expect(progress.roundTrip.smoothedMs).toBe(300);
    expect(progress.roundTrip.deviationMs).toBe((3 / 4) * 150);
  });

  it('takes a cumulative acknowledgement past the timed chunk as its answer', () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, paced, 0);
    nextSnapshotChunks(progress, total, paced, 10);
    acknowledge(progress, 2_000, 250); // the first answer was lost; the second covers both
    expect(progress.roundTrip.smoothedMs).toBe(250);
  });

  it("Karn's rule: no sample from a chunk that went twice, whichever copy the answer is to", () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, paced, 0);
    resendStalledSnapshot(progress, 150, stallBounds); // the round trip is longer than the floor
    expect(nextSnapshotChunks(progress, total, paced, 150).map((chunk) => chunk.offset)).toEqual([0]);
    acknowledge(progress, 1_000, 300); // to the first copy, or to the second 150 ms after it?
    expect(progress.roundTrip.smoothedMs).toBeNull();
    // The next chunk goes for the first time (with one more: lateness is made up), and gives the sample.
    expect(nextSnapshotChunks(progress, total, paced, 300).map((chunk) => chunk.offset)).toEqual([1_000, 2_000]);
    acknowledge(progress, 2_000, 600);
    expect(progress.roundTrip.smoothedMs).toBe(300);
  });

  it('a resend rewound by a lost chunk times no chunk below the furthest sent', () => {
    const progress = stream();
    for (const now of [0, 10, 20, 30]) nextSnapshotChunks(progress, total, paced, now);
    acknowledge(progress, 1_000, 100); // sample from chunk 0
    for (const now of [100, 110]) nextSnapshotChunks(progress, total, paced, now); // 4,000 (timed) and 5,000
    acknowledge(progress, 1_000, 120); // chunk 1,000 was lost: rewind to it
    expect(progress.snapshotTimedChunk).toBeNull();
    for (const now of [130, 140, 150, 160, 170]) nextSnapshotChunks(progress, total, paced, now);
    expect(progress.snapshotTimedChunk).toBeNull(); // window of one: only 1,000 went again
    acknowledge(progress, 2_000, 230);
    nextSnapshotChunks(progress, total, paced, 230); // 2,000: a resend
    expect(progress.snapshotTimedChunk).toBeNull();
  });
});

describe('the stall decision', () => {
  /** A stream whose path was measured at a steady `roundTripMs`, before the clock reads 10,000. */
  function measured(roundTripMs: number): FollowerProgress {
    const progress = stream();
    let now = 0;
    for (let round = 0; round < 30; round += 1) {
      nextSnapshotChunks(progress, total, paced, now);
      now += roundTripMs;
      acknowledge(progress, progress.snapshotSentBytes, now);
      now += 10;
    }
    expect(progress.roundTrip.smoothedMs).toBeCloseTo(roundTripMs, 6);
    return progress;
  }

  it('before any measurement, waits electionTimeoutMin as before', () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, paced, 0);
    resendStalledSnapshot(progress, 149, stallBounds);
    expect(progress.snapshotSentBytes).toBe(1_000);
    resendStalledSnapshot(progress, 150, stallBounds);
    expect(progress.snapshotSentBytes).toBe(0);
  });

  it('on a measured 300 ms path, waits the round trip plus the margin before giving a chunk up', () => {
    const progress = measured(300);
    expect(snapshotStallTimeoutMs(progress, stallBounds)).toBe(350);
    const sentAt = 10_000;
    nextSnapshotChunks(progress, total, paced, sentAt);
    const inFlight = progress.snapshotSentBytes;
    resendStalledSnapshot(progress, sentAt + 300, stallBounds); // the answer is due now: not yet lost
    expect(progress.snapshotSentBytes).toBe(inFlight);
    resendStalledSnapshot(progress, sentAt + 349, stallBounds);
    expect(progress.snapshotSentBytes).toBe(inFlight);
    resendStalledSnapshot(progress, sentAt + 350, stallBounds);
    expect(progress.snapshotSentBytes).toBe(progress.snapshotAckedBytes);
  });

  it('on a fast path, still waits electionTimeoutMin', () => {
    expect(snapshotStallTimeoutMs(measured(4), stallBounds)).toBe(150);
  });

  it('backs off on stalls in a row with no answer (a follower that stopped answering), bounded by the ceiling', () => {
    const progress = measured(300);
    let now = 10_000;
    nextSnapshotChunks(progress, total, paced, now);
    const resendsAt: number[] = [];
    while (now < 30_000) {
      now += 1;
      const before = progress.snapshotSentBytes;
      resendStalledSnapshot(progress, now, stallBounds);
      if (progress.snapshotSentBytes < before) resendsAt.push(now);
      nextSnapshotChunks(progress, total, paced, now); // the resend goes at once
    }
    const gaps = resendsAt.map((at, index) => at - (index === 0 ? 10_000 : (resendsAt[index - 1] as number)));
    expect(gaps.slice(0, 4)).toEqual([350, 700, 1_400, 2_400]);
    expect(new Set(gaps.slice(4))).toEqual(new Set([2_400]));
  });

  it('an answer to a chunk sent once ends the backoff; progress on resent chunks does not', () => {
    const progress = measured(300);
    nextSnapshotChunks(progress, total, paced, 10_000);
    resendStalledSnapshot(progress, 10_400, stallBounds);
    nextSnapshotChunks(progress, total, paced, 10_400);
    expect(progress.roundTrip.backoffs).toBe(1);
    acknowledge(progress, progress.snapshotSentBytes, 10_500); // the resent chunk: no sample
    expect(progress.roundTrip.backoffs).toBe(1);
    nextSnapshotChunks(progress, total, paced, 10_500);
    acknowledge(progress, progress.snapshotSentBytes, 10_800);
    expect(progress.roundTrip.backoffs).toBe(0);
  });

  it('is no stall while nothing is in flight: a slow pace waiting for its next chunk neither resends nor backs off', () => {
    const progress = stream();
    const slow = { chunkBytes: 1_000, bytesPerSecond: 1_000 };
    nextSnapshotChunks(progress, total, slow, 0);
    acknowledge(progress, 1_000, 100);
    resendStalledSnapshot(progress, 900, stallBounds);
    expect(progress.roundTrip.backoffs).toBe(0);
    expect(progress.snapshotResentThroughBytes).toBe(-1);
  });
});

describe('answers to duplicates', () => {
  it('a repeated offset within what went twice is the answer to a duplicate, not a loss: no second rewind', () => {
    const progress = stream();
    for (const now of [0, 10, 20, 30]) nextSnapshotChunks(progress, total, paced, now);
    resendStalledSnapshot(progress, 150, stallBounds); // too early: the answers are on their way
    for (const now of [150, 160, 170, 180]) nextSnapshotChunks(progress, total, paced, now);
    for (const [offset, now] of [[1_000, 300], [2_000, 310], [3_000, 320], [4_000, 330]] as const) acknowledge(progress, offset, now);
    for (const now of [330, 340, 350, 360]) nextSnapshotChunks(progress, total, paced, now);
    // The duplicates arrive; the follower answers each with the offset it has.
    for (const now of [450, 460, 470, 480]) acknowledge(progress, 4_000, now);
    expect(progress.snapshotSentBytes).toBe(8_000);
    expect(snapshotWindowChunks(progress, paced)).toBe(4);
  });

  it('a repeated offset beyond what went twice is a loss, and an offset below the acknowledged one a restarted follower', () => {
    const progress = stream();
    for (const now of [0, 10, 20, 30]) nextSnapshotChunks(progress, total, paced, now);
    resendStalledSnapshot(progress, 150, stallBounds);
    for (const now of [150, 160, 170, 180]) nextSnapshotChunks(progress, total, paced, now);
    acknowledge(progress, 5_000, 300); // clamped to the 4,000 sent
    for (const now of [300, 310]) nextSnapshotChunks(progress, total, paced, now); // 4,000 to 6,000
    acknowledge(progress, 5_000, 400);
    acknowledge(progress, 5_000, 410); // 5,000 was lost: 6,000 came, and was answered with 5,000
    expect(progress.snapshotSentBytes).toBe(5_000);
    expect(snapshotWindowChunks(progress, paced)).toBe(1);
    acknowledge(progress, 0, 500); // the follower restarted: from the beginning
    expect(progress.snapshotSentBytes).toBe(0);
  });
});

describe('repeats after a rewind whose copies were all answered', () => {
  const unpaced = { chunkBytes: 1_000, bytesPerSecond: Number.POSITIVE_INFINITY };
  const send = (progress: FollowerProgress, now: number): number[] => nextSnapshotChunks(progress, total, unpaced, now).map((chunk) => chunk.offset);

  // 3-node seed 961945 --removals: on a path that reorders, the follower dropped a chunk that came
  // after the one behind it (it takes only the next offset) and repeated its offset to every later
  // chunk; every such repeat passed for a duplicate's answer since an earlier rewind, so each
  // dropped chunk waited for the stall timeout, backed off to its ceiling, and a 16-chunk snapshot
  // was not installed 5 s after the heal.
  it('a chunk the follower dropped is resent at its first repeat, not after a stall timeout', () => {
    const progress = stream();
    expect(send(progress, 0)).toEqual([0, 1_000, 2_000, 3_000]); // lost: the follower is cut off
    resendStalledSnapshot(progress, 150, stallBounds);
    expect(send(progress, 150)).toEqual([0]);
    acknowledge(progress, 1_000, 160); // healed
    expect(send(progress, 160)).toEqual([1_000, 2_000, 3_000, 4_000]);
    // 3,000 overtakes 2,000 and is dropped: the lost copies sent before the stall explain these
    // repeats (they might have been late), up to their number.
    for (const offset of [2_000, 2_000, 3_000, 3_000]) acknowledge(progress, offset, 165);
    expect(send(progress, 165)).toEqual([5_000, 6_000]);
    for (const offset of [3_000, 3_000]) acknowledge(progress, offset, 170);
    // Stuck at 3,000 until the stall timeout, every copy sent since the last rewind answered.
    resendStalledSnapshot(progress, 1_000, stallBounds);
    expect(send(progress, 1_000)).toEqual([3_000]);
    acknowledge(progress, 4_000, 1_005);
    expect(send(progress, 1_005)).toEqual([4_000, 5_000, 6_000, 7_000]);
    // 5,000 overtakes 4,000 and is dropped: nothing still owed explains the repeat.
    acknowledge(progress, 4_000, 1_010);
    expect(progress.snapshotSentBytes).toBe(4_000);
    expect(send(progress, 1_010)).toEqual([4_000]);
  });
});

describe('the estimate across streams', () => {
  it('is kept when a newer snapshot restarts the stream, and starts afresh with a new progress', () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, paced, 0);
    acknowledge(progress, 1_000, 300);
    beginSnapshotStream(progress, streamOf(200), 400);
    expect(progress.roundTrip.smoothedMs).toBe(300);
    expect(snapshotStallTimeoutMs(progress, stallBounds)).toBe(900);
    expect(createProgress(1, 500).roundTrip.smoothedMs).toBeNull();
  });

  it("times nothing across a restart: a chunk timed in the replaced stream gives no sample in the new one", () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, paced, 0); // timed, and never answered: the stream is replaced
    beginSnapshotStream(progress, streamOf(200), 2_000);
    nextSnapshotChunks(progress, total, paced, 2_000); // the new stream's first chunk is the one timed
    acknowledge(progress, 1_000, 2_100);
    expect(progress.roundTrip.smoothedMs).toBe(100); // not 2,100 ms from the old chunk's sending
  });
});

describe('the window, sized to the measured round trip', () => {
  /** The default pace: 16 KiB chunks at 1 MiB/s, one every 15.6 ms. */
  const defaultPace = { chunkBytes: 16 * 1024, bytesPerSecond: 1024 * 1024 };

  /** A stream over a measured 300 ms round trip whose chunks went out at 10 s and stalled at 11 s. */
  function stalledAt300(): FollowerProgress {
    const progress = measuredAt(300);
    nextSnapshotChunks(progress, 10 * snapshotBytesInFlightCeiling, defaultPace, 10_000);
    resendStalledSnapshot(progress, 11_000, stallBounds);
    return progress;
  }

  function measuredAt(roundTripMs: number): FollowerProgress {
    const progress = stream();
    progress.roundTrip.smoothedMs = roundTripMs;
    progress.snapshotMinimumRoundTripMs = roundTripMs;
    return progress;
  }

  it('holds what the pace sends in two of the shortest round trips, plus one', () => {
    expect(snapshotWindowChunks(measuredAt(300), defaultPace)).toBe(Math.ceil((2 * 300) / 15.625) + 1);
    expect(snapshotWindowChunks(measuredAt(200), defaultPace)).toBe(Math.ceil((2 * 200) / 15.625) + 1);
  });

  it('is sized from the shortest round trip, not the smoothed one (which a queue on a slow link lengthens)', () => {
    const progress = stream();
    nextSnapshotChunks(progress, total, defaultPace, 0);
    acknowledge(progress, 16 * 1024, 40); // the first chunk, with nothing queued ahead of it: 40 ms
    for (let round = 1; round <= 20; round += 1) {
      // Every later sample waits behind the stream's own queue: 2 s.
      const sentAt = round * 10_000;
      nextSnapshotChunks(progress, 100 * 16 * 1024, defaultPace, sentAt);
      acknowledge(progress, progress.snapshotSentBytes, sentAt + 2_000);
    }
    expect(progress.roundTrip.smoothedMs).toBeGreaterThan(1_500);
    expect(progress.snapshotMinimumRoundTripMs).toBe(40);
    expect(snapshotWindowChunks(progress, defaultPace)).toBe(Math.ceil((2 * 40) / 15.625) + 1);
  });

  it('is four chunks before any sample, on a fast path, and when unpaced', () => {
    expect(snapshotWindowChunks(stream(), defaultPace)).toBe(snapshotChunksInFlight);
    expect(snapshotWindowChunks(measuredAt(5), defaultPace)).toBe(snapshotChunksInFlight);
    expect(snapshotWindowChunks(measuredAt(300), { chunkBytes: 16 * 1024, bytesPerSecond: Number.POSITIVE_INFINITY })).toBe(snapshotChunksInFlight);
  });

  it('holds at most 1 MiB, however long the round trip', () => {
    expect(snapshotWindowChunks(measuredAt(2_400), defaultPace)).toBe(snapshotBytesInFlightCeiling / (16 * 1024));
    expect(snapshotWindowChunks(measuredAt(2_400), { chunkBytes: 512 * 1024, bytesPerSecond: 100 * 1024 * 1024 })).toBe(snapshotChunksInFlight);
  });

  it('is one chunk after a stall until the follower answers, then the full window again', () => {
    const progress = stalledAt300();
    expect(snapshotWindowChunks(progress, defaultPace)).toBe(1);
    acknowledge(progress, 16 * 1024, 11_100);
    expect(snapshotWindowChunks(progress, defaultPace)).toBe(40);
  });

  it('stays one chunk when a newer snapshot restarts a stalled stream, until the follower answers', () => {
    const progress = stalledAt300();
    beginSnapshotStream(progress, streamOf(200), 12_000);
    expect(snapshotWindowChunks(progress, defaultPace)).toBe(1);
    expect(nextSnapshotChunks(progress, 10 * snapshotBytesInFlightCeiling, defaultPace, 12_000)).toHaveLength(1);
    acknowledge(progress, 16 * 1024, 12_300);
    expect(snapshotWindowChunks(progress, defaultPace)).toBe(40);
  });

  it('is the full window again once the follower left the snapshot state (it answered: installed, or caught up)', () => {
    const progress = stalledAt300();
    becomeProbe(progress);
    beginSnapshotStream(progress, streamOf(200), 12_000);
    expect(snapshotWindowChunks(progress, defaultPace)).toBe(40);
  });
});
