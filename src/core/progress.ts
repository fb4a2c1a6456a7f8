// The leader's view of one follower (etcd's Progress): probing for the match point one message
// at a time, then replicating with a bounded pipeline of in-flight AppendEntries.
export interface FollowerProgress {
  matchIndex: number;
  nextIndex: number;
  state: 'probe' | 'replicate' | 'snapshot';
  /** Snapshot transfer: which snapshot, bytes sent and bytes acknowledged. */
  snapshotIndex: number;
  snapshotSentBytes: number;
  /** The furthest byte sent in this stream: a resend rewinds snapshotSentBytes, not this. */
  snapshotFurthestSentBytes: number;
  snapshotAckedBytes: number;
  /** When snapshot chunks were last resent (resends are rate-limited). */
  snapshotRetransmitAt: number;
  /** Chunks allowed in flight: shrinks to 1 once the path reorders or loses chunks. */
  snapshotWindowChunks: number;
  /** Acknowledgements that advanced the stream since its window last shrank. */
  snapshotAdvancingAcks: number;
  /** Advancing acknowledgements after which a shrunk window grows back: 0 until the first shrink, then doubling at each. */
  snapshotRegrowAfterAcks: number;
  /** When the follower last acknowledged new snapshot bytes, or a chunk went out with none in flight (stall detection). */
  snapshotProgressAt: number;
  /** Pacing (RaftConfig.snapshotBytesPerSecond): no chunk goes out before this clock reading. */
  snapshotPacedUntil: number;
  /** Last index carried by each in-flight AppendEntries, oldest first (replicate state). */
  inflightLastIndices: number[];
  /** When the outstanding probe was sent; a probe is re-sent only after a heartbeat interval. */
  probeSentAt: number;
  probeOutstanding: boolean;
  /** Last time this follower answered in the current term (CheckQuorum). */
  lastResponseAt: number;
  /** Last time its match index advanced (stall detection of in-flight entries). */
  lastProgressAt: number;
  /** Whether any AppendEntries went to this follower since the last ready was taken. */
  sentThisRound: boolean;
}

export function createProgress(nextIndex: number, now: number): FollowerProgress {
  return {
    matchIndex: 0,
    nextIndex,
    state: 'probe',
    snapshotIndex: 0,
    snapshotSentBytes: 0,
    snapshotFurthestSentBytes: 0,
    snapshotAckedBytes: 0,
    snapshotRetransmitAt: Number.NEGATIVE_INFINITY,
    snapshotWindowChunks: 1,
    snapshotAdvancingAcks: 0,
    snapshotRegrowAfterAcks: 0,
    snapshotProgressAt: now,
    snapshotPacedUntil: Number.NEGATIVE_INFINITY,
    inflightLastIndices: [],
    probeSentAt: Number.NEGATIVE_INFINITY,
    probeOutstanding: false,
    lastResponseAt: now,
    lastProgressAt: now,
    sentThisRound: false,
  };
}

export function becomeProbe(progress: FollowerProgress): void {
  progress.state = 'probe';
  progress.nextIndex = progress.matchIndex + 1;
  progress.inflightLastIndices = [];
  progress.probeOutstanding = false;
}

/** Drops in-flight records that an acknowledgement through `matchIndex` has covered. */
export function releaseInflight(progress: FollowerProgress, matchIndex: number): void {
  const inflight = progress.inflightLastIndices;
  let covered = 0;
  while (covered < inflight.length && (inflight[covered] as number) <= matchIndex) covered += 1;
  if (covered > 0) inflight.splice(0, covered);
}
