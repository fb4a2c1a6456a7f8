// Flow control of one follower's InstallSnapshot stream (§7): a bounded window of chunks in
// flight, chunks paced evenly in time (so heartbeats are never starved), acknowledged offsets
// clamped to what was sent, rate-limited resends when the receiver is stuck or fell back, and a
// fall back to one chunk in flight once the path has shown it reorders or loses chunks.
//
// Why pacing and not only the window: in browsers every data channel of a page shares a few
// threads (WebRTC's network thread, the network service's IPC), and a window's worth of chunks
// handed over at once becomes a burst of packets that a heartbeat to another follower waits
// behind. On a 2-core machine running three browsers, four 16 KiB chunks per acknowledgement put
// the other follower's longest silences (p99) at 45-85 ms; one chunk at a time, about 20 ms.
// Pacing keeps that spacing without tying the rate to the round trip, which on a slow path would
// make a one-chunk window crawl.
import type { FollowerProgress } from './progress.ts';

/** Chunks in flight per follower at first: enough to stream, few enough to leave room for heartbeats. */
export const snapshotChunksInFlight = 4;
/** Advancing acknowledgements after a first shrink before the window grows back: two windows' worth. */
export const snapshotFirstRegrowAcks = 2 * snapshotChunksInFlight;
/** The most a regrowth can be put off: beyond it, a path that keeps reordering stays at one chunk. */
const snapshotRegrowAcksCeiling = 1024;

export function beginSnapshotStream(progress: FollowerProgress, snapshotIndex: number, now: number): void {
  progress.state = 'snapshot';
  progress.snapshotIndex = snapshotIndex;
  progress.snapshotSentBytes = 0;
  progress.snapshotFurthestSentBytes = 0;
  progress.snapshotAckedBytes = 0;
  progress.snapshotWindowChunks = snapshotChunksInFlight;
  progress.snapshotAdvancingAcks = 0;
  progress.snapshotRegrowAfterAcks = 0;
  progress.snapshotProgressAt = now;
  // The first chunk goes now, and the pace counts from it.
  progress.snapshotPacedUntil = now;
  progress.inflightLastIndices = [];
}

/** How a leader paces one snapshot stream. */
export interface SnapshotPace {
  readonly chunkBytes: number;
  /** RaftConfig.snapshotBytesPerSecond; Infinity sends whatever the window allows at once. */
  readonly bytesPerSecond: number;
}

/**
 * The byte ranges to send now, advancing what counts as sent and when the next may go. An empty
 * snapshot is one empty chunk.
 */
export function nextSnapshotChunks(progress: FollowerProgress, totalBytes: number, pace: SnapshotPace, now: number): Array<{ offset: number; length: number }> {
  if (totalBytes === 0) return progress.snapshotSentBytes === 0 && progress.snapshotAckedBytes === 0 ? [{ offset: 0, length: 0 }] : [];
  const chunks: Array<{ offset: number; length: number }> = [];
  while (windowAllowsChunk(progress, totalBytes, pace.chunkBytes) && progress.snapshotPacedUntil <= now) {
    const offset = progress.snapshotSentBytes;
    const length = Math.min(totalBytes, offset + pace.chunkBytes) - offset;
    chunks.push({ offset, length });
    // The stall clock starts when a chunk goes out with nothing in flight, as for appends: a
    // paced stream spends most of its time waiting for its next chunk, and that wait is no
    // stall. Counted from the last acknowledgement instead, a chunk could be given up for lost
    // before its answer had time to arrive (at a chunk a second over a 120 ms round trip, most
    // were, and each went two or three times).
    if (progress.snapshotSentBytes === progress.snapshotAckedBytes) progress.snapshotProgressAt = now;
    progress.snapshotSentBytes = offset + length;
    progress.snapshotFurthestSentBytes = Math.max(progress.snapshotFurthestSentBytes, progress.snapshotSentBytes);
    // Lateness of up to one chunk's interval is made up (timers fire late, and every late tick
    // lost would add up to a stream well below its rate: 1.7 MiB/s paced at 2 in Node), so
    // the next chunk may follow this one at once, but no more: time the stream spent waiting
    // for acknowledgements is not banked, so a burst never exceeds two chunks.
    const interval = (length * 1000) / pace.bytesPerSecond;
    progress.snapshotPacedUntil = Math.max(progress.snapshotPacedUntil, now - interval) + interval;
  }
  return chunks;
}

/**
 * When the leader next has a chunk to send on its own, without an acknowledgement arriving: the
 * pacing deadline if the window has room, otherwise never (an acknowledgement or a stall
 * timeout moves the stream on).
 */
export function snapshotChunkDueAt(progress: FollowerProgress, totalBytes: number, chunkBytes: number): number {
  if (progress.state !== 'snapshot' || totalBytes === 0 || !windowAllowsChunk(progress, totalBytes, chunkBytes)) return Number.POSITIVE_INFINITY;
  return progress.snapshotPacedUntil;
}

function windowAllowsChunk(progress: FollowerProgress, totalBytes: number, chunkBytes: number): boolean {
  return progress.snapshotSentBytes < totalBytes && progress.snapshotSentBytes - progress.snapshotAckedBytes < chunkBytes * progress.snapshotWindowChunks;
}

/** A receiver's "next offset": progress, or (at most once per interval) a resend from there. */
export function acknowledgeSnapshotOffset(progress: FollowerProgress, nextOffset: number, now: number, resendIntervalMs: number): void {
  // An ack offset is a quantity: clamp it to what we sent. What we sent before a resend rewound
  // the stream counts too: a resend waits for the pace, and an answer that comes meanwhile
  // (a round trip longer than the stall timeout) was dropped, so at a slow pace every chunk was
  // given up, sent again and given up again, and the transfer never completed.
  const offset = Math.min(Math.max(nextOffset, 0), progress.snapshotFurthestSentBytes);
  if (offset > progress.snapshotAckedBytes) {
    progress.snapshotAckedBytes = offset;
    progress.snapshotSentBytes = Math.max(progress.snapshotSentBytes, offset);
    progress.snapshotProgressAt = now;
    // One lost or reordered chunk shrank the window to one chunk, which on a long round trip
    // moves a chunk per round trip for the rest of the stream (16 KiB per 100 ms). Once the path
    // has delivered in order for a while, the full window comes back; each shrink doubles the
    // wait, so a path that keeps reordering costs a resend only now and then.
    progress.snapshotAdvancingAcks += 1;
    if (progress.snapshotWindowChunks < snapshotChunksInFlight && progress.snapshotAdvancingAcks >= progress.snapshotRegrowAfterAcks) {
      progress.snapshotWindowChunks = snapshotChunksInFlight;
      progress.snapshotAdvancingAcks = 0;
    }
  } else if (offset < progress.snapshotSentBytes && now - progress.snapshotRetransmitAt >= resendIntervalMs) {
    // Stuck at (or fell back to) this offset: a chunk was lost, or the receiver restarted.
    // Rate-limited so reordered chunks and their repeated acks cannot snowball into a storm.
    progress.snapshotRetransmitAt = now;
    progress.snapshotAckedBytes = offset;
    progress.snapshotSentBytes = offset;
    // A stuck offset seen again while the window is already down is the same episode.
    if (progress.snapshotWindowChunks > 1) {
      const previous = progress.snapshotRegrowAfterAcks;
      progress.snapshotRegrowAfterAcks = previous === 0 ? snapshotFirstRegrowAcks : Math.min(snapshotRegrowAcksCeiling, previous * 2);
    }
    progress.snapshotWindowChunks = 1;
    progress.snapshotAdvancingAcks = 0;
  }
}

/**
 * No snapshot progress for `timeoutMs` (since the last acknowledgement, or since a chunk went out
 * with none in flight): the chunks in flight were lost, send them again.
 */
export function resendStalledSnapshot(progress: FollowerProgress, now: number, timeoutMs: number): void {
  // Only acknowledged snapshot bytes count: answers such as refused heartbeats say nothing
  // about the chunks (relying on them kept a lost transfer from ever being resent).
  if (progress.state !== 'snapshot' || now - progress.snapshotProgressAt < timeoutMs) return;
  progress.snapshotSentBytes = progress.snapshotAckedBytes;
  progress.snapshotProgressAt = now;
}
