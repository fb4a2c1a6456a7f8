// Flow control of one follower's InstallSnapshot stream (§7): a bounded window of chunks in
// flight (a round trip's worth of the pace), chunks paced evenly in time (so heartbeats are never
// starved), acknowledged offsets clamped to what was sent, resends after a stall timeout derived
// from the measured round trip, rate-limited resends when the receiver is stuck or fell back,
// and a fall back to one chunk in flight once the path has shown it reorders or loses chunks.
//
// Why pacing and not only the window: in browsers every data channel of a page shares a few
// threads (WebRTC's network thread, the network service's IPC), and a window's worth of chunks
// handed over at once becomes a burst of packets that a heartbeat to another follower waits
// behind. On a 2-core machine running three browsers, four 16 KiB chunks per acknowledgement put
// the other follower's longest silences (p99) at 45-85 ms; one chunk at a time, about 20 ms.
// Pacing keeps that spacing without tying the rate to the round trip, which on a slow path would
// make a one-chunk window crawl.
import type { ResolvedRaftConfig } from './config.ts';
import type { FollowerProgress, SnapshotStream } from './progress.ts';
import { backOffRoundTrip, recordRoundTripSample, roundTripTimeoutMs, type TimeoutBounds } from './round-trip-estimate.ts';

/**
 * Chunks in flight per follower at first, and at least: enough to stream, few enough to leave
 * room for heartbeats. Unpaced streams keep this window (it is then all that limits the rate).
 */
export const snapshotChunksInFlight = 4;
/**
 * Bytes in flight per follower at most, however long the round trip: 1 MiB, a second of stream at
 * the default pace, so the pace holds over round trips up to about a second, and a bound on what
 * one follower's stream leaves in a transport's send buffer.
 */
export const snapshotBytesInFlightCeiling = 1024 * 1024;
/** Advancing acknowledgements after a first shrink before the window grows back: two windows' worth. */
export const snapshotFirstRegrowAcks = 2 * snapshotChunksInFlight;
/** The most a regrowth can be put off: beyond it, a path that keeps reordering stays at one chunk. */
const snapshotRegrowAcksCeiling = 1024;

export function beginSnapshotStream(progress: FollowerProgress, stream: SnapshotStream, now: number): void {
  progress.state = 'snapshot';
  progress.snapshotStream = stream;
  progress.snapshotSentBytes = 0;
  progress.snapshotFurthestSentBytes = 0;
  progress.snapshotAckedBytes = 0;
  progress.snapshotWindowShrunk = false;
  // snapshotStalled is kept: a follower that stopped answering is the path's state, not the
  // stream's (as the round-trip backoff is). Cleared here, every newer snapshot the application
  // published sent a whole window, up to 1 MiB, into a follower that answers nothing; kept, the
  // new stream's first chunk goes alone, and the follower's first answer brings the window back.
  progress.snapshotAdvancingAcks = 0;
  progress.snapshotRegrowAfterAcks = 0;
  progress.snapshotProgressAt = now;
  progress.snapshotFurthestAckedBytes = 0;
  progress.snapshotFurthestAckedAt = now;
  progress.snapshotFellBackAt = null;
  // A new stream is the follower's catching up now (progress.ts catchUpThroughIndex).
  progress.catchUpThroughIndex = 0;
  // The first chunk goes now, and the pace counts from it.
  progress.snapshotPacedUntil = now;
  progress.snapshotTimedChunk = null;
  progress.snapshotResentThroughBytes = -1;
  progress.snapshotRepeatsExcusable = 0;
  progress.snapshotAnswersOwedAtRewind = 0;
  progress.snapshotCopiesSinceRewind = 0;
  progress.snapshotAnswersSinceRewind = 0;
  progress.inflightLastIndices = [];
}

/**
 * The stall timeout's ceiling in longest election timeouts: 8, 2.4 s by default, as for the
 * backoff of forwarded proposals. It bounds how long a lost chunk waits for its resend however
 * many stalls came before, and what a follower that stopped answering costs (a chunk per
 * ceiling). A round trip beyond it is past what a cluster with these timeouts serves (an
 * election or a commit through that path takes longer still); a stream over one still finishes,
 * since late answers count, but resends its chunks.
 */
const snapshotStallCeilingElectionTimeouts = 8;

/**
 * A stream's stall timeout bounds, derived from the configuration (no knob of their own): never
 * shorter than electionTimeoutMin (the fixed timeout before the round trip was measured, so a
 * fast path behaves as it did), at least a heartbeat interval above the measured round trip
 * (busy event loops hand over frames tens of ms late: up to 40 ms in the browser benchmark at
 * full CPU), and at most the ceiling above.
 */
export function snapshotStallBounds(config: Pick<ResolvedRaftConfig, 'electionTimeoutMinMs' | 'electionTimeoutMaxMs' | 'heartbeatIntervalMs'>): TimeoutBounds {
  return { floorMs: config.electionTimeoutMinMs, marginMs: config.heartbeatIntervalMs, ceilingMs: snapshotStallCeilingElectionTimeouts * config.electionTimeoutMaxMs };
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
  while (windowAllowsChunk(progress, totalBytes, pace) && progress.snapshotPacedUntil <= now) {
    const offset = progress.snapshotSentBytes;
    const length = Math.min(totalBytes, offset + pace.chunkBytes) - offset;
    chunks.push({ offset, length });
    // The stall clock starts when a chunk goes out with nothing in flight, as for appends: a
    // paced stream spends most of its time waiting for its next chunk, and that wait is no
    // stall. Counted from the last acknowledgement instead, a chunk could be given up for lost
    // before its answer had time to arrive (at a chunk a second over a 120 ms round trip, most
    // were, and each went two or three times).
    if (progress.snapshotSentBytes === progress.snapshotAckedBytes) progress.snapshotProgressAt = now;
    // Karn's rule: time only a chunk that goes for the first time, whose answer is to this copy.
    if (progress.snapshotTimedChunk === null && offset >= progress.snapshotFurthestSentBytes && length > 0) progress.snapshotTimedChunk = { endBytes: offset + length, sentAt: now };
    progress.snapshotSentBytes = offset + length;
    progress.snapshotCopiesSinceRewind += 1;
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
export function snapshotChunkDueAt(progress: FollowerProgress, totalBytes: number, pace: SnapshotPace): number {
  if (progress.state !== 'snapshot' || totalBytes === 0 || !windowAllowsChunk(progress, totalBytes, pace)) return Number.POSITIVE_INFINITY;
  return progress.snapshotPacedUntil;
}

/**
 * How many round trips' worth of the pace the window holds (BBR's congestion window gain): one
 * is all a steady path needs; the second lets the pace hold while answers come late (a busy
 * event loop, a queue elsewhere) without letting the stream's own queue grow past one round trip.
 */
const snapshotWindowRoundTrips = 2;

/**
 * Chunks allowed in flight: one while the window is shrunk; otherwise what the pace sends in two
 * of the shortest round trips measured, plus one (the bandwidth-delay product, with room), at
 * least snapshotChunksInFlight and at most snapshotBytesInFlightCeiling's worth. A fixed window of
 * four tied the rate to the round trip past 64 KiB per trip: at the default 1 MiB/s, any round
 * trip over 62 ms, so 1 MiB took 16 round trips (5.0 s at 300 ms) instead of about a second.
 * Sized from the shortest round trip, not the smoothed one: on a link slower than the pace, the
 * queue the window builds lengthens every later sample, and a window sized from those grew to the
 * ceiling (1 MiB queued: 4 s of queue at 256 KiB/s, and stalls declared with nothing lost).
 */
export function snapshotWindowChunks(progress: FollowerProgress, pace: SnapshotPace): number {
  if (progress.snapshotWindowShrunk || progress.snapshotStalled) return 1;
  const roundTripMs = progress.snapshotMinimumRoundTripMs;
  if (roundTripMs === null || !Number.isFinite(pace.bytesPerSecond)) return snapshotChunksInFlight;
  const ceiling = Math.max(snapshotChunksInFlight, Math.floor(snapshotBytesInFlightCeiling / pace.chunkBytes));
  const perRoundTrips = Math.ceil((snapshotWindowRoundTrips * roundTripMs * pace.bytesPerSecond) / 1000 / pace.chunkBytes) + 1;
  return Math.min(ceiling, Math.max(snapshotChunksInFlight, perRoundTrips));
}

function windowAllowsChunk(progress: FollowerProgress, totalBytes: number, pace: SnapshotPace): boolean {
  return progress.snapshotSentBytes < totalBytes && progress.snapshotSentBytes - progress.snapshotAckedBytes < pace.chunkBytes * snapshotWindowChunks(progress, pace);
}

/**
 * A receiver's "next offset": progress (and a round-trip sample if it answers the timed chunk),
 * or (at most once per interval) a resend from there.
 */
export function acknowledgeSnapshotOffset(progress: FollowerProgress, nextOffset: number, now: number, resendIntervalMs: number, stallBounds: TimeoutBounds): void {
  // An ack offset is a quantity: clamp it to what we sent. What we sent before a resend rewound
  // the stream counts too: a resend waits for the pace, and an answer that comes meanwhile
  // (a round trip longer than the stall timeout) was dropped, so at a slow pace every chunk was
  // given up, sent again and given up again, and the transfer never completed.
  const offset = Math.min(Math.max(nextOffset, 0), progress.snapshotFurthestSentBytes);
  progress.snapshotAnswersSinceRewind += 1;
  trackFurthestAcknowledged(progress, offset, now);
  if (offset > progress.snapshotAckedBytes) {
    progress.snapshotAckedBytes = offset;
    progress.snapshotSentBytes = Math.max(progress.snapshotSentBytes, offset);
    progress.snapshotProgressAt = now;
    progress.snapshotStalled = false;
    sampleRoundTrip(progress, offset, now, stallBounds);
    regrowWindow(progress);
  } else if (offset < progress.snapshotSentBytes && mayAnswerDuplicate(progress, offset)) {
    progress.snapshotRepeatsExcusable -= 1;
  } else if (offset < progress.snapshotSentBytes && now - progress.snapshotRetransmitAt >= resendIntervalMs) {
    // Stuck at (or fell back to) this offset: a chunk was lost, or the receiver restarted.
    // Rate-limited so reordered chunks and their repeated acks cannot snowball into a storm.
    progress.snapshotRetransmitAt = now;
    rewindSnapshotStream(progress, offset, false);
    // A stuck offset seen again while the window is already down is the same episode.
    if (!progress.snapshotWindowShrunk) {
      const previous = progress.snapshotRegrowAfterAcks;
      progress.snapshotRegrowAfterAcks = previous === 0 ? snapshotFirstRegrowAcks : Math.min(snapshotRegrowAcksCeiling, previous * 2);
    }
    progress.snapshotWindowShrunk = true;
    progress.snapshotAdvancingAcks = 0;
  }
}

/** Whether the stream gets further (progress.ts snapshotFurthestAckedBytes), or fell back below where it got. */
function trackFurthestAcknowledged(progress: FollowerProgress, offset: number, now: number): void {
  if (offset > progress.snapshotFurthestAckedBytes) {
    progress.snapshotFurthestAckedBytes = offset;
    progress.snapshotFurthestAckedAt = now;
  }
  if (offset >= progress.snapshotFurthestAckedBytes) progress.snapshotFellBackAt = null;
  else progress.snapshotFellBackAt ??= now;
}

/** The time between two chunks at the pace (0 unpaced). */
function chunkIntervalMs(pace: SnapshotPace): number {
  return Number.isFinite(pace.bytesPerSecond) ? (pace.chunkBytes * 1000) / pace.bytesPerSecond : 0;
}

/**
 * How long a stream may go without getting past its furthest acknowledged byte and still count as
 * getting somewhere: the stall timeout's ceiling (the longest a lost chunk waits for its resend)
 * and two chunks at the pace (at the slowest pace, 16 KiB chunks at 1 KiB/s, acknowledgements come
 * 16 s apart). A follower that gets nowhere for longer holds no compaction (snapshots.ts).
 */
export function snapshotHoldPatienceMs(pace: SnapshotPace, stallBounds: TimeoutBounds): number {
  return stallBounds.ceilingMs + 2 * chunkIntervalMs(pace);
}

/** Whether the stream got past its furthest acknowledged byte within snapshotHoldPatienceMs. */
export function snapshotStreamAdvancing(progress: FollowerProgress, now: number, pace: SnapshotPace, stallBounds: TimeoutBounds): boolean {
  return now - progress.snapshotFurthestAckedAt < snapshotHoldPatienceMs(pace, stallBounds);
}

/**
 * Whether the follower lost the bytes it had acknowledged (it restarted, its reassembly in memory
 * gone): it fell back below its furthest acknowledged byte, and no answer has reached that byte
 * again for a stall timeout and a chunk's interval, time enough for the rewound stream's next
 * chunk to be answered by a follower that still had them (a reordered old answer is caught up at
 * once). The caller counts the loss. The stream's furthest byte becomes where the follower is
 * now, so a follower that starts over counts as getting somewhere again as it gets further.
 */
export function takeLostReassembly(progress: FollowerProgress, now: number, pace: SnapshotPace, stallBounds: TimeoutBounds): boolean {
  const fellBackAt = progress.snapshotFellBackAt;
  if (fellBackAt === null || now - fellBackAt < snapshotStallTimeoutMs(progress, stallBounds) + chunkIntervalMs(pace)) return false;
  progress.snapshotFellBackAt = null;
  progress.snapshotFurthestAckedBytes = progress.snapshotAckedBytes;
  progress.snapshotFurthestAckedAt = now;
  return true;
}

/** The first acknowledgement that reaches the end of the timed chunk gives a round-trip sample. */
function sampleRoundTrip(progress: FollowerProgress, offset: number, now: number, stallBounds: TimeoutBounds): void {
  const timed = progress.snapshotTimedChunk;
  if (timed === null || offset < timed.endBytes) return;
  const sampleMs = recordRoundTripSample(progress.roundTrip, now - timed.sentAt, stallBounds);
  progress.snapshotMinimumRoundTripMs = Math.min(progress.snapshotMinimumRoundTripMs ?? sampleMs, sampleMs);
  progress.snapshotTimedChunk = null;
}

/**
 * One lost or reordered chunk shrank the window to one chunk, which on a long round trip moves a
 * chunk per round trip for the rest of the stream (16 KiB per 100 ms). Once the path has
 * delivered in order for a while, the full window comes back; each shrink doubles the wait, so a
 * path that keeps reordering costs a resend only now and then.
 */
function regrowWindow(progress: FollowerProgress): void {
  progress.snapshotAdvancingAcks += 1;
  if (progress.snapshotWindowShrunk && progress.snapshotAdvancingAcks >= progress.snapshotRegrowAfterAcks) {
    progress.snapshotWindowShrunk = false;
    progress.snapshotAdvancingAcks = 0;
  }
}

/**
 * Whether a repeated offset may be the follower's answer to a chunk we sent twice rather than a
 * report of a lost one: it repeats the offset already acknowledged, the stream rewound past it,
 * and copies still owe answers that could be this one (snapshotRepeatsExcusable; once they are
 * used up, a chunk the follower dropped is resent at its first repeat, not a stall timeout
 * later). Without this, one resend (a stall declared too early, say on the first chunks to a far
 * follower, before any round trip was measured) made the follower answer each duplicate with its
 * offset, each answer rewound the stream again and shrank the window, and the stream crawled at
 * one chunk a round trip with most chunks sent twice. A resent chunk that is lost too, or the
 * first chunk past them, is found by the stall timeout instead. An offset below the acknowledged
 * one is no duplicate's answer (a follower's offset only grows) but a follower that restarted (or
 * a reordered answer), and rewinds as before.
 */
function mayAnswerDuplicate(progress: FollowerProgress, offset: number): boolean {
  return offset === progress.snapshotAckedBytes && offset <= progress.snapshotResentThroughBytes && progress.snapshotRepeatsExcusable > 0;
}

/**
 * The answers still owed by the copies sent so far, when the stream rewinds: each may come back
 * with a repeat (past the hole, or meeting its resent twin), so as many repeats are excusable.
 * Answers are taken to come back in the order their copies went: first those the last rewind
 * found owed, then those of the copies sent since. A stall after answers came since the last
 * rewind gives up what that rewind found owed (they had their chance) and counts every answer
 * since against the copies since; a stall with no answer since keeps it (a path slower than the
 * stall timeouts so far may still answer them all). Without that, copies lost in a partition
 * stayed owed for good; counted as the chunks in flight instead, copies the follower had already
 * answered with repeats (waiting for a chunk it dropped) were excused again.
 */
function answersOwed(progress: FollowerProgress, stalled: boolean): number {
  const copies = progress.snapshotCopiesSinceRewind;
  const answers = progress.snapshotAnswersSinceRewind;
  const owedBefore = progress.snapshotAnswersOwedAtRewind;
  if (stalled && answers > 0) return Math.max(0, copies - answers);
  return Math.max(0, owedBefore - answers) + Math.max(0, copies - Math.max(0, answers - owedBefore));
}

/** Resend from `offset`: chunks below the furthest sent may now go twice, so none is timed. */
function rewindSnapshotStream(progress: FollowerProgress, offset: number, stalled: boolean): void {
  progress.snapshotResentThroughBytes = progress.snapshotFurthestSentBytes;
  progress.snapshotRepeatsExcusable = answersOwed(progress, stalled);
  progress.snapshotAnswersOwedAtRewind = progress.snapshotRepeatsExcusable;
  progress.snapshotCopiesSinceRewind = 0;
  progress.snapshotAnswersSinceRewind = 0;
  progress.snapshotAckedBytes = offset;
  progress.snapshotSentBytes = offset;
  progress.snapshotTimedChunk = null;
}

/**
 * No snapshot progress for the stall timeout (since the last acknowledgement, or since a chunk
 * went out with none in flight): the chunks in flight were lost. Send them again from the first,
 * one in flight until the follower answers (then the window as before). The timeout is the
 * follower's measured round trip with room for its variation (round-trip-estimate.ts), at least
 * `stallBounds.floorMs`, doubling with each stall in a row that no valid sample followed, so a
 * follower that stopped answering gets one chunk at most once a ceiling.
 */
export function resendStalledSnapshot(progress: FollowerProgress, now: number, stallBounds: TimeoutBounds): void {
  // Only acknowledged snapshot bytes count: answers such as refused heartbeats say nothing
  // about the chunks (relying on them kept a lost transfer from ever being resent).
  // Nor is a stream with nothing in flight stalled (it waits for its pace): no backoff for that.
  if (progress.state !== 'snapshot' || progress.snapshotSentBytes === progress.snapshotAckedBytes) return;
  if (now - progress.snapshotProgressAt < snapshotStallTimeoutMs(progress, stallBounds)) return;
  rewindSnapshotStream(progress, progress.snapshotAckedBytes, true);
  progress.snapshotStalled = true;
  progress.snapshotProgressAt = now;
  backOffRoundTrip(progress.roundTrip);
}

/** How long this follower's stream may go without progress before its chunks count as lost. */
export function snapshotStallTimeoutMs(progress: FollowerProgress, stallBounds: TimeoutBounds): number {
  return roundTripTimeoutMs(progress.roundTrip, stallBounds);
}
