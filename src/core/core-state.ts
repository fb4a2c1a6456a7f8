// The engine's mutable state, in one object every module of the engine sees (raft-core.ts explains
// the layout). It is created once, with every field in one literal, so its shape never changes.
// `host` carries the operations one concept module needs of another: each module names them in a
// host interface of its own, and raft-core.ts, which imports every module, wires them.
import { assert } from './assert.ts';
import { dedupWindowSize } from './client-session-format.ts';
import type { ResolvedRaftConfig } from './config.ts';
import { CorrelatedRequests } from './correlated-requests.ts';
import { LastAutoEntries } from './incarnation-proof.ts';
import { incarnationSalt, salted48 } from './incarnation-salt.ts';
import type { RaftMetric, RaftTraceEvent } from './events.ts';
import { type CachedAppend, DedupKeyCache } from './dedup-key-cache.ts';
import { createMembership, type Membership } from './quorum.ts';
import type { FollowerProgress } from './progress.ts';
import { ProposalWaiters } from './proposal-waiters.ts';
import { createRaftLog, type RaftLog } from './raft-log.ts';
import { ReadIndexTracker } from './read-index.ts';
import type { MembershipOutcome, OutboundMessage, ProposalOutcome, ReadOutcome, SnapshotWrite, TransferOutcome } from './ready.ts';
import type { TimeoutBounds } from './round-trip-estimate.ts';
import { snapshotStallBounds } from './snapshot-sender.ts';
import type { SnapshotReassembly } from './snapshot-reassembly.ts';
import { WedgeDetector } from './wedge-detector.ts';
import type { ClientId, ClusterConfig, ConfigPayload, DedupKey, LogEntry, NodeId, RaftRole, SnapshotMeta } from './types.ts';
import type { AppendEntriesResponse } from './messages.ts';

/** A follower's answer held back because it tells its leader nothing new (held-answers.ts). */
export interface HeldAppendAnswer {
  readonly to: NodeId;
  readonly message: AppendEntriesResponse;
  /** Whether it acknowledges local state, and so waits for the writes before it when it goes. */
  readonly afterPersist: boolean;
  readonly dueAt: number;
}

export interface RaftCoreOptions {
  readonly id: NodeId;
  readonly config: ResolvedRaftConfig;
  readonly random: () => number;
  readonly now: number;
  readonly bootstrap: ClusterConfig;
  readonly hardState: { readonly term: number; readonly votedFor: NodeId | null };
  readonly leaderPin: { readonly term: number; readonly leaderId: NodeId } | null;
  readonly snapshotMeta: SnapshotMeta | null;
  /** The stored snapshot's state, so a leader can send it to a lagging follower. */
  readonly snapshotState?: Uint8Array | null;
  readonly entries: readonly LogEntry[];
  /**
   * The commit index a previous incarnation stored (restore.ts checked it against the log): the
   * entries through it are committed from the first input on, so nothing (a witness's catch-up
   * reply still in flight, say) may replace them. Clamped to the log and the snapshot.
   */
  readonly commitIndex?: number;
  /** The transport's largest frame, if bounded: AppendEntries batches stay below it. */
  readonly maxPayloadBytes?: number | undefined;
  /** Frames up to this size stay in order (RaftTransport.orderedFrameBytes): batches stay below it. */
  readonly orderedFrameBytes?: number | undefined;
}

/** A read this node's caller asked for while another node leads. */
export interface PendingRead {
  readonly readId: number;
  correlationId: number;
  sentTo: NodeId | null;
  sentAt: number;
}

export interface PendingForward {
  readonly proposalId: number;
  readonly command: Uint8Array;
  readonly dedupKey: DedupKey | null;
  correlationId: number;
  sentTo: NodeId | null;
  sentAt: number;
  /** How long to wait for this leader's answer before sending again (doubles per resend). */
  retryAfterMs: number;
  /** 'busy' answers in a row from the leader it goes to: each one makes the next re-send wait longer. */
  busyAnswers: number;
  /**
   * Answered 'unproven' (incarnation-proof.ts): sent again as soon as this node's commit index
   * reaches this, or as any unanswered forward is; null otherwise.
   */
  commitIndexNeeded: number | null;
  appended: { readonly index: number; readonly term: number } | null;
  /**
   * The commit index when the proposal was made (or last forwarded afresh, see settleAwaited):
   * wherever a leader appends it, it lands above this (a leader's log holds every committed
   * entry), so compaction stops here while the forward is pending and its entry can still be
   * checked when the leader's answer comes.
   */
  committedBefore: number;
}

export interface MembershipChange {
  changeId: number;
  target: ClusterConfig;
  awaitingIndex: number;
}

/** `transferIds`: every call waiting on this transfer (a repeat for its target joins it). */
export interface LeadershipTransfer {
  transferIds: number[];
  target: NodeId;
  deadline: number;
  timeoutSent: boolean;
  awaitingNewLeader: boolean;
}

export const frameOverheadBytes = 64;
/** A transport's ordered frame size smaller than this is not worth keeping batches within. */
const minimumOrderedBatchBytes = 4 * 1024;
/** The salt's words for correlation ids (auto client ids use positions 0 to 3). */
const correlationSaltPosition = 16;
/** Forwarded requests the leader remembers: 16 followers' full windows of unresolved proposals. */
export const leaderDedupCacheSize = 16 * dedupWindowSize;
/**
 * Keys of compacted entries a node remembers (compacted-keys.ts): four followers' full windows.
 * Retries come seconds after the first try, a few thousand entries at most at the rates seen
 * (about 0.5 MB per node when full).
 */
export const compactedKeysSize = 4 * dedupWindowSize;

/** A compacted entry's place, and a digest of its command, so a request reusing its key with another command is not taken for it. */
export interface CompactedEntry extends CachedAppend {
  readonly commandDigest: number;
}

export interface CoreState<Host = unknown> {
  readonly id: NodeId;
  readonly config: ResolvedRaftConfig;
  readonly random: () => number;
  /** The operations of other modules (see the host interface of the module at hand). */
  readonly host: Host;
  readonly maxAppendBytes: number;
  /** The transport's largest frame (RaftTransport.maxPayloadBytes): a larger one is never delivered. */
  readonly maxFrameBytes: number;
  /** Bytes of entries one replication batch carries at most (within the transport's ordered frames). */
  readonly replicationBatchBytes: number;
  /** Bounds of a snapshot stream's stall timeout, derived from the election timeouts. */
  readonly snapshotStallBounds: TimeoutBounds;
  now: number;

  currentTerm: number;
  votedFor: NodeId | null;
  role: RaftRole;
  preCandidate: boolean;
  leaderId: NodeId | null;
  pinnedLeader: { term: number; leaderId: NodeId } | null;
  readonly log: RaftLog;
  commitIndex: number;
  /**
   * The highest commit index handed to a write (storage keeps it where it can): a restarted node
   * applies through what it finds stored, without waiting to hear a leader.
   */
  commitWritten: number;
  /** When the commit index was last handed to a write: it rides along at most once half an interval. */
  commitWrittenAt: number;
  /**
   * When the commit index, unwritten since it advanced, gets a write of its own if no other write
   * has carried it by then (infinite while it is written or none is due). It rides along with
   * writes made anyway, so only a commit learned while nothing is written (a follower hearing a
   * heartbeat, a leader's last answers) costs one, a heartbeat interval later.
   */
  commitWriteDeadline: number;
  /** The deadline above passed (tick): the next ready writes the commit index even alone. */
  commitWriteDue: boolean;
  /**
   * A follower's answer to an AppendEntries that tells its leader nothing new (held-answers.ts):
   * sent at `dueAt` unless a later answer to that leader goes first and carries it.
   */
  heldAppendAnswer: HeldAppendAnswer | null;
  /** The last successful AppendEntries answer sent, against which an answer is judged new. */
  lastAppendAnswer: { readonly to: NodeId; readonly term: number; readonly matchIndex: number } | null;
  persistedIndex: number;
  membership: Membership;
  readonly bootstrapPayload: ConfigPayload;
  snapshotConfig: ConfigPayload | null;
  /** Kept incrementally: scanning the log for it on every commit would be O(log length). */
  configEntryIndex: number;
  snapshot: { meta: SnapshotMeta; state: Uint8Array } | null;
  reassembly: SnapshotReassembly | null;
  pendingSnapshotWrite: SnapshotWrite | null;
  /**
   * How far the application's snapshots asked the log to be compacted (its latest snapshot's
   * index less snapshotTrailingEntries). Compaction stops short of it while a pending forward or
   * a follower's running snapshot stream needs the entries, and goes the rest of the way once
   * they no longer do (snapshots.ts resumeHeldCompaction), not only at the next publish.
   */
  compactionWanted: number;

  electionDeadline: number;
  heartbeatDeadline: number;
  lastLeaderContact: number;
  electionStartedAt: number;
  readonly votes: Map<NodeId, boolean>;
  readonly progress: Map<NodeId, FollowerProgress>;
  /**
   * Members this leader stopped replicating to in its term, removed by a committed C_new: their
   * answers to frames sent before (and to the farewell) are expected, and dropped without a
   * refusal, which would count an honest peer as hostile. Cleared with `progress`; at most
   * `maxDepartedMembers`, the longest gone forgotten first.
   */
  readonly departed: Set<NodeId>;
  commitAdvanced: boolean;

  readonly awaited: ProposalWaiters;
  /** The committed term for which awaited proposals were last checked for being outlived. */
  outlivedCheckedTerm: number;
  readonly forwards: CorrelatedRequests<PendingForward>;
  nextCorrelationId: number;
  readonly leaderDedupCache: DedupKeyCache;
  /** As leader: the auto id of each node's last entry in the log, what a forward must prove against (incarnation-proof.ts). */
  readonly lastAutoEntries: LastAutoEntries;
  /** The keys of the newest committed entries this node compacted away, where they took effect. */
  readonly compactedKeys: DedupKeyCache<CompactedEntry>;
  /**
   * Every keyed entry from this index through the floor has its key in compactedKeys (at the
   * first index it committed at): an answer naming an entry in that range can be checked. Above
   * the floor when nothing behind it can (restarted, or a snapshot installed over a gap).
   */
  compactedKeysCoverFrom: number;
  /** The highest request id this node appended as leader, per client, for its own proposals. */
  readonly localRequestHighWater: Map<ClientId, number>;
  readTracker: ReadIndexTracker;
  membershipChange: MembershipChange | null;
  /**
   * A change asked for while leadership is being handed over. The leader appends nothing then
   * (an entry appended after TimeoutNow leaves the target's log behind, and the voters deny it the
   * election): the change waits, runs if the transfer is abandoned, and fails with notLeader once
   * the target leads (its caller asks the new leader).
   */
  heldMembershipChange: { changeId: number; target: ClusterConfig } | null;
  membershipOutcomes: MembershipOutcome[];
  transfer: LeadershipTransfer | null;
  transferOutcomes: TransferOutcome[];
  readonly pendingReads: CorrelatedRequests<PendingRead>;
  readonly wedgeDetector: WedgeDetector;
  /**
   * A leader (of a term no older than ours) told this node it is outside its configuration, at
   * `at`; `confirming` once the notice grew an election timeout old and this node asked the voters
   * who leads (ageRemovalNotice), `at` then being when it asked.
   */
  removalNotice: { readonly from: NodeId; readonly term: number; readonly configIndex: number; readonly at: number; readonly confirming: boolean } | null;
  /** The latest configuration this node holds leaves it out, and an earlier one had it in. */
  removedByConfig: boolean;
  /** Whether `removedFromCluster` was reported since a leader last replicated to this node. */
  reportedOutside: boolean;
  /**
   * A witness's last catch-up sent to each voter (catch-up.ts), pruned to voters: when, the log
   * the voter asked with, and where the batch started (one per election timeout; a voter asking
   * again with the same log gets a batch starting a term further back).
   */
  readonly catchUpOffers: Map<NodeId, { readonly at: number; readonly lastLogIndex: number; readonly lastLogTerm: number; readonly prevLogIndex: number }>;
  /**
   * When this node, outside its own configuration, last asked that configuration's voters who
   * leads (leader-question.ts, askWhoLeadsFromOutside): once per shortest election timeout.
   */
  leaderQuestionFromOutsideAt: number;
  /**
   * When a real vote request from a non-voter of ours last moved this node's term or took its
   * vote (elections.ts, nonVoterMayCampaignNow): at most once per two longest election timeouts.
   */
  nonVoterCampaignHeardAt: number;
  /**
   * Answers from a learner whose term is ahead of this leader's (term-rules.ts,
   * learnerTermAheadLongEnough): when they began coming, and when the last came; null when none
   * is coming.
   */
  learnerTermAhead: { readonly since: number; readonly lastHeardAt: number } | null;
  /**
   * When this node last took a learner's term that was ahead of its own, or became leader: a
   * leader takes one no sooner than ten longest election timeouts after (term-rules.ts).
   */
  learnerTermTakenAt: number;

  // The ready being accumulated.
  hardStateDirty: boolean;
  leaderPinDirty: boolean;
  pendingTruncateFrom: number | null;
  unwrittenEntries: LogEntry[];
  writesInFlight: number;
  /** How many writes persisted() has acknowledged so far (writes finish in the order taken). */
  writesPersisted: number;
  /**
   * The number (writesPersisted + writesInFlight at the time) of the newest write carrying the
   * hard state or the leader pin: those are still unwritten while it exceeds writesPersisted.
   */
  newestHardStateWrite: number;
  /** The number of the newest write carrying the term and vote (a subset of the above). */
  newestTermWrite: number;
  messages: OutboundMessage[];
  messagesAfterPersist: OutboundMessage[];
  outcomes: ProposalOutcome[];
  reads: ReadOutcome[];
  metrics: RaftMetric[];
  traceEvents: RaftTraceEvent[];
  /** The driver turns this on while someone listens to the trace, so idle tracing costs nothing. */
  tracing: boolean;
  /** Whether leader proposals report an `accepted` outcome (only metrics need it). */
  reportAcceptance: boolean;
}

/**
 * The state a node starts in. The membership, the latest config entry, whether a configuration
 * removed this node, and the role are derived from the log (membership-state.ts) by RaftCore's
 * constructor once the log exists: these placeholders are overwritten before any input.
 */
export function createCoreState<Host>(options: RaftCoreOptions, host: Host): CoreState<Host> {
  const random = options.random;
  const maxFrameBytes = options.maxPayloadBytes ?? Number.POSITIVE_INFINITY;
  const maxAppendBytes = Math.min(options.config.maxAppendBytes, maxFrameBytes);
  assert(maxAppendBytes >= 1024, 'transport maxPayloadBytes must allow at least 1024 bytes');
  // Below a few KiB batching would cost more than the reordering it avoids.
  const ordered = options.orderedFrameBytes ?? Number.POSITIVE_INFINITY;
  const floorIndex = options.snapshotMeta?.lastIncludedIndex ?? 0;
  const floorTerm = options.snapshotMeta?.lastIncludedTerm ?? 0;
  const log = createRaftLog(floorIndex, floorTerm, options.entries);
  const restoredCommit = Math.max(floorIndex, Math.min(options.commitIndex ?? floorIndex, log.lastIndex));
  const bootstrapPayload: ConfigPayload = { old: null, new: options.bootstrap };
  return {
    id: options.id,
    config: options.config,
    random,
    host,
    maxAppendBytes,
    maxFrameBytes,
    replicationBatchBytes: ordered >= minimumOrderedBatchBytes ? Math.min(maxAppendBytes, ordered) : maxAppendBytes,
    snapshotStallBounds: snapshotStallBounds(options.config),
    now: options.now,
    currentTerm: options.hardState.term,
    votedFor: options.hardState.votedFor,
    role: 'follower',
    preCandidate: false,
    leaderId: null,
    pinnedLeader: options.leaderPin,
    log,
    commitIndex: restoredCommit,
    // Stored already: written again only once it advances.
    commitWritten: restoredCommit,
    commitWrittenAt: Number.NEGATIVE_INFINITY,
    commitWriteDeadline: Number.POSITIVE_INFINITY,
    commitWriteDue: false,
    heldAppendAnswer: null,
    lastAppendAnswer: null,
    persistedIndex: log.lastIndex,
    membership: createMembership(bootstrapPayload),
    bootstrapPayload,
    snapshotConfig: options.snapshotMeta?.config ?? null,
    configEntryIndex: 0,
    snapshot: options.snapshotMeta === null || options.snapshotState == null ? null : { meta: options.snapshotMeta, state: options.snapshotState },
    reassembly: null,
    pendingSnapshotWrite: null,
    compactionWanted: 0,
    electionDeadline: 0,
    heartbeatDeadline: 0,
    lastLeaderContact: Number.NEGATIVE_INFINITY,
    electionStartedAt: 0,
    votes: new Map(),
    progress: new Map(),
    departed: new Set(),
    commitAdvanced: false,
    awaited: new ProposalWaiters(floorIndex),
    outlivedCheckedTerm: 0,
    forwards: new CorrelatedRequests<PendingForward>(),
    // Correlation ids start at a random point, not 1: a restarted node must not match answers
    // meant for its previous incarnation's forwards and reads to its own new requests. Salted
    // with the incarnation, since a random source that repeats at restarts draws the same point.
    nextCorrelationId: 1 + salted48(random(), incarnationSalt(options.now, options.hardState.term, log.lastIndex), correlationSaltPosition),
    leaderDedupCache: new DedupKeyCache(leaderDedupCacheSize),
    lastAutoEntries: new LastAutoEntries(),
    compactedKeys: new DedupKeyCache<CompactedEntry>(compactedKeysSize),
    compactedKeysCoverFrom: floorIndex + 1,
    localRequestHighWater: new Map(),
    readTracker: new ReadIndexTracker(),
    membershipChange: null,
    heldMembershipChange: null,
    membershipOutcomes: [],
    transfer: null,
    transferOutcomes: [],
    pendingReads: new CorrelatedRequests<PendingRead>(),
    wedgeDetector: new WedgeDetector(options.config.wedgeSuspicionTimeouts * options.config.electionTimeoutMaxMs),
    removalNotice: null,
    removedByConfig: false,
    reportedOutside: false,
    catchUpOffers: new Map(),
    leaderQuestionFromOutsideAt: Number.NEGATIVE_INFINITY,
    nonVoterCampaignHeardAt: Number.NEGATIVE_INFINITY,
    learnerTermAhead: null,
    learnerTermTakenAt: Number.NEGATIVE_INFINITY,
    hardStateDirty: false,
    leaderPinDirty: false,
    pendingTruncateFrom: null,
    unwrittenEntries: [],
    writesInFlight: 0,
    writesPersisted: 0,
    newestHardStateWrite: 0,
    newestTermWrite: 0,
    messages: [],
    messagesAfterPersist: [],
    outcomes: [],
    reads: [],
    metrics: [],
    traceEvents: [],
    tracing: false,
    reportAcceptance: false,
  };
}

/** Entries through this index are committed and durable here: safe to apply. */
export function applicableIndex(core: CoreState): number {
  return Math.min(core.commitIndex, core.persistedIndex);
}
