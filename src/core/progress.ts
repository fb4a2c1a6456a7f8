// The leader's view of one follower (etcd's Progress): probing for the match point one message
// at a time, then replicating with a bounded pipeline of in-flight AppendEntries.
import { createRoundTripEstimate, type RoundTripEstimate } from './round-trip-estimate.ts';
import type { StoredSnapshot } from './types.ts';

/**
 * The snapshot one follower's stream sends, from its first chunk to its last: a newer snapshot
 * the application publishes meanwhile does not replace it. Restarted with each newer one, a
 * stream never finished when snapshots came faster than one streams at the pace, and the
 * follower never caught up. The leader keeps its state only while the stream runs (the field is
 * cleared when the stream ends and goes with the follower's progress), so it holds one snapshot
 * per follower stream at most; a follower's next stream starts with the newest.
 */
export interface SnapshotStream {
  readonly snapshot: StoredSnapshot;
  /** State bytes per chunk: what a frame leaves after the header and this snapshot's meta (snapshot-frame.ts). */
  readonly chunkBytes: number;
}

export interface FollowerProgress {
  matchIndex: number;
  nextIndex: number;
  state: 'probe' | 'replicate' | 'snapshot';
  /** Snapshot transfer: which snapshot (set exactly in the snapshot state), bytes sent and bytes acknowledged. */
  snapshotStream: SnapshotStream | null;
  snapshotSentBytes: number;
  /** The furthest byte sent in this stream: a resend rewinds snapshotSentBytes, not this. */
  snapshotFurthestSentBytes: number;
  snapshotAckedBytes: number;
  /** When snapshot chunks were last resent (resends are rate-limited). */
  snapshotRetransmitAt: number;
  /** Whether the window is down to one chunk in flight, since the path reordered or lost chunks. */
  snapshotWindowShrunk: boolean;
  /**
   * Whether a stall timeout passed with no acknowledgement since: one chunk in flight until the
   * follower answers, so a follower that stopped answering gets a chunk per stall timeout, not a
   * window (which, sized to the round trip, can be a megabyte).
   */
  snapshotStalled: boolean;
  /** Acknowledgements that advanced the stream since its window last shrank. */
  snapshotAdvancingAcks: number;
  /** Advancing acknowledgements after which a shrunk window grows back: 0 until the first shrink, then doubling at each. */
  snapshotRegrowAfterAcks: number;
  /** When the follower last acknowledged new snapshot bytes, or a chunk went out with none in flight (stall detection). */
  snapshotProgressAt: number;
  /**
   * The furthest byte the follower acknowledged in this stream, and when the stream began or last
   * got past it. A stream holds compaction only while it keeps getting further (snapshots.ts): a
   * follower that answers every chunk but gets nowhere (it keeps restarting, or repeats an offset
   * it cannot get past) kept the stall clock from ever running out, since each rewind's chunk
   * restarted it, and held the leader's log uncompacted for good (review snap52).
   */
  snapshotFurthestAckedBytes: number;
  snapshotFurthestAckedAt: number;
  /**
   * When the follower answered below snapshotFurthestAckedBytes, until an answer reaches it
   * again, or null. A follower that lost its reassembly (it restarted) starts again from 0; a
   * reordered old answer looks the same, but the follower's next answer reaches the furthest byte
   * again. Not reached after a resent chunk's round trip, the reassembly counts as lost.
   */
  snapshotFellBackAt: number | null;
  /**
   * Reassemblies this follower lost since it last got through (installed a snapshot or caught up
   * from the log): kept across its streams, like snapshotStalled, since it says something of the
   * follower, not of one stream. From the second on, its streams hold no compaction.
   */
  snapshotReassembliesLost: number;
  /** Pacing (RaftConfig.snapshotBytesPerSecond): no chunk goes out before this clock reading. */
  snapshotPacedUntil: number;
  /**
   * The chunk being timed for a round-trip sample: where it ends and when it went out, or null.
   * One at a time (a sample per round trip is plenty for a smoothed estimate, and the state
   * stays two numbers), and only a chunk sent for the first time (Karn's rule).
   */
  snapshotTimedChunk: { readonly endBytes: number; readonly sentAt: number } | null;
  /**
   * The furthest byte sent when the stream last rewound to resend, or -1: below it chunks may
   * have gone twice, and the follower answers a duplicate by repeating its offset, which looks
   * like a report of a lost chunk but is not one.
   */
  snapshotResentThroughBytes: number;
  /**
   * How many more repeated offsets below snapshotResentThroughBytes may pass for answers that are
   * no news: set at each rewind to the answers then still owed (snapshot-sender.ts answersOwed),
   * each of which may come back as a repeat (a copy meeting its resent twin, or a chunk past the
   * hole the rewind resends). Once used up, a repeat is a loss again. Without a bound, every
   * repeat there passed for a duplicate's answer for the rest of the stream, though the copies
   * sent before had long been answered; on a path that reorders, each chunk the follower dropped
   * (it takes only the next offset) then waited a whole stall timeout, backed off to its ceiling
   * (3-node seed 961945 --removals: a 16-chunk snapshot not installed 5 s after the heal, its
   * follower 93 entries behind).
   */
  snapshotRepeatsExcusable: number;
  /** Answers owed by the copies sent before the stream last rewound, as that rewind counted them. */
  snapshotAnswersOwedAtRewind: number;
  /** Chunk copies sent, and answers received, since the stream last rewound (see snapshotRepeatsExcusable). */
  snapshotCopiesSinceRewind: number;
  snapshotAnswersSinceRewind: number;
  /**
   * This follower's path round trip, measured on snapshot chunks (snapshot-sender.ts), for the
   * stall timeout. Kept across streams: the path is the same; a new leader or a re-added member
   * starts afresh, since its progress is recreated.
   */
  roundTrip: RoundTripEstimate;
  /**
   * The shortest round trip measured on snapshot chunks, or null before the first sample: the
   * path without the queue a stream itself builds, which sizes the window (snapshot-sender.ts
   * snapshotWindowChunks). Kept across streams like the estimate; a new leader or a re-added
   * member starts afresh.
   */
  snapshotMinimumRoundTripMs: number | null;
  /** Last index carried by each in-flight AppendEntries, oldest first (replicate state). */
  inflightLastIndices: number[];
  /** When the outstanding probe was sent; a probe is re-sent only after a heartbeat interval. */
  probeSentAt: number;
  probeOutstanding: boolean;
  /** Last time this follower answered in the current term (CheckQuorum). */
  lastResponseAt: number;
  /**
   * Whether this follower has answered this leader at all since its progress began (this
   * leadership, or the configuration that made it a member). lastResponseAt starts at `now` so
   * CheckQuorum gives a new leader a full timeout; this tells a peer that never answered apart.
   */
  answered: boolean;
  /**
   * Whether this follower's latest answer to an AppendEntries rejected at or below its match
   * index: it no longer holds what it acknowledged (it lost its log: a node back on storage that
   * kept nothing), or the answer was a stale one overtaken on the way, which the next success
   * clears. The match index itself never goes down (commit safety counts it); matchIndexes()
   * reports such a follower at 0, so a room's policy does not promote it as caught up.
   */
  rejectsBelowMatch: boolean;
  /** Last time its match index advanced (stall detection of in-flight entries). */
  lastProgressAt: number;
  /**
   * When the match index last advanced, and only then (lastProgressAt also restarts when entries
   * go out after a quiet spell): whether a follower is still catching up.
   */
  matchAdvancedAt: number;
  /**
   * After the follower installed a snapshot: the leader's last index when it did, or 0. Until its
   * match index gets there, compaction waits for it (snapshots.ts), as it waited for its stream:
   * released at the install, the hold let the floor pass the snapshot just installed before the
   * follower had the entries after it, and it needed a whole new stream (review snap52: 14
   * installs in 30 s, never caught up, when more than one probe's worth had been written).
   */
  catchUpThroughIndex: number;
  /** Whether any AppendEntries went to this follower since the last ready was taken. */
  sentThisRound: boolean;
  /**
   * Whether this follower's latest AppendEntries answer said it never leads (a witness:
   * AppendEntriesResponse.neverLeads). False until it answers: a peer not heard from yet is
   * assumed able to lead (never-leads.ts).
   */
  neverLeads: boolean;
}

export function createProgress(nextIndex: number, now: number): FollowerProgress {
  return {
    matchIndex: 0,
    nextIndex,
    state: 'probe',
    snapshotStream: null,
    snapshotSentBytes: 0,
    snapshotFurthestSentBytes: 0,
    snapshotAckedBytes: 0,
    snapshotRetransmitAt: Number.NEGATIVE_INFINITY,
    snapshotWindowShrunk: false,
    snapshotStalled: false,
    snapshotAdvancingAcks: 0,
    snapshotRegrowAfterAcks: 0,
    snapshotProgressAt: now,
    snapshotFurthestAckedBytes: 0,
    snapshotFurthestAckedAt: now,
    snapshotFellBackAt: null,
    snapshotReassembliesLost: 0,
    snapshotPacedUntil: Number.NEGATIVE_INFINITY,
    snapshotTimedChunk: null,
    snapshotResentThroughBytes: -1,
    snapshotRepeatsExcusable: 0,
    snapshotAnswersOwedAtRewind: 0,
    snapshotCopiesSinceRewind: 0,
    snapshotAnswersSinceRewind: 0,
    roundTrip: createRoundTripEstimate(),
    snapshotMinimumRoundTripMs: null,
    inflightLastIndices: [],
    probeSentAt: Number.NEGATIVE_INFINITY,
    probeOutstanding: false,
    lastResponseAt: now,
    answered: false,
    rejectsBelowMatch: false,
    lastProgressAt: now,
    matchAdvancedAt: now,
    catchUpThroughIndex: 0,
    sentThisRound: false,
    neverLeads: false,
  };
}

export function becomeProbe(progress: FollowerProgress): void {
  // The snapshot state is left only on the follower's word (installed, or its log caught up), so
  // a stall of its stream is over: its next stream starts with the full window. (In the other
  // states the flag is already false.)
  progress.snapshotStalled = false;
  // For the same reason, its lost reassemblies are behind it.
  progress.snapshotReassembliesLost = 0;
  // The stream is over: its snapshot, perhaps older than the newest, is let go.
  progress.snapshotStream = null;
  progress.state = 'probe';
  progress.nextIndex = progress.matchIndex + 1;
  progress.inflightLastIndices = [];
  progress.probeOutstanding = false;
}

/** The index of the snapshot the follower's stream sends, or 0 when none streams. */
export function streamedSnapshotIndex(progress: FollowerProgress): number {
  return progress.snapshotStream?.snapshot.meta.lastIncludedIndex ?? 0;
}

/** Drops in-flight records that an acknowledgement through `matchIndex` has covered. */
export function releaseInflight(progress: FollowerProgress, matchIndex: number): void {
  const inflight = progress.inflightLastIndices;
  let covered = 0;
  while (covered < inflight.length && (inflight[covered] as number) <= matchIndex) covered += 1;
  if (covered > 0) inflight.splice(0, covered);
}
