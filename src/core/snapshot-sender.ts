// Flow control of one follower's InstallSnapshot stream (§7): a bounded window of chunks in
// flight (so heartbeats are never starved), acknowledged offsets clamped to what was sent,
// rate-limited resends when the receiver is stuck or fell back, and a fall back to one chunk in
// flight once the path has shown it reorders or loses chunks.
import type { FollowerProgress } from './progress.ts';

/** Chunks in flight per follower at first: enough to stream, few enough to leave room for heartbeats. */
export const snapshotChunksInFlight = 4;

export function beginSnapshotStream(progress: FollowerProgress, snapshotIndex: number, now: number): void {
  progress.state = 'snapshot';
  progress.snapshotIndex = snapshotIndex;
  progress.snapshotSentBytes = 0;
  progress.snapshotAckedBytes = 0;
  progress.snapshotWindowChunks = snapshotChunksInFlight;
  progress.snapshotProgressAt = now;
  progress.inflightLastIndices = [];
}

/** The byte ranges to send now, advancing what counts as sent. An empty snapshot is one empty chunk. */
export function nextSnapshotChunks(progress: FollowerProgress, totalBytes: number, chunkBytes: number): Array<{ offset: number; length: number }> {
  if (totalBytes === 0) return progress.snapshotSentBytes === 0 && progress.snapshotAckedBytes === 0 ? [{ offset: 0, length: 0 }] : [];
  const windowBytes = chunkBytes * progress.snapshotWindowChunks;
  const chunks: Array<{ offset: number; length: number }> = [];
  while (progress.snapshotSentBytes < totalBytes && progress.snapshotSentBytes - progress.snapshotAckedBytes < windowBytes) {
    const offset = progress.snapshotSentBytes;
    const length = Math.min(totalBytes, offset + chunkBytes) - offset;
    chunks.push({ offset, length });
    progress.snapshotSentBytes = offset + length;
  }
  return chunks;
}

/** A receiver's "next offset": progress, or (at most once per interval) a resend from there. */
export function acknowledgeSnapshotOffset(progress: FollowerProgress, nextOffset: number, now: number, resendIntervalMs: number): void {
  // An ack offset is a quantity: clamp it to what we sent.
  const offset = Math.min(Math.max(nextOffset, 0), progress.snapshotSentBytes);
  if (offset > progress.snapshotAckedBytes) {
    progress.snapshotAckedBytes = offset;
    progress.snapshotProgressAt = now;
  } else if (offset < progress.snapshotSentBytes && now - progress.snapshotRetransmitAt >= resendIntervalMs) {
    // Stuck at (or fell back to) this offset: a chunk was lost, or the receiver restarted.
    // Rate-limited so reordered chunks and their repeated acks cannot snowball into a storm.
    progress.snapshotRetransmitAt = now;
    progress.snapshotAckedBytes = offset;
    progress.snapshotSentBytes = offset;
    progress.snapshotWindowChunks = 1;
  }
}

/** No snapshot progress for `timeoutMs`: the chunks in flight were lost, send them again. */
export function resendStalledSnapshot(progress: FollowerProgress, now: number, timeoutMs: number): void {
  // Only acknowledged snapshot bytes count: answers such as refused heartbeats say nothing
  // about the chunks (relying on them kept a lost transfer from ever being resent).
  if (progress.state !== 'snapshot' || now - progress.snapshotProgressAt < timeoutMs) return;
  progress.snapshotSentBytes = progress.snapshotAckedBytes;
  progress.snapshotProgressAt = now;
}
