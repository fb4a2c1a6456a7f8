import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.ts';
import { acknowledgeSnapshotOffset, beginSnapshotStream, nextSnapshotChunks, resendStalledSnapshot, snapshotChunksInFlight } from './snapshot-sender.ts';

describe('snapshot stream flow control', () => {
  it('keeps a bounded window of chunks in flight and advances on acknowledgements', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, 100, 0);
    const first = nextSnapshotChunks(progress, 10_000, 1_000);
    expect(first.map((chunk) => chunk.offset)).toEqual([0, 1_000, 2_000, 3_000].slice(0, snapshotChunksInFlight));
    expect(nextSnapshotChunks(progress, 10_000, 1_000)).toEqual([]); // window full
    acknowledgeSnapshotOffset(progress, 2_000, 5, 50);
    expect(nextSnapshotChunks(progress, 10_000, 1_000).map((chunk) => chunk.offset)).toEqual([4_000, 5_000]);
  });

  it('clamps a hostile acknowledgement to what was sent', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, 100, 0);
    nextSnapshotChunks(progress, 10_000, 1_000);
    acknowledgeSnapshotOffset(progress, Number.MAX_SAFE_INTEGER, 5, 50);
    expect(progress.snapshotAckedBytes).toBe(4_000);
  });

  it('resends from a stuck offset at most once per interval, then one chunk at a time', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, 100, 0);
    nextSnapshotChunks(progress, 10_000, 1_000);
    acknowledgeSnapshotOffset(progress, 1_000, 10, 50); // progress
    acknowledgeSnapshotOffset(progress, 1_000, 11, 50); // the same offset again: chunk 1,000 was lost
    expect(nextSnapshotChunks(progress, 10_000, 1_000).map((chunk) => chunk.offset)).toEqual([1_000]);
    acknowledgeSnapshotOffset(progress, 1_000, 12, 50); // within the interval: no second resend
    expect(nextSnapshotChunks(progress, 10_000, 1_000)).toEqual([]);
  });

  it('resends the window when no snapshot progress was made for the timeout', () => {
    const progress = createProgress(1, 0);
    beginSnapshotStream(progress, 100, 0);
    nextSnapshotChunks(progress, 10_000, 1_000);
    resendStalledSnapshot(progress, 100, 150);
    expect(nextSnapshotChunks(progress, 10_000, 1_000)).toEqual([]);
    resendStalledSnapshot(progress, 200, 150);
    expect(nextSnapshotChunks(progress, 10_000, 1_000).map((chunk) => chunk.offset)).toEqual([0, 1_000, 2_000, 3_000]);
  });
});
