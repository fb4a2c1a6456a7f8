// The deterministic Raft state machine. Inputs arrive as method calls carrying the current clock
// reading; everything the outside world must do comes back through takeReady(). No timers, no
// I/O, no awaits: the driver owns time, storage and transport.
import { appendBatchRefusal } from './append-batch-check.ts';
import { assert } from './assert.ts';
import type { ResolvedRaftConfig } from './config.ts';
import type { RaftMetric, RaftTraceEvent, RefusalReason } from './events.ts';
import type {
  AppendEntries,
  AppendEntriesResponse,
  ForwardPropose,
  ForwardProposeResponse,
  InstallSnapshot,
  InstallSnapshotResponse,
  RaftMessage,
  ReadIndexRequest,
  ReadIndexResponse,
  NotMember,
  RequestVote,
  RequestVoteResponse,
  TimeoutNow,
} from './messages.ts';
import { becomeProbe, createProgress, releaseInflight, type FollowerProgress } from './progress.ts';
import { createMembership, hasQuorum, quorumImpossible, quorumValue, type Membership } from './quorum.ts';
import { CorrelatedRequests } from './correlated-requests.ts';
import { WedgeDetector } from './wedge-detector.ts';
import { commandEntrySizeBound, encodedSizeBound } from './entry-size.ts';
import { ProposalWaiters, type AwaitedProposal } from './proposal-waiters.ts';
import { LeaderDedupCache, type CachedAppend } from './leader-dedup-cache.ts';
import { dedupWindowSize } from './client-session-format.ts';
import { createRaftLog, type RaftLog } from './raft-log.ts';
import { ReadIndexTracker, type ReadRequester } from './read-index.ts';
import { acceptChunk, type SnapshotReassembly } from './snapshot-reassembly.ts';
import type { TimeoutBounds } from './round-trip-estimate.ts';
import {
  acknowledgeSnapshotOffset,
  beginSnapshotStream,
  nextSnapshotChunks,
  resendStalledSnapshot,
  snapshotChunkDueAt,
  snapshotStallBounds,
  type SnapshotPace,
} from './snapshot-sender.ts';
import type { MembershipFailure, MembershipOutcome, OutboundMessage, ProposalFailure, ProposalOutcome, Ready, ReadOutcome, SnapshotWrite, TransferOutcome } from './ready.ts';
import { sameConfig, sameMembers } from './config-compare.ts';
import type {
  ClusterConfig,
  ClientId,
  ConfigPayload,
  DedupKey,
  LogEntry,
  NodeId,
  RaftRole,
  SnapshotMeta,
  StepDownReason,
  TransferAbandonReason,
  VoteDenialReason,
} from './types.ts';
import { isValidCounter, maxLogIndex } from './types.ts';

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
  /** The transport's largest frame, if bounded: AppendEntries batches stay below it. */
  readonly maxPayloadBytes?: number | undefined;
  /** Frames up to this size stay in order (RaftTransport.orderedFrameBytes): batches stay below it. */
  readonly orderedFrameBytes?: number | undefined;
}

/** A read this node's caller asked for while another node leads. */
interface PendingRead {
  readonly readId: number;
  correlationId: number;
  sentTo: NodeId | null;
  sentAt: number;
}

interface PendingForward {
  readonly proposalId: number;
  readonly command: Uint8Array;
  readonly dedupKey: DedupKey | null;
  correlationId: number;
  sentTo: NodeId | null;
  sentAt: number;
  /** How long to wait for this leader's answer before sending again (doubles per resend). */
  retryAfterMs: number;
  appended: { readonly index: number; readonly term: number } | null;
  /**
   * The commit index when the proposal was made: wherever a leader appends it, it lands above
   * this (a leader's log holds every committed entry), so compaction stops here while the
   * forward is pending and its entry can still be checked when the leader's answer comes.
   */
  readonly committedBefore: number;
}

/**
 * A forward unanswered by the same leader is sent again after an election timeout, then after
 * twice as long each time, up to this many election timeouts. A fixed timeout collapsed a busy
 * cluster: once queueing delay passed it, every pipelined forward was sent twice, which made the
 * queues longer still. A new leader gets every forward at once (they are safe to retry).
 */
const maxForwardBackoffElectionTimeouts = 8;

const frameOverheadBytes = 64;
/** A transport's ordered frame size smaller than this is not worth keeping batches within. */
const minimumOrderedBatchBytes = 4 * 1024;
/** Bytes of entries a probe carries at most (a small frame; see sendAppend). */
const probeAppendBytes = 8 * 1024;
const maxEntriesPerAppend = 50_000;
/** Forwarded requests the leader remembers: 16 followers' full windows of unresolved proposals. */
const leaderDedupCacheSize = 16 * dedupWindowSize;
/** How far back a leader looks for a request its own application proposed again (rare: see retriedLocalEntry). */
const localRetryScanEntries = 4 * dedupWindowSize;
/** Clients whose request ids a leader follows for its own proposals: a node's own identities, re-minted now and then. */
const maxLocalClients = 64;

/** Whether an entry was appended under this dedup key (keys are unique per client and request). */
function carriesKey(entry: LogEntry, key: DedupKey): boolean {
  return entry.dedupKey !== undefined && entry.dedupKey.clientId === key.clientId && entry.dedupKey.requestId === key.requestId;
}

export class RaftCore {
  readonly id: NodeId;
  private readonly config: ResolvedRaftConfig;
  private readonly random: () => number;
  private readonly maxAppendBytes: number;
  /** The transport's largest frame (RaftTransport.maxPayloadBytes): a larger one is never delivered. */
  private readonly maxFrameBytes: number;
  /** Bytes of entries one replication batch carries at most (within the transport's ordered frames). */
  private readonly replicationBatchBytes: number;
  /** Snapshot chunk size (within one frame) and rate, fixed for this node's life. */
  private readonly snapshotPace: SnapshotPace;
  /** Bounds of a snapshot stream's stall timeout, derived from the election timeouts. */
  private readonly snapshotStallBounds: TimeoutBounds;
  private now: number;

  private currentTerm: number;
  private votedFor: NodeId | null;
  private roleValue: RaftRole = 'follower';
  private preCandidate = false;
  private leaderId: NodeId | null = null;
  private pinnedLeader: { term: number; leaderId: NodeId } | null;
  private readonly log: RaftLog;
  private commitIndexValue: number;
  private persistedIndex: number;
  private membershipValue: Membership;
  private readonly bootstrapPayload: ConfigPayload;
  private snapshotConfig: ConfigPayload | null;
  /** Kept incrementally: scanning the log for it on every commit would be O(log length). */
  private configEntryIndex = 0;
  private snapshot: { meta: SnapshotMeta; state: Uint8Array } | null;
  private reassembly: SnapshotReassembly | null = null;
  private pendingSnapshotWrite: SnapshotWrite | null = null;

  private electionDeadline = 0;
  private heartbeatDeadline = 0;
  private lastLeaderContact = Number.NEGATIVE_INFINITY;
  private electionStartedAt = 0;
  private readonly votes = new Map<NodeId, boolean>();
  private readonly progress = new Map<NodeId, FollowerProgress>();
  private commitAdvanced = false;

  private readonly awaited: ProposalWaiters;
  /** The committed term for which awaited proposals were last checked for being outlived. */
  private outlivedCheckedTerm = 0;
  private readonly forwards = new CorrelatedRequests<PendingForward>();
  private nextCorrelationId = 1;
  private readonly leaderDedupCache = new LeaderDedupCache(leaderDedupCacheSize);
  /** The highest request id this node appended as leader, per client, for its own proposals. */
  private readonly localRequestHighWater = new Map<ClientId, number>();
  private readTracker = new ReadIndexTracker();
  private membershipChange: { changeId: number; target: ClusterConfig; awaitingIndex: number; joint: boolean } | null = null;
  /**
   * A change asked for while leadership is being handed over. The leader appends nothing then
   * (an entry appended after TimeoutNow leaves the target's log behind, and the voters deny it the
   * election): the change waits, runs if the transfer is abandoned, and fails with notLeader once
   * the target leads (its caller asks the new leader).
   */
  private heldMembershipChange: { changeId: number; target: ClusterConfig } | null = null;
  private membershipOutcomes: MembershipOutcome[] = [];
  /** `transferIds`: every call waiting on this transfer (a repeat for its target joins it). */
  private transfer: { transferIds: number[]; target: NodeId; deadline: number; timeoutSent: boolean; awaitingNewLeader: boolean } | null = null;
  private transferOutcomes: TransferOutcome[] = [];
  private readonly pendingReads = new CorrelatedRequests<PendingRead>();
  private readonly wedgeDetector: WedgeDetector;
  /** A leader (of a term no older than ours) told this node it is outside its configuration. */
  private removalNotice: { readonly from: NodeId; readonly term: number; readonly configIndex: number; readonly at: number } | null = null;
  /** The latest configuration this node holds leaves it out, and an earlier one had it in. */
  private removedByConfig = false;
  /** Whether `removedFromCluster` was reported since a leader last replicated to this node. */
  private reportedOutside = false;

  // The ready being accumulated.
  private hardStateDirty = false;
  private leaderPinDirty = false;
  private pendingTruncateFrom: number | null = null;
  private unwrittenEntries: LogEntry[] = [];
  private writesInFlight = 0;
  /** How many writes persisted() has acknowledged so far (writes finish in the order taken). */
  private writesPersisted = 0;
  /**
   * The number (writesPersisted + writesInFlight at the time) of the newest write carrying the
   * hard state or the leader pin: those are still unwritten while it exceeds writesPersisted.
   */
  private newestHardStateWrite = 0;
  private messages: OutboundMessage[] = [];
  private messagesAfterPersist: OutboundMessage[] = [];
  private outcomes: ProposalOutcome[] = [];
  private reads: ReadOutcome[] = [];
  private metrics: RaftMetric[] = [];
  private traceEvents: RaftTraceEvent[] = [];
  /** The driver turns this on while someone listens to the trace, so idle tracing costs nothing. */
  tracing = false;
  /** Whether leader proposals report an `accepted` outcome (only metrics need it). */
  reportAcceptance = false;

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    this.config = options.config;
    this.random = options.random;
    // Correlation ids start at a random point, not 1: a restarted node must not match answers
    // meant for its previous incarnation's forwards and reads to its own new requests.
    this.nextCorrelationId = 1 + Math.floor(this.random() * 2 ** 48);
    this.now = options.now;
    this.maxFrameBytes = options.maxPayloadBytes ?? Number.POSITIVE_INFINITY;
    this.maxAppendBytes = Math.min(options.config.maxAppendBytes, this.maxFrameBytes);
    assert(this.maxAppendBytes >= 1024, 'transport maxPayloadBytes must allow at least 1024 bytes');
    // Below a few KiB batching would cost more than the reordering it avoids.
    const ordered = options.orderedFrameBytes ?? Number.POSITIVE_INFINITY;
    this.replicationBatchBytes = ordered >= minimumOrderedBatchBytes ? Math.min(this.maxAppendBytes, ordered) : this.maxAppendBytes;
    this.snapshotPace = { chunkBytes: Math.min(options.config.snapshotChunkCeilingBytes, this.maxAppendBytes - frameOverheadBytes - 1024), bytesPerSecond: options.config.snapshotBytesPerSecond };
    this.snapshotStallBounds = snapshotStallBounds(options.config);
    this.wedgeDetector = new WedgeDetector(options.config.wedgeSuspicionTimeouts * options.config.electionTimeoutMaxMs);
    this.currentTerm = options.hardState.term;
    this.votedFor = options.hardState.votedFor;
    this.pinnedLeader = options.leaderPin;
    const floorIndex = options.snapshotMeta?.lastIncludedIndex ?? 0;
    const floorTerm = options.snapshotMeta?.lastIncludedTerm ?? 0;
    this.log = createRaftLog(floorIndex, floorTerm, options.entries);
    this.commitIndexValue = floorIndex;
    this.persistedIndex = this.log.lastIndex;
    this.awaited = new ProposalWaiters(floorIndex);
    this.bootstrapPayload = { old: null, new: options.bootstrap };
    this.snapshotConfig = options.snapshotMeta?.config ?? null;
    this.snapshot = options.snapshotMeta === null || options.snapshotState == null ? null : { meta: options.snapshotMeta, state: options.snapshotState };
    this.membershipValue = createMembership(this.latestConfigPayload());
    this.configEntryIndex = this.findLatestConfigEntry();
    this.removedByConfig = this.computeRemovedByConfig();
    this.roleValue = this.isVoter(this.id) ? 'follower' : 'learner';
    this.resetElectionTimer();
    this.emitTrace({ type: 'becomeFollower', reason: 'started', leader: null });
  }

  // ---- observable state -------------------------------------------------------------------

  get role(): RaftRole {
    return this.roleValue;
  }
  get term(): number {
    return this.currentTerm;
  }
  get leader(): NodeId | null {
    return this.leaderId;
  }
  get commitIndex(): number {
    return this.commitIndexValue;
  }
  /** Entries through this index are committed and durable here: safe to apply. */
  get applicableIndex(): number {
    return Math.min(this.commitIndexValue, this.persistedIndex);
  }
  get membership(): ClusterConfig {
    return this.membershipValue.payload.new;
  }
  get membershipPayload(): ConfigPayload {
    return this.membershipValue.payload;
  }
  get compactionFloor(): number {
    return this.log.floorIndex;
  }
  get lastIndex(): number {
    return this.log.lastIndex;
  }
  entryAt(index: number): LogEntry | undefined {
    return this.log.entryAt(index);
  }
  /**
   * The leader's view of how far each peer's log matches its own (read-only copies; empty unless
   * leading). Room membership policies use it to promote only learners that have caught up.
   */
  matchIndexes(): ReadonlyMap<NodeId, number> {
    const result = new Map<NodeId, number>();
    if (this.roleValue !== 'leader') return result;
    for (const [peer, progress] of this.progress) result.set(peer, progress.matchIndex);
    return result;
  }
  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }

  /** The earliest clock reading at which tick() has work to do. */
  nextDeadline(): number {
    const transferDeadline = this.transfer?.deadline ?? Number.POSITIVE_INFINITY;
    if (this.roleValue === 'leader') return Math.min(this.heartbeatDeadline, transferDeadline, this.pacedSnapshotDeadline());
    let deadline = this.roleValue === 'learner' && !this.mayCampaignAsOutgoingVoter() ? Number.POSITIVE_INFINITY : this.electionDeadline;
    if (this.forwards.size > 0 || this.pendingReads.size > 0) deadline = Math.min(deadline, this.now + this.config.heartbeatIntervalMs);
    return Math.min(deadline, transferDeadline);
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(now: number): void {
    this.advanceClock(now);
    if (this.transfer !== null && now >= this.transfer.deadline) this.abandonTransfer('timeout');
    if (this.roleValue === 'leader') {
      if (now >= this.heartbeatDeadline) this.leaderHeartbeat();
      this.sendPacedSnapshotChunks();
      return;
    }
    // A notice lapses unless renewed (a live leader answers every request with another): if its
    // sender died, this node may be needed to elect the next leader after all.
    if (this.removalNotice !== null && now - this.removalNotice.at >= this.config.electionTimeoutMaxMs) this.removalNotice = null;
    this.retryForwards();
    // A witness never campaigns: it only votes for and acknowledges the others. Its timer still
    // restarts, so its next deadline is always in the future. Nor does a node a leader has just
    // told it is outside the cluster (its campaigns would only be refused), unless its own log
    // still lets it campaign as an outgoing voter (the configuration removing it is uncommitted).
    const toldOutside = this.removalNotice !== null && !this.mayCampaignAsOutgoingVoter();
    if ((this.config.witness || toldOutside) && now >= this.electionDeadline) this.resetElectionTimer();
    if ((this.roleValue !== 'learner' || this.mayCampaignAsOutgoingVoter()) && !this.config.witness && now >= this.electionDeadline) {
      if (this.roleValue === 'candidate' || this.preCandidate) this.pushMetric({ type: 'electionTimedOut', term: this.currentTerm });
      this.emitTrace({ type: 'timeout' });
      this.startPreVote();
    }
  }

  /** A proposal from this node's caller. The outcome arrives in a later ready. */
  propose(now: number, proposalId: number, command: Uint8Array, dedupKey: DedupKey | null): void {
    this.advanceClock(now);
    if (this.roleValue === 'leader' && this.transfer === null) {
      const failure = this.admissionFailure();
      if (failure !== null) {
        this.outcomes.push({ type: 'failed', proposalId, failure });
        return;
      }
      // A request re-proposed under its key (a durable id replayed) waits on the entry we hold.
      const held = this.cachedEntryFor(dedupKey) ?? this.retriedLocalEntry(dedupKey);
      if (held !== null) {
        if (this.reportAcceptance) this.outcomes.push({ type: 'accepted', proposalId, index: held.index });
        this.awaitExisting(held.index, { proposalId, term: held.term, local: true });
        return;
      }
      const entry = this.appendAsLeader(command, dedupKey);
      if (dedupKey !== null) this.noteLocalRequest(dedupKey);
      this.awaited.add(entry.index, { proposalId, term: entry.term, local: true });
      if (this.reportAcceptance) this.outcomes.push({ type: 'accepted', proposalId, index: entry.index });
      return;
    }
    if (this.outsideCluster()) {
      this.outcomes.push({ type: 'failed', proposalId, failure: 'notMember' });
      return;
    }
    // Not leading, or handing leadership over: the proposal waits for (or goes to) the leader.
    const forward: PendingForward = { proposalId, command, dedupKey, correlationId: 0, sentTo: null, sentAt: now, retryAfterMs: this.config.electionTimeoutMaxMs, appended: null, committedBefore: this.commitIndex };
    this.forwards.set(proposalId, forward);
    this.sendForward(forward);
  }

  /** §6 joint consensus: C_old,new, then C_new once that commits. The outcome comes in a ready. */
  changeMembership(now: number, changeId: number, target: ClusterConfig): void {
    this.advanceClock(now);
    const fail = (failure: MembershipFailure): void => {
      this.membershipOutcomes.push({ changeId, failure });
    };
    if (this.roleValue !== 'leader') return fail('notLeader');
    if (this.membershipChange !== null || this.heldMembershipChange !== null || this.latestConfigIndex() > this.commitIndexValue || this.membershipValue.payload.old !== null) return fail('inProgress');
    const current = this.membershipValue.payload.new;
    if (sameConfig(current, target)) {
      this.membershipOutcomes.push({ changeId, failure: null });
      return;
    }
    if (this.transfer !== null) {
      this.heldMembershipChange = { changeId, target };
      return;
    }
    // A change that keeps the voters (learners only) needs no joint phase: majorities are unchanged.
    const sameVoters = sameMembers(current.voters, target.voters);
    const payload: ConfigPayload = sameVoters ? { old: null, new: target } : { old: current, new: target };
    const entry = this.appendConfig(payload);
    this.membershipChange = { changeId, target, awaitingIndex: entry.index, joint: !sameVoters };
  }

  transferLeadership(now: number, transferId: number, target: NodeId): void {
    this.advanceClock(now);
    if (this.roleValue !== 'leader') {
      this.transferOutcomes.push({ transferId, failure: 'notLeader' });
      return;
    }
    if (target === this.id) {
      this.transferOutcomes.push({ transferId, failure: null });
      return;
    }
    // Asked again for the same target: the transfer in progress goes on, and this call waits on
    // it too (etcd ignores the repeat; cancelling reported a failure while leadership moved).
    if (this.transfer !== null && this.transfer.target === target) {
      this.transfer.transferIds.push(transferId);
      return;
    }
    if (this.transfer !== null) this.abandonTransfer('cancelled');
    if (!this.isVoter(target) || !this.progress.has(target)) {
      this.transferOutcomes.push({ transferId, failure: 'notVoter' });
      return;
    }
    this.transfer = { transferIds: [transferId], target, deadline: this.now + this.config.electionTimeoutMaxMs, timeoutSent: false, awaitingNewLeader: false };
    this.emitTrace({ type: 'leadershipTransferStarted', target });
    // Entries the target lacks may be lost rather than in flight (it was cut off a moment ago).
    // The replicate state would notice only after an election timeout without progress, the
    // whole time the transfer has, so the target is probed afresh: if they were in flight,
    // their answers move it straight back to replicating.
    const targetProgress = this.progress.get(target);
    if (targetProgress?.state === 'replicate' && targetProgress.matchIndex < this.log.lastIndex) becomeProbe(targetProgress);
    this.advanceTransfer();
  }

  cancelTransfer(now: number): void {
    this.advanceClock(now);
    if (this.transfer !== null) this.abandonTransfer('cancelled');
  }

  /** One caller stopped waiting (its signal aborted): the transfer ends when no caller is left. */
  abandonTransferCall(now: number, transferId: number): void {
    this.advanceClock(now);
    const transfer = this.transfer;
    if (transfer === null || !transfer.transferIds.includes(transferId)) return;
    transfer.transferIds = transfer.transferIds.filter((waiting) => waiting !== transferId);
    if (transfer.transferIds.length === 0) this.abandonTransfer('cancelled');
  }

  /** A linearizable read from this node's caller; the read index arrives in a later ready. */
  requestRead(now: number, readId: number): void {
    this.advanceClock(now);
    if (this.roleValue === 'leader') {
      this.leaderRead({ type: 'local', readId });
      return;
    }
    if (this.outsideCluster()) {
      this.reads.push({ readId, failure: 'notMember' });
      return;
    }
    const read: PendingRead = { readId, correlationId: 0, sentTo: null, sentAt: now };
    this.pendingReads.set(readId, read);
    this.sendReadRequest(read);
  }

  abandonRead(readId: number): void {
    this.pendingReads.delete(readId);
    this.readTracker.remove(readId);
  }

  /** The caller gave up on a proposal (abort): stop tracking it; it may still commit. */
  abandonProposal(proposalId: number): void {
    this.forwards.delete(proposalId);
    this.awaited.remove(proposalId);
  }

  /** The driver finished writing a ready: its entries (through lastIndex at lastTerm) are durable. */
  persisted(now: number, lastEntry: { index: number; term: number } | null, snapshotIndex = 0): void {
    this.advanceClock(now);
    assert(this.writesInFlight > 0, 'persisted() without a write in flight');
    this.writesInFlight -= 1;
    this.writesPersisted += 1;
    // An installed snapshot stands for every entry through its index once it is durable.
    if (snapshotIndex > this.persistedIndex && snapshotIndex <= this.log.floorIndex) this.persistedIndex = snapshotIndex;
    if (lastEntry !== null && this.log.termAt(lastEntry.index) === lastEntry.term && lastEntry.index > this.persistedIndex) {
      this.persistedIndex = lastEntry.index;
    }
    if (this.roleValue === 'leader') this.maybeAdvanceCommit();
  }

  receive(now: number, from: NodeId, message: RaftMessage): void {
    this.advanceClock(now);
    if (from === this.id) return;
    switch (message.type) {
      case 'forwardPropose':
        this.handleForwardPropose(from, message);
        return;
      case 'forwardProposeResponse':
        this.handleForwardResponse(from, message);
        return;
      case 'readIndexRequest':
        this.handleReadIndexRequest(from, message);
        return;
      case 'readIndexResponse':
        this.handleReadIndexResponse(from, message);
        return;
      case 'notMember':
        this.handleNotMember(from, message);
        return;
      default:
        this.receiveTermed(from, message);
    }
  }

  takeReady(): Ready | null {
    if (this.roleValue === 'leader') {
      this.startReadRound();
      this.flushAppends();
    }
    this.resolveAwaited();
    this.settleCallsOutsideCluster();
    const needsWrite = this.hardStateDirty || this.leaderPinDirty || this.pendingTruncateFrom !== null || this.unwrittenEntries.length > 0 || this.pendingSnapshotWrite !== null;
    if (!needsWrite && this.messages.length === 0 && this.messagesAfterPersist.length === 0 && this.outcomes.length === 0 && this.reads.length === 0 && this.membershipOutcomes.length === 0 && this.transferOutcomes.length === 0 && this.metrics.length === 0 && this.traceEvents.length === 0) {
      return null;
    }
    const ready: Ready = {
      hardState: this.hardStateDirty ? { term: this.currentTerm, votedFor: this.votedFor } : null,
      leaderForTerm: this.leaderPinDirty && this.pinnedLeader !== null ? { ...this.pinnedLeader } : null,
      truncateFrom: this.pendingTruncateFrom,
      entries: this.unwrittenEntries,
      snapshot: this.pendingSnapshotWrite,
      messages: this.messages,
      messagesAfterPersist: this.messagesAfterPersist,
      outcomes: this.outcomes,
      reads: this.reads,
      membershipChanges: this.membershipOutcomes,
      transfers: this.transferOutcomes,
      metrics: this.metrics,
      trace: this.traceEvents,
    };
    this.hardStateDirty = false;
    this.leaderPinDirty = false;
    this.pendingTruncateFrom = null;
    this.unwrittenEntries = [];
    this.pendingSnapshotWrite = null;
    this.messages = [];
    this.messagesAfterPersist = [];
    this.outcomes = [];
    this.reads = [];
    this.membershipOutcomes = [];
    this.transferOutcomes = [];
    this.metrics = [];
    this.traceEvents = [];
    if (needsWrite) {
      this.writesInFlight += 1;
      if (ready.hardState !== null || ready.leaderForTerm !== null) this.newestHardStateWrite = this.writesPersisted + this.writesInFlight;
    }
    return ready;
  }

  /** Fails every proposal still tracked (the node is closing). */
  failAll(failure: ProposalFailure): ProposalOutcome[] {
    const failed: ProposalOutcome[] = [];
    const ids = new Set<number>(this.forwards.keys());
    for (const proposalId of this.awaited.proposalIds()) ids.add(proposalId);
    for (const proposalId of ids) failed.push({ type: 'failed', proposalId, failure });
    this.forwards.clear();
    this.awaited.clear();
    this.pendingReads.clear();
    this.readTracker.drain();
    return failed;
  }

  // ---- time ---------------------------------------------------------------------------------

  private advanceClock(now: number): void {
    // A clock that jumps backwards would re-arm timers wrongly; treat it as standing still.
    if (now > this.now) this.now = now;
  }

  private randomElectionTimeout(): number {
    const { electionTimeoutMinMs, electionTimeoutMaxMs } = this.config;
    const draw = this.random();
    const fraction = draw >= 0 && draw < 1 ? draw : 0;
    return electionTimeoutMinMs + Math.floor(fraction * (electionTimeoutMaxMs - electionTimeoutMinMs));
  }

  private resetElectionTimer(): void {
    this.electionDeadline = this.now + this.randomElectionTimeout();
  }

  // ---- membership ---------------------------------------------------------------------------

  private isVoter(id: NodeId): boolean {
    return this.membershipValue.allVoters.has(id);
  }

  private latestConfigPayload(): ConfigPayload {
    for (let index = this.log.lastIndex; index > this.log.floorIndex; index -= 1) {
      const config = this.log.entryAt(index)?.config;
      if (config !== undefined) return config;
    }
    return this.snapshotConfig ?? this.bootstrapPayload;
  }

  private adoptMembership(payload: ConfigPayload, index: number): void {
    this.membershipValue = createMembership(payload);
    this.removedByConfig = this.computeRemovedByConfig();
    this.emitTrace({ type: 'configChange', index, joint: payload.old !== null });
    if (this.roleValue === 'learner' && this.isVoter(this.id)) this.roleValue = 'follower';
    if (this.roleValue === 'follower' && !this.isVoter(this.id)) this.roleValue = 'learner';
    if (this.roleValue === 'leader') {
      for (const member of this.membershipValue.members) {
        if (member !== this.id && !this.progress.has(member)) this.progress.set(member, createProgress(this.log.lastIndex + 1, this.now));
      }
      // Removed members keep receiving the log until the config that removes them commits, so
      // they learn of their removal instead of campaigning (see advanceMembershipChange).
    }
  }

  // ---- log writes ---------------------------------------------------------------------------

  private appendToLog(entry: LogEntry): void {
    this.log.append(entry);
    this.unwrittenEntries.push(entry);
    if (entry.config !== undefined) {
      this.configEntryIndex = entry.index;
      this.adoptMembership(entry.config, entry.index);
    }
  }

  private truncateLog(fromIndex: number): void {
    assert(fromIndex > this.commitIndexValue, `truncation at ${fromIndex} would remove committed entries (commit ${this.commitIndexValue})`);
    const hadConfig = this.configEntryIndex >= fromIndex;
    this.log.truncateFrom(fromIndex);
    this.persistedIndex = Math.min(this.persistedIndex, fromIndex - 1);
    // Unwritten entries at or past the cut never reach storage; the rest get truncated there.
    this.unwrittenEntries = this.unwrittenEntries.filter((entry) => entry.index < fromIndex);
    this.pendingTruncateFrom = this.pendingTruncateFrom === null ? fromIndex : Math.min(this.pendingTruncateFrom, fromIndex);
    if (hadConfig) {
      this.configEntryIndex = this.findLatestConfigEntry();
      this.adoptMembership(this.latestConfigPayload(), fromIndex - 1);
    }
  }

  private setTerm(term: number, votedFor: NodeId | null): void {
    if (term === this.currentTerm && votedFor === this.votedFor) return;
    this.currentTerm = term;
    this.votedFor = votedFor;
    this.hardStateDirty = true;
  }

  private pinLeader(leaderId: NodeId): void {
    this.pinnedLeader = { term: this.currentTerm, leaderId };
    this.leaderPinDirty = true;
  }

  // ---- output helpers -----------------------------------------------------------------------

  /** Sends a message that acknowledges local state: it waits for every write before it. */
  private sendAfterPersist(to: NodeId, message: RaftMessage): void {
    const unwritten = this.hardStateDirty || this.leaderPinDirty || this.pendingTruncateFrom !== null || this.unwrittenEntries.length > 0 || this.pendingSnapshotWrite !== null || this.writesInFlight > 0;
    (unwritten ? this.messagesAfterPersist : this.messages).push({ to, message });
  }

  private send(to: NodeId, message: RaftMessage): void {
    this.messages.push({ to, message });
  }

  private pushMetric(metric: RaftMetric): void {
    this.metrics.push(metric);
  }

  private emitTrace(event: DistributiveOmit<RaftTraceEvent, 'node' | 'term' | 'at'>): void {
    if (!this.tracing) return;
    this.traceEvents.push({ ...event, node: this.id, term: this.currentTerm, at: this.now } as RaftTraceEvent);
  }

  private refuse(from: NodeId, reason: RefusalReason, remoteTerm: number): void {
    this.pushMetric({ type: 'frameRefused', from, reason });
    this.emitTrace({ type: 'frameRefused', from, reason });
    this.noteRefusal(from, reason, remoteTerm);
  }

  /** SPEC "Wedge": refusals of frames this node would need, persisting for many timeouts. */
  private noteRefusal(from: NodeId, reason: RefusalReason, remoteTerm: number): void {
    if (!this.wedgeDetector.refused(from, reason, this.now)) return;
    this.pushMetric({ type: 'wedgeSuspected', from, localTerm: this.currentTerm, remoteTerm, voters: [...this.membershipValue.allVoters], gate: reason });
  }

  // ---- term rules and dispatch ----------------------------------------------------------------

  private receiveTermed(from: NodeId, message: Exclude<RaftMessage, ForwardPropose | ForwardProposeResponse | { type: 'readIndexRequest' } | { type: 'readIndexResponse' } | NotMember>): void {
    if (!isValidCounter(message.term)) {
      this.refuse(from, 'outOfRange', 0);
      return;
    }
    if (message.term > this.currentTerm + this.config.maxTermJump) {
      this.refuse(from, 'termJump', message.term);
      return;
    }
    // Answers come only from members we asked; a stranger's "higher term" must not depose us.
    const isResponse = message.type === 'requestVoteResponse' || message.type === 'appendEntriesResponse' || message.type === 'installSnapshotResponse';
    if (isResponse && !this.membershipValue.members.has(from)) {
      this.refuse(from, 'senderNotMember', message.term);
      return;
    }
    switch (message.type) {
      case 'requestVote':
        this.handleRequestVote(from, message);
        return;
      case 'requestVoteResponse':
        this.handleVoteResponse(from, message);
        return;
      case 'appendEntries':
        if (!this.acceptLeaderFrame(from, message.term)) return;
        this.handleAppendEntries(from, message);
        return;
      case 'appendEntriesResponse':
        if (this.stepDownOnHigherTerm(message.term)) return;
        if (message.term === this.currentTerm) this.handleAppendResponse(from, message);
        return;
      case 'timeoutNow':
        this.handleTimeoutNow(from, message);
        return;
      case 'installSnapshot':
        if (!this.acceptLeaderFrame(from, message.term)) return;
        if (message.meta.lastIncludedIndex > maxLogIndex) return this.refuse(from, 'outOfRange', message.term);
        this.handleInstallSnapshot(from, message);
        return;
      case 'installSnapshotResponse':
        if (this.stepDownOnHigherTerm(message.term)) return;
        if (message.term === this.currentTerm) this.handleSnapshotResponse(from, message);
        return;
      default:
        assertUnreachable(message);
    }
  }

  /** Responses carrying a newer term end this node's leadership or candidacy. */
  private stepDownOnHigherTerm(term: number): boolean {
    if (term <= this.currentTerm) return false;
    this.becomeFollower(term, null, 'higherTermObserved');
    return true;
  }

  /**
   * SPEC "Leader authority": a leader frame must come from a voter, be the first leader heard
   * in its term (pinned), and is answered with our term when stale so an old leader steps down.
   * The leader pinned for this very term stays accepted even when the configuration adopted
   * since does not list it: a node catching up appends the leader's older configuration entries
   * one batch at a time, and one that predates the leader's own admission would otherwise make
   * it refuse the rest of the log (a wedge found by the room simulation). The pin was only ever
   * given to a sender that was a voter when first accepted, so no stranger gains anything.
   */
  private acceptLeaderFrame(from: NodeId, term: number): boolean {
    const pinnedForTerm = this.pinnedLeader !== null && this.pinnedLeader.term === term && this.pinnedLeader.leaderId === from;
    if (!this.isVoter(from) && !pinnedForTerm) {
      this.refuse(from, 'senderNotVoter', term);
      return false;
    }
    if (term < this.currentTerm) {
      this.send(from, { type: 'appendEntriesResponse', term: this.currentTerm, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
      return false;
    }
    if (this.pinnedLeader !== null && this.pinnedLeader.term === term && this.pinnedLeader.leaderId !== from) {
      this.refuse(from, 'leaderNotPinned', term);
      return false;
    }
    if (term > this.currentTerm) {
      this.becomeFollower(term, from, 'higherTermObserved');
    } else if (this.roleValue !== 'follower' && this.roleValue !== 'learner') {
      assert(this.roleValue !== 'leader', `two leaders in term ${term}: ${this.id} and ${from}`);
      this.becomeFollower(term, from, 'appendEntriesFromLeader');
    } else if (this.preCandidate || this.leaderId !== from) {
      this.becomeFollower(term, from, 'appendEntriesFromLeader');
    }
    if (this.pinnedLeader === null || this.pinnedLeader.term !== term) this.pinLeader(from);
    this.wedgeDetector.accepted(from);
    // A leader replicates only to members: whatever a notice said, this node is one again, and a
    // later removal is news again.
    this.removalNotice = null;
    this.reportedOutside = false;
    this.lastLeaderContact = this.now;
    this.resetElectionTimer();
    return true;
  }

  // ---- roles --------------------------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void {
    const wasLeader = this.roleValue === 'leader';
    this.setTerm(term, term === this.currentTerm ? this.votedFor : null);
    this.roleValue = this.isVoter(this.id) ? 'follower' : 'learner';
    this.preCandidate = false;
    this.leaderId = leader;
    this.votes.clear();
    this.progress.clear();
    if (wasLeader) {
      this.failLocalProposals();
      this.handBackReads();
      if (this.membershipChange !== null) this.membershipOutcomes.push({ changeId: this.membershipChange.changeId, failure: 'leadershipLost' });
      this.membershipChange = null;
      // Never appended: nothing of it can commit, so the caller learns who leads now.
      if (this.heldMembershipChange !== null) this.membershipOutcomes.push({ changeId: this.heldMembershipChange.changeId, failure: 'notLeader' });
      this.heldMembershipChange = null;
      if (this.transfer !== null) this.transfer.awaitingNewLeader = true;
    }
    if (this.transfer !== null && this.transfer.awaitingNewLeader && leader !== null) {
      const failure = leader === this.transfer.target ? null : 'leadershipLost';
      for (const transferId of this.transfer.transferIds) this.transferOutcomes.push({ transferId, failure });
      if (leader !== this.transfer.target) this.emitTrace({ type: 'leadershipTransferAbandoned', target: this.transfer.target, reason: 'leadershipLost' });
      this.transfer = null;
    }
    this.resetElectionTimer();
    this.emitTrace({ type: 'becomeFollower', reason, leader });
    if (leader !== null) this.retryForwards();
  }

  private failLocalProposals(): void {
    for (const item of this.awaited.removeLocal()) this.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
  }

  private startPreVote(): void {
    if (!this.isVoter(this.id) && !this.mayCampaignAsOutgoingVoter()) return;
    if (this.currentTerm + 1 > Number.MAX_SAFE_INTEGER) {
      this.pushMetric({ type: 'electionSuppressedTermCeiling', term: this.currentTerm });
      this.resetElectionTimer();
      return;
    }
    this.preCandidate = true;
    this.leaderId = null;
    this.votes.clear();
    this.votes.set(this.id, true);
    this.resetElectionTimer();
    this.emitTrace({ type: 'preVoteStarted' });
    if (hasQuorum(this.membershipValue, (id) => this.votes.get(id) === true)) {
      this.startElection(false);
      return;
    }
    const request: RequestVote = { type: 'requestVote', term: this.currentTerm + 1, lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm, preVote: true, transfer: false };
    for (const voter of this.membershipValue.allVoters) if (voter !== this.id) this.send(voter, request);
  }

  private startElection(transfer: boolean): void {
    this.preCandidate = false;
    this.roleValue = 'candidate';
    this.leaderId = null;
    this.setTerm(this.currentTerm + 1, this.id);
    this.votes.clear();
    this.votes.set(this.id, true);
    this.electionStartedAt = this.now;
    this.resetElectionTimer();
    this.pushMetric({ type: 'electionStarted', term: this.currentTerm });
    this.emitTrace({ type: 'requestVote', transfer });
    if (hasQuorum(this.membershipValue, (id) => this.votes.get(id) === true)) {
      this.becomeLeader();
      return;
    }
    const request: RequestVote = { type: 'requestVote', term: this.currentTerm, lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm, preVote: false, transfer };
    for (const voter of this.membershipValue.allVoters) if (voter !== this.id) this.sendAfterPersist(voter, request);
  }

  private becomeLeader(): void {
    this.roleValue = 'leader';
    this.preCandidate = false;
    this.removalNotice = null;
    this.leaderId = this.id;
    this.pinLeader(this.id);
    this.progress.clear();
    for (const member of this.membershipValue.members) {
      if (member !== this.id) this.progress.set(member, createProgress(this.log.lastIndex + 1, this.now));
    }
    this.pushMetric({ type: 'electionWon', term: this.currentTerm, elapsedMs: this.now - this.electionStartedAt });
    this.emitTrace({ type: 'becomeLeader' });
    this.rememberInheritedDedupKeys();
    // §5.4.2: a no-op of the new term lets earlier-term entries commit and reads proceed.
    this.appendAsLeader(new Uint8Array(0), null, true);
    this.adoptForwardsAsLeader();
    this.readTracker = new ReadIndexTracker();
    for (const read of this.pendingReads.values()) this.readTracker.enqueue({ type: 'local', readId: read.readId });
    this.pendingReads.clear();
    this.heartbeatDeadline = this.now + this.config.heartbeatIntervalMs;
    for (const peer of this.progress.keys()) this.sendAppend(peer);
  }

  /**
   * A new leader's log can hold an entry an earlier leader appended for a proposal whose answer
   * never reached its proposer (the answer lost, or the leader gone first). The proposal is then
   * retried under its dedup key: the proposer's forward to us, our own pending forward adopted
   * below, or the application re-proposing a durable request id after LeadershipLostError. The
   * entry is ours for good (a leader never changes its own log) and commits with our no-op, so
   * the retry waits on it: appended again, the command would commit twice, the session table
   * would skip the copy, and the proposer's acknowledgement would name the skipped copy. The
   * newest keyed entries are remembered, up to the cache's size (a bounded scan, once a term).
   */
  private rememberInheritedDedupKeys(): void {
    const first = Math.max(this.log.floorIndex + 1, this.log.lastIndex - leaderDedupCacheSize + 1);
    for (let index = first; index <= this.log.lastIndex; index += 1) {
      const entry = this.log.entryAt(index);
      if (entry?.dedupKey !== undefined) this.rememberDedup(entry.dedupKey, entry);
    }
  }

  /** The entry this leader's log holds for a retried request, if its dedup cache remembers one (appended or inherited). */
  private cachedEntryFor(dedupKey: DedupKey | null): CachedAppend | null {
    if (dedupKey === null) return null;
    const cached = this.leaderDedupCache.get(dedupKey);
    return cached !== undefined && this.log.termAt(cached.index) === cached.term ? cached : null;
  }

  /**
   * An application whose call timed out may propose the same request again while this node still
   * leads. Remembering every own proposal in the dedup cache cost about a microsecond each on the
   * hot path; instead the highest request id appended per client is kept (one map write), and
   * only a request at or below it (a retry, or a caller numbering its requests out of order)
   * looks back through the newest entries of the log for its key. Entries of our own log with the
   * same key and a term we find there are the request's own (keys are unique).
   */
  private retriedLocalEntry(dedupKey: DedupKey | null): CachedAppend | null {
    if (dedupKey === null) return null;
    const highWater = this.localRequestHighWater.get(dedupKey.clientId);
    if (highWater === undefined || dedupKey.requestId > highWater) return null;
    const last = Math.max(this.log.floorIndex + 1, this.log.lastIndex - localRetryScanEntries + 1);
    for (let index = this.log.lastIndex; index >= last; index -= 1) {
      const entry = this.log.entryAt(index);
      if (entry !== undefined && carriesKey(entry, dedupKey)) return { index, term: entry.term };
    }
    return null;
  }

  private noteLocalRequest(dedupKey: DedupKey): void {
    const highWater = this.localRequestHighWater.get(dedupKey.clientId);
    if (highWater !== undefined && highWater >= dedupKey.requestId) return;
    // Bounded: forgetting only sends a rare retry down the append path, as before.
    if (highWater === undefined && this.localRequestHighWater.size >= maxLocalClients) this.localRequestHighWater.clear();
    this.localRequestHighWater.set(dedupKey.clientId, dedupKey.requestId);
  }

  /** Waits on an entry already in the log; one at or below the applicable index settles at once. */
  private awaitExisting(index: number, item: AwaitedProposal): void {
    this.awaited.add(index, item);
    if (index <= this.awaited.scannedThrough) this.checkAwaitedAt(index);
  }

  private appendAsLeader(command: Uint8Array, dedupKey: DedupKey | null, isNoOp = false): LogEntry {
    const index = this.log.lastIndex + 1;
    const term = this.currentTerm;
    const entry: LogEntry = dedupKey === null ? { index, term, command, isNoOp } : { index, term, command, isNoOp, dedupKey };
    this.appendToLog(entry);
    this.emitTrace({ type: 'clientRequest', index: entry.index });
    return entry;
  }

  private admissionFailure(): ProposalFailure | null {
    const uncommitted = this.log.lastIndex - this.commitIndexValue;
    // At the index ceiling (reached only through a hostile peer's snapshot): see maxLogIndex.
    return uncommitted >= this.config.maxPendingProposals || this.log.lastIndex >= maxLogIndex ? 'overloaded' : null;
  }

  // ---- elections ----------------------------------------------------------------------------

  private handleRequestVote(from: NodeId, request: RequestVote): void {
    const deny = (reason: VoteDenialReason): void => {
      this.emitTrace({ type: 'voteDenied', to: from, preVote: request.preVote, reason });
      this.sendAfterPersist(from, { type: 'requestVoteResponse', term: this.currentTerm, preVote: request.preVote, granted: false, denialReason: reason });
    };
    // Only voters of our configuration may campaign: a stranger cannot inflate our term.
    if (!this.isVoter(from)) {
      if (!this.membershipValue.members.has(from)) this.tellNotMember(from);
      return this.refuse(from, 'senderNotVoter', request.term);
    }
    if (request.term < this.currentTerm) return deny('staleTerm');
    const leaderAlive = !request.transfer && (this.roleValue === 'leader' || (this.leaderId !== null && this.now - this.lastLeaderContact < this.config.electionTimeoutMinMs));
    if (request.term > this.currentTerm && leaderAlive) return deny('leaderAlive');
    if (!request.preVote && request.term > this.currentTerm) this.becomeFollower(request.term, null, 'higherTermObserved');
    const canVote = request.preVote
      ? request.term > this.currentTerm || this.votedFor === from || (this.votedFor === null && this.leaderId === null)
      : this.votedFor === from || (this.votedFor === null && this.leaderId === null);
    if (!canVote) return deny('alreadyVoted');
    const upToDate = request.lastLogTerm > this.log.lastTerm || (request.lastLogTerm === this.log.lastTerm && request.lastLogIndex >= this.log.lastIndex);
    if (!upToDate) return deny('logNotUpToDate');
    if (!request.preVote) {
      this.setTerm(this.currentTerm, from);
      this.resetElectionTimer();
    }
    this.emitTrace({ type: 'voteGranted', to: from, preVote: request.preVote });
    this.sendAfterPersist(from, { type: 'requestVoteResponse', term: request.term, preVote: request.preVote, granted: true, denialReason: null });
  }

  private handleVoteResponse(from: NodeId, response: RequestVoteResponse): void {
    if (response.preVote) {
      if (!response.granted && this.stepDownOnHigherTerm(response.term)) return;
      if (!this.preCandidate || !this.isVoter(from)) return;
      if (response.granted && response.term !== this.currentTerm + 1) return;
      this.recordVote(from, response, () => this.startElection(false));
      return;
    }
    if (this.stepDownOnHigherTerm(response.term)) return;
    // A candidate whose election timed out is pre-voting for the next term, and `votes` holds
    // pre-votes now: a late vote of the old term must not be counted with them. It was, and a
    // node led a term with one real vote and two pre-votes while another won it (seed 10015).
    if (this.roleValue !== 'candidate' || this.preCandidate || response.term !== this.currentTerm || !this.isVoter(from)) return;
    this.recordVote(from, response, () => this.becomeLeader());
  }

  private recordVote(from: NodeId, response: RequestVoteResponse, onWin: () => void): void {
    if (response.granted && response.preVote) this.emitTrace({ type: 'preVoteGranted', from });
    else if (!response.granted && response.preVote) this.emitTrace({ type: 'preVoteDenied', from, reason: response.denialReason ?? 'unknown' });
    this.votes.set(from, response.granted);
    if (hasQuorum(this.membershipValue, (id) => this.votes.get(id) === true)) {
      onWin();
    } else if (quorumImpossible(this.membershipValue, (id) => this.votes.get(id) === false)) {
      this.becomeFollower(this.currentTerm, null, 'electionLost');
    }
  }

  private handleTimeoutNow(from: NodeId, message: TimeoutNow): void {
    if (message.term > this.currentTerm) {
      this.refuse(from, 'timeoutNowTermAhead', message.term);
      return;
    }
    const pinned = this.pinnedLeader;
    if (message.term < this.currentTerm || pinned === null || pinned.term !== this.currentTerm || pinned.leaderId !== from || !this.isVoter(this.id)) {
      this.refuse(from, 'timeoutNowNotFromLeader', message.term);
      return;
    }
    if (this.config.witness) {
      this.refuse(from, 'timeoutNowToWitness', message.term);
      return;
    }
    this.startElection(true);
  }

  // ---- replication: follower side -----------------------------------------------------------

  private handleAppendEntries(from: NodeId, message: AppendEntries): void {
    const refusal = appendBatchRefusal(message);
    if (refusal !== null) {
      this.refuse(from, refusal, message.term);
      return;
    }
    const reply = (response: Omit<AppendEntriesResponse, 'type' | 'term' | 'readRound'>): void => {
      this.sendAfterPersist(from, { type: 'appendEntriesResponse', term: this.currentTerm, readRound: message.readRound, ...response });
    };
    let prevIndex = message.prevLogIndex;
    let entries = message.entries;
    // Entries at or below our commit index are already known to match: skip past them.
    if (prevIndex < this.commitIndexValue) {
      const skip = Math.min(entries.length, this.commitIndexValue - prevIndex);
      entries = entries.slice(skip);
      prevIndex += skip;
      if (prevIndex < this.commitIndexValue) {
        // Everything it carries is committed here. What is also on disk can be vouched for at
        // once (see answerAtOnce); the rest waits for the writes in flight.
        const durable = Math.min(this.commitIndexValue, this.persistedIndex);
        if (durable >= prevIndex && this.answerAtOnce(from, message, durable)) return;
        reply({ success: true, matchIndex: this.commitIndexValue, conflictIndex: 0, conflictTerm: 0 });
        return;
      }
    }
    const localPrevTerm = this.log.termAt(prevIndex);
    const expectedPrevTerm = prevIndex === message.prevLogIndex ? message.prevLogTerm : entryTermAt(message, prevIndex);
    if (localPrevTerm !== expectedPrevTerm) {
      this.emitTrace({ type: 'appendEntriesRejected', from, conflictIndex: prevIndex });
      reply(this.conflictHint(prevIndex));
      return;
    }
    for (const entry of entries) {
      const localTerm = this.log.termAt(entry.index);
      if (localTerm === entry.term) continue;
      if (localTerm !== undefined) this.truncateLog(entry.index);
      this.appendToLog(entry);
    }
    const lastNewIndex = prevIndex + entries.length;
    const newCommit = Math.min(message.leaderCommit, lastNewIndex);
    if (newCommit > this.commitIndexValue) {
      this.commitIndexValue = newCommit;
      this.emitTrace({ type: 'advanceCommitIndex', commitIndex: newCommit });
    }
    this.emitTrace({ type: 'appendEntriesAccepted', from, matchIndex: lastNewIndex });
    if (entries.length === 0 && lastNewIndex <= this.persistedIndex && this.answerAtOnce(from, message, lastNewIndex)) return;
    reply({ success: true, matchIndex: lastNewIndex, conflictIndex: 0, conflictTerm: 0 });
  }

  /**
   * A heartbeat that vouches only for entries already on disk is answered at once, not after the
   * writes in flight: CheckQuorum counts these answers, and while a slow disk held them back
   * (strict IndexedDB under load takes 100 ms and more per write) leaders stepped down. Not while
   * the term, the vote or the leader pin are still to be written: an answer speaks for those too.
   */
  private answerAtOnce(to: NodeId, message: AppendEntries, matchIndex: number): boolean {
    if (this.hardStateDirty || this.leaderPinDirty || this.newestHardStateWrite > this.writesPersisted) return false;
    this.send(to, { type: 'appendEntriesResponse', term: this.currentTerm, readRound: message.readRound, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 });
    return true;
  }

  private conflictHint(prevIndex: number): { success: false; matchIndex: number; conflictIndex: number; conflictTerm: number } {
    if (prevIndex > this.log.lastIndex) {
      return { success: false, matchIndex: 0, conflictIndex: this.log.lastIndex + 1, conflictTerm: 0 };
    }
    const conflictTerm = this.log.termAt(prevIndex) ?? 0;
    const firstOfTerm = Math.max(this.log.firstIndexOfTerm(conflictTerm, prevIndex), this.commitIndexValue + 1);
    return { success: false, matchIndex: 0, conflictIndex: firstOfTerm, conflictTerm };
  }

  // ---- replication: leader side -------------------------------------------------------------

  private handleAppendResponse(from: NodeId, response: AppendEntriesResponse): void {
    if (this.roleValue !== 'leader') return;
    const progress = this.progress.get(from);
    if (progress === undefined) {
      this.refuse(from, 'unexpectedResponse', response.term);
      return;
    }
    progress.lastResponseAt = this.now;
    if (response.readRound > 0) this.acknowledgeReadRound(from, response.readRound);
    if (response.success) {
      // A hint is a quantity, not trusted: never beyond what we have sent.
      const matchIndex = Math.min(response.matchIndex, this.log.lastIndex);
      // Only an answer at or past the probe's prevLogIndex answers the probe: a heartbeat's
      // answer (sent alongside probes, below) proves the match only at the index it named.
      if (progress.state === 'probe' && matchIndex < progress.nextIndex - 1) {
        if (matchIndex > progress.matchIndex) progress.matchIndex = matchIndex;
        return;
      }
      progress.probeOutstanding = false;
      if (matchIndex > progress.matchIndex) {
        progress.matchIndex = matchIndex;
        progress.lastProgressAt = this.now;
        releaseInflight(progress, matchIndex);
        this.maybeAdvanceCommit();
      }
      if (progress.nextIndex <= progress.matchIndex) progress.nextIndex = progress.matchIndex + 1;
      if (progress.state === 'snapshot' && progress.matchIndex >= progress.snapshotIndex) becomeProbe(progress);
      if (progress.state === 'probe') {
        progress.state = 'replicate';
        progress.inflightLastIndices = [];
      }
      this.sendAppend(from);
      if (this.transfer?.target === from) this.advanceTransfer();
      return;
    }
    // Heartbeats during a snapshot transfer are refused by a follower that lacks the prefix.
    if (progress.state === 'snapshot') return;
    this.emitTrace({ type: 'appendEntriesRejected', from, conflictIndex: response.conflictIndex });
    let nextIndex = response.conflictIndex;
    if (response.conflictTerm > 0) {
      const lastOfTerm = this.log.lastIndexOfTerm(response.conflictTerm);
      if (lastOfTerm > 0) nextIndex = lastOfTerm + 1;
    }
    const probeFrom = Math.max(progress.matchIndex + 1, Math.min(nextIndex, this.log.lastIndex + 1));
    // A rejection at or below what the follower acknowledged is stale (reordered), or comes from a
    // follower that lost its log (a node restarted on storage that kept nothing, or a hostile
    // one): a probe from the same point finds nothing new, and such a follower rejects every
    // probe and heartbeat alike, so probing again at once was a storm (about 5,000 frames a second
    // each way in a browser test). The outstanding probe is sent again on the heartbeat's pace.
    if (nextIndex <= progress.matchIndex && progress.state === 'probe' && progress.nextIndex === probeFrom) return;
    becomeProbe(progress);
    progress.nextIndex = probeFrom;
    this.sendAppend(from);
  }

  private maybeAdvanceCommit(): void {
    const candidate = quorumValue(this.membershipValue, (id) => (id === this.id ? this.persistedIndex : (this.progress.get(id)?.matchIndex ?? 0)));
    // Figure 8: only an entry of the leader's own term commits by counting replicas.
    if (candidate > this.commitIndexValue && this.log.termAt(candidate) === this.currentTerm) {
      this.commitIndexValue = candidate;
      this.commitAdvanced = true;
      this.emitTrace({ type: 'advanceCommitIndex', commitIndex: candidate });
      this.startReadRound();
      this.advanceMembershipChange();
    }
  }

  /** Sends what the follower's progress allows: one probe, or a window of pipelined batches. */
  private sendAppend(peer: NodeId): void {
    const progress = this.progress.get(peer);
    if (progress === undefined) return;
    if (progress.state !== 'snapshot' && progress.nextIndex <= this.log.floorIndex) this.beginSnapshotTransfer(progress);
    if (progress.state === 'snapshot') {
      this.sendSnapshotChunks(peer, progress);
      return;
    }
    if (progress.state === 'probe') {
      if (progress.probeOutstanding && this.now - progress.probeSentAt < this.config.heartbeatIntervalMs) return;
      progress.probeOutstanding = true;
      progress.probeSentAt = this.now;
      // Small: a probe only finds the match point, and it is re-sent every heartbeat until
      // answered; a full-size one re-sent to a slow follower clogged the link it waited on.
      this.sendBatch(peer, progress, Math.min(this.replicationBatchBytes, probeAppendBytes));
      return;
    }
    while (progress.inflightLastIndices.length < this.config.maxInflightMessages && progress.nextIndex <= this.log.lastIndex) {
      const lastSent = this.sendBatch(peer, progress);
      // The stall clock starts when the window goes from empty to busy, not at the last progress.
      if (progress.inflightLastIndices.length === 0) progress.lastProgressAt = this.now;
      progress.inflightLastIndices.push(lastSent);
      progress.nextIndex = lastSent + 1;
    }
  }

  /** One AppendEntries from progress.nextIndex, bounded in bytes; returns the last index sent. */
  private sendBatch(peer: NodeId, progress: FollowerProgress, maxBytes = this.replicationBatchBytes): number {
    const prevLogIndex = progress.nextIndex - 1;
    const prevLogTerm = this.log.termAt(prevLogIndex);
    assert(prevLogTerm !== undefined, `no term for index ${prevLogIndex} (snapshot transfer needed for ${peer})`);
    let bytes = frameOverheadBytes;
    let lastIndex = prevLogIndex;
    while (lastIndex < this.log.lastIndex && lastIndex - prevLogIndex < maxEntriesPerAppend) {
      const entry = this.log.entryAt(lastIndex + 1) as LogEntry;
      const size = encodedSizeBound(entry);
      if (lastIndex > prevLogIndex && bytes + size > maxBytes) break;
      bytes += size;
      lastIndex += 1;
    }
    const entries = lastIndex > prevLogIndex ? this.log.slice(prevLogIndex + 1, lastIndex) : [];
    this.send(peer, { type: 'appendEntries', term: this.currentTerm, prevLogIndex, prevLogTerm, entries, leaderCommit: this.commitIndexValue, readRound: this.readTracker.currentRound });
    progress.sentThisRound = true;
    this.emitTrace({ type: 'appendEntries', to: peer, prevLogIndex, count: entries.length });
    return lastIndex;
  }

  private sendHeartbeat(peer: NodeId, progress: FollowerProgress): void {
    const prevLogIndex = Math.max(progress.matchIndex, this.log.floorIndex);
    const prevLogTerm = this.log.termAt(prevLogIndex) ?? 0;
    this.send(peer, { type: 'appendEntries', term: this.currentTerm, prevLogIndex, prevLogTerm, entries: [], leaderCommit: this.commitIndexValue, readRound: this.readTracker.currentRound });
    progress.sentThisRound = true;
  }

  private leaderHeartbeat(): void {
    this.heartbeatDeadline = this.now + this.config.heartbeatIntervalMs;
    if (this.checkQuorumLost()) return;
    for (const [peer, progress] of this.progress) {
      // In-flight entries that made no progress for an election timeout were lost: probe again.
      // (Answers to heartbeats keep arriving meanwhile, so "any answer" would hide the loss
      // forever.) Not sooner: a busy follower's honest answer can take several heartbeats (its
      // strict write waits behind others), and every false alarm re-sent the whole window.
      if (progress.state === 'replicate' && progress.inflightLastIndices.length > 0 && this.now - progress.lastProgressAt >= this.config.electionTimeoutMaxMs) {
        becomeProbe(progress);
        progress.lastProgressAt = this.now;
      }
      resendStalledSnapshot(progress, this.now, this.snapshotStallBounds);
      // A probing follower gets a heartbeat too: its answer does not wait for the follower's
      // writes in flight (the probe's does), so a follower with a slow disk still counts for
      // CheckQuorum instead of deposing the leader.
      if (progress.state === 'probe') this.sendAppend(peer);
      this.sendHeartbeat(peer, progress);
      if (progress.state === 'snapshot') this.sendSnapshotChunks(peer, progress);
    }
  }

  /** CheckQuorum: a leader that has not heard from a quorum for an election timeout steps down. */
  private checkQuorumLost(): boolean {
    const lastHeard = quorumValue(this.membershipValue, (id) => (id === this.id ? this.now : (this.progress.get(id)?.lastResponseAt ?? Number.NEGATIVE_INFINITY)));
    if (this.now - lastHeard < this.config.electionTimeoutMaxMs) return false;
    this.becomeFollower(this.currentTerm, null, 'lostQuorum');
    return true;
  }

  /** Batches proposals made since the last ready into AppendEntries, and spreads commit news. */
  private flushAppends(): void {
    for (const [peer, progress] of this.progress) {
      if (progress.state === 'replicate') this.sendAppend(peer);
      if (this.commitAdvanced && !progress.sentThisRound && progress.state === 'replicate') this.sendHeartbeat(peer, progress);
      progress.sentThisRound = false;
    }
    this.commitAdvanced = false;
  }

  // ---- snapshots and compaction (§7) ------------------------------------------------------

  /**
   * The application's state through `throughIndex`: store it and compact the log behind it.
   * False when it is not newer than the snapshot or the floor this node has (nothing changes).
   */
  publishSnapshot(now: number, throughIndex: number, state: Uint8Array): boolean {
    this.advanceClock(now);
    assert(throughIndex <= this.applicableIndex, `snapshot through ${throughIndex} is beyond the applied index ${this.applicableIndex}`);
    if (this.snapshot !== null && throughIndex <= this.snapshot.meta.lastIncludedIndex) return false;
    if (throughIndex <= this.log.floorIndex) return false;
    const term = this.log.termAt(throughIndex) as number;
    const meta: SnapshotMeta = { lastIncludedIndex: throughIndex, lastIncludedTerm: term, config: this.configAt(throughIndex) };
    this.snapshot = { meta, state };
    const compactThrough = Math.max(this.log.floorIndex, Math.min(throughIndex - this.config.snapshotTrailingEntries, this.lowestPendingForwardFloor()));
    this.pendingSnapshotWrite = { meta, state, discardLogThrough: compactThrough };
    this.compactLog(compactThrough);
    return true;
  }

  /**
   * How far the log may be compacted without losing an entry a pending forward must be checked
   * against. The leader's answer (appended at index i, term t) can arrive after entry i was
   * applied, and then the entry must still be in the log: without it the proposal's fate is
   * unknown. Forwards settle within a round trip, so this holds compaction back only briefly.
   */
  private lowestPendingForwardFloor(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const forward of this.forwards.values()) lowest = Math.min(lowest, forward.committedBefore);
    return lowest;
  }

  /** The configuration in force at `index`: the latest config entry at or before it. */
  private configAt(index: number): ConfigPayload {
    for (let cursor = Math.min(index, this.log.lastIndex); cursor > this.log.floorIndex; cursor -= 1) {
      const config = this.log.entryAt(cursor)?.config;
      if (config !== undefined) return config;
    }
    return this.snapshotConfig ?? this.bootstrapPayload;
  }

  private compactLog(throughIndex: number): void {
    if (throughIndex <= this.log.floorIndex) return;
    this.snapshotConfig = this.configAt(throughIndex);
    this.log.compactThrough(throughIndex, this.log.termAt(throughIndex) as number);
    this.emitTrace({ type: 'compacted', throughIndex });
  }

  private beginSnapshotTransfer(progress: FollowerProgress): void {
    assert(this.snapshot !== null, 'a follower needs entries below the floor but no snapshot exists');
    beginSnapshotStream(progress, this.snapshot.meta.lastIncludedIndex, this.now);
  }

  /** The earliest pacing deadline of the snapshot streams that wait only for it. */
  private pacedSnapshotDeadline(): number {
    if (this.snapshot === null) return Number.POSITIVE_INFINITY;
    let deadline = Number.POSITIVE_INFINITY;
    for (const progress of this.progress.values()) deadline = Math.min(deadline, snapshotChunkDueAt(progress, this.snapshot.state.length, this.snapshotPace));
    return deadline;
  }

  private sendPacedSnapshotChunks(): void {
    if (this.snapshot === null) return;
    for (const [peer, progress] of this.progress) {
      if (snapshotChunkDueAt(progress, this.snapshot.state.length, this.snapshotPace) <= this.now) this.sendSnapshotChunks(peer, progress);
    }
  }

  /** Sends what the follower's snapshot window and pacing allow. */
  private sendSnapshotChunks(peer: NodeId, progress: FollowerProgress): void {
    const snapshot = this.snapshot;
    if (snapshot === null) return;
    if (snapshot.meta.lastIncludedIndex !== progress.snapshotIndex) this.beginSnapshotTransfer(progress);
    for (const chunk of nextSnapshotChunks(progress, snapshot.state.length, this.snapshotPace, this.now)) {
      this.sendSnapshotChunk(peer, snapshot, chunk.offset, snapshot.state.subarray(chunk.offset, chunk.offset + chunk.length));
    }
  }

  private sendSnapshotChunk(peer: NodeId, snapshot: { meta: SnapshotMeta; state: Uint8Array }, offset: number, data: Uint8Array): void {
    if (offset === 0) this.emitTrace({ type: 'installSnapshot', to: peer, lastIncludedIndex: snapshot.meta.lastIncludedIndex });
    this.send(peer, { type: 'installSnapshot', term: this.currentTerm, meta: snapshot.meta, totalBytes: snapshot.state.length, offset, data });
  }

  private handleSnapshotResponse(from: NodeId, response: InstallSnapshotResponse): void {
    const progress = this.progress.get(from);
    if (this.roleValue !== 'leader' || progress === undefined) return;
    progress.lastResponseAt = this.now;
    if (progress.state !== 'snapshot' || response.lastIncludedIndex !== progress.snapshotIndex) return;
    if (response.installed) {
      progress.matchIndex = Math.max(progress.matchIndex, Math.min(response.lastIncludedIndex, this.log.lastIndex));
      becomeProbe(progress);
      this.maybeAdvanceCommit();
      this.sendAppend(from);
      return;
    }
    acknowledgeSnapshotOffset(progress, response.nextOffset, this.now, this.config.heartbeatIntervalMs, this.snapshotStallBounds);
    this.sendSnapshotChunks(from, progress);
  }

  private handleInstallSnapshot(from: NodeId, message: InstallSnapshot): void {
    const respond = (nextOffset: number, installed: boolean): void => {
      const response: InstallSnapshotResponse = { type: 'installSnapshotResponse', term: this.currentTerm, lastIncludedIndex: message.meta.lastIncludedIndex, nextOffset, installed };
      if (installed) this.sendAfterPersist(from, response);
      else this.send(from, response);
    };
    if (message.meta.lastIncludedIndex <= this.commitIndexValue) {
      respond(message.totalBytes, true); // already have everything it covers
      return;
    }
    const verdict = acceptChunk(this.reassembly, message, this.config.snapshotTotalCeilingBytes);
    switch (verdict.type) {
      case 'tooLarge':
        this.pushMetric({ type: 'snapshotRejectedSizeCeiling', from, totalBytes: message.totalBytes });
        this.refuse(from, 'outOfRange', message.term);
        return;
      case 'invalidMeta':
        this.refuse(from, 'outOfRange', message.term);
        return;
      case 'stale':
        return; // the leader no longer streams it: an answer would be dropped there
      case 'progress':
        this.reassembly = verdict.reassembly;
        respond(verdict.reassembly.received, false);
        return;
      case 'complete':
        this.reassembly = null;
        this.installSnapshot(message.meta, verdict.state);
        respond(message.totalBytes, true);
        return;
      default:
        assertUnreachable(verdict);
    }
  }

  /** Atomically: storage (snapshot, then the log after it), then the install instruction. */
  private installSnapshot(meta: SnapshotMeta, state: Uint8Array): void {
    const index = meta.lastIncludedIndex;
    if (this.log.termAt(index) !== meta.lastIncludedTerm && this.log.lastIndex > this.commitIndexValue) {
      this.truncateLog(this.commitIndexValue + 1);
    }
    this.log.compactThrough(index, meta.lastIncludedTerm);
    this.snapshotConfig = meta.config ?? this.snapshotConfig;
    this.snapshot = { meta, state };
    this.unwrittenEntries = this.unwrittenEntries.filter((entry) => entry.index > index);
    this.pendingSnapshotWrite = { meta, state, discardLogThrough: index };
    if (index > this.commitIndexValue) this.commitIndexValue = index;
    this.adoptMembership(this.latestConfigPayload(), index);
    this.emitTrace({ type: 'installSnapshotAccepted', lastIncludedIndex: index });
  }

  // ---- membership (§6) and leadership transfer (§3.10) --------------------------------------

  /** Index of the latest config entry in the log, or the floor when the config predates it. */
  /**
   * Whether this node, which the latest configuration in its log leaves out as a voter, may still
   * campaign: only while that configuration is uncommitted and it was a voter of the one before.
   * Seed 90198 (5 nodes): C_new reached only the two voters it demoted to learners before the
   * leader fell. Their logs, the most up to date, refused every other candidate, and they, as
   * learners, never campaigned, so no leader was ever elected again. Such a node campaigns for
   * the votes of the latest configuration, whose majority every rival needs as well (Election
   * Safety holds); it leads only until C_new commits, then steps down (advanceMembershipChange).
   */
  private mayCampaignAsOutgoingVoter(): boolean {
    const configIndex = this.latestConfigIndex();
    if (configIndex <= this.commitIndexValue || configIndex <= this.log.floorIndex) return false;
    return createMembership(this.configBefore(configIndex)).allVoters.has(this.id);
  }

  /** The configuration in effect just before the config entry at `index`. */
  private configBefore(index: number): ConfigPayload {
    for (let earlier = index - 1; earlier > this.log.floorIndex; earlier -= 1) {
      const config = this.log.entryAt(earlier)?.config;
      if (config !== undefined) return config;
    }
    return this.snapshotConfig ?? this.bootstrapPayload;
  }

  private latestConfigIndex(): number {
    return Math.max(this.configEntryIndex, this.log.floorIndex);
  }

  private findLatestConfigEntry(): number {
    for (let index = this.log.lastIndex; index > this.log.floorIndex; index -= 1) {
      if (this.log.entryAt(index)?.config !== undefined) return index;
    }
    return 0;
  }

  private appendConfig(payload: ConfigPayload): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex + 1, term: this.currentTerm, command: new Uint8Array(0), isNoOp: false, config: payload };
    this.appendToLog(entry);
    this.emitTrace({ type: 'clientRequest', index: entry.index });
    return entry;
  }

  /** Runs on every commit advance of a leader: leaves a committed joint config, finishes changes. */
  private advanceMembershipChange(): void {
    if (this.roleValue !== 'leader') return;
    const configIndex = this.latestConfigIndex();
    if (configIndex > this.commitIndexValue) return;
    const payload = this.membershipValue.payload;
    if (payload.old !== null) {
      // C_old,new committed (by us or a previous leader): now C_new alone. Not while handing
      // leadership over: an entry appended once TimeoutNow is out leaves the target's log behind
      // ours, so the voters deny it the election the transfer asked for (logNotUpToDate). The
      // target leaves the joint configuration itself once it leads; an abandoned transfer
      // resumes it here.
      if (this.transfer !== null) return;
      const entry = this.appendConfig({ old: null, new: payload.new });
      if (this.membershipChange !== null) this.membershipChange.awaitingIndex = entry.index;
      return;
    }
    for (const peer of [...this.progress.keys()]) if (!this.membershipValue.members.has(peer)) this.progress.delete(peer);
    const change = this.membershipChange;
    if (change !== null && configIndex >= change.awaitingIndex) {
      this.membershipOutcomes.push({ changeId: change.changeId, failure: null });
      this.membershipChange = null;
    }
    if (!this.isVoter(this.id)) this.becomeFollower(this.currentTerm, null, 'removedFromConfig');
  }

  /** Sends TimeoutNow once the target's log matches ours. */
  private advanceTransfer(): void {
    const transfer = this.transfer;
    if (transfer === null || this.roleValue !== 'leader' || transfer.timeoutSent) return;
    const progress = this.progress.get(transfer.target);
    if (progress === undefined) {
      this.abandonTransfer('notVoter');
      return;
    }
    if (progress.matchIndex < this.log.lastIndex) {
      this.sendAppend(transfer.target);
      return;
    }
    transfer.timeoutSent = true;
    this.send(transfer.target, { type: 'timeoutNow', term: this.currentTerm });
  }

  private abandonTransfer(reason: TransferAbandonReason): void {
    const transfer = this.transfer;
    if (transfer === null) return;
    this.transfer = null;
    // A TimeoutNow still waiting in this step's output has not left the node: withdrawn, so an
    // abandoned transfer (cancelTransfer() right after transferLeadership(), say) leaves
    // leadership where it is instead of reporting failure while the target takes over.
    if (transfer.timeoutSent) this.messages = this.messages.filter((outbound) => outbound.to !== transfer.target || outbound.message.type !== 'timeoutNow');
    this.emitTrace({ type: 'leadershipTransferAbandoned', target: transfer.target, reason });
    for (const transferId of transfer.transferIds) this.transferOutcomes.push({ transferId, failure: reason });
    // Proposals held while handing over resume here, and so do leaving a joint configuration and
    // a change asked for meanwhile.
    if (this.roleValue === 'leader') {
      this.adoptForwardsAsLeader();
      this.advanceMembershipChange();
      const held = this.heldMembershipChange;
      this.heldMembershipChange = null;
      if (held !== null) this.changeMembership(this.now, held.changeId, held.target);
    }
  }

  // ---- reads (§6.4) ---------------------------------------------------------------------------

  private leaderRead(requester: ReadRequester): void {
    if (this.readTracker.size >= this.config.maxPendingProposals) {
      if (requester.type === 'remote') this.send(requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: 0 });
      else this.pendingReads.set(requester.readId, { readId: requester.readId, correlationId: 0, sentTo: null, sentAt: this.now });
      return;
    }
    // The round starts when the ready is taken, so every read of this step shares it.
    this.readTracker.enqueue(requester);
  }

  /** Starts a round once the leader's own-term no-op has committed (reads wait for it). */
  private startReadRound(): void {
    if (this.roleValue !== 'leader' || this.readTracker.roundInFlight) return;
    if (this.log.termAt(this.commitIndexValue) !== this.currentTerm) return;
    const round = this.readTracker.startRound(this.commitIndexValue);
    if (round === 0) return;
    if (this.readRoundConfirmed()) {
      this.serveConfirmedReads();
      return;
    }
    for (const [peer, progress] of this.progress) this.sendHeartbeat(peer, progress);
  }

  private readRoundConfirmed(): boolean {
    return hasQuorum(this.membershipValue, (id) => id === this.id || this.readTracker.hasAcknowledged(id));
  }

  private acknowledgeReadRound(from: NodeId, round: number): void {
    if (!this.membershipValue.allVoters.has(from)) return;
    this.readTracker.acknowledge(from, round);
    if (this.readTracker.roundInFlight && this.readRoundConfirmed()) this.serveConfirmedReads();
  }

  private serveConfirmedReads(): void {
    for (const confirmed of this.readTracker.completeRound()) {
      this.emitTrace({ type: 'readIndexConfirmed', readIndex: confirmed.readIndex });
      const requester = confirmed.requester;
      if (requester.type === 'local') this.reads.push({ readId: requester.readId, readIndex: confirmed.readIndex });
      else this.send(requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: confirmed.readIndex });
    }
    this.startReadRound();
  }

  /** Leadership ended: local reads retry through the next leader, remote askers are told to retry. */
  private handBackReads(): void {
    for (const requester of this.readTracker.drain()) {
      if (requester.type === 'local') {
        this.pendingReads.set(requester.readId, { readId: requester.readId, correlationId: 0, sentTo: null, sentAt: this.now });
      } else {
        this.send(requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: 0 });
      }
    }
  }

  private sendReadRequest(read: PendingRead): void {
    const leader = this.leaderId;
    if (leader === null || leader === this.id) {
      read.sentTo = null;
      return;
    }
    this.pendingReads.correlate(read, this.nextCorrelationId++);
    read.sentTo = leader;
    read.sentAt = this.now;
    this.send(leader, { type: 'readIndexRequest', correlationId: read.correlationId });
  }

  private handleReadIndexRequest(from: NodeId, message: ReadIndexRequest): void {
    if (this.roleValue === 'leader' && !this.membershipValue.members.has(from)) return this.tellNotMember(from);
    if (this.roleValue !== 'leader') {
      this.send(from, { type: 'readIndexResponse', correlationId: message.correlationId, readIndex: 0 });
      return;
    }
    this.leaderRead({ type: 'remote', from, correlationId: message.correlationId });
  }

  private handleReadIndexResponse(from: NodeId, message: ReadIndexResponse): void {
    const read = this.pendingReads.findByCorrelation(message.correlationId);
    // Honoured only from the peer the request went to (SPEC "Untrusted peers").
    if (read === undefined || read.sentTo !== from) return;
    // An index above the ceiling never commits here (nothing above it is accepted): a hang.
    if (!isValidCounter(message.readIndex) || message.readIndex > maxLogIndex) return this.refuse(from, 'outOfRange', 0);
    if (message.readIndex === 0) {
      // Not served (no longer leader, or busy): retry after a heartbeat interval.
      read.sentAt = this.now - this.config.electionTimeoutMaxMs + this.config.heartbeatIntervalMs;
      return;
    }
    this.pendingReads.delete(read.readId);
    this.reads.push({ readId: read.readId, readIndex: message.readIndex });
  }

  // ---- proposals: forwarding and completion -------------------------------------------------

  private sendForward(forward: PendingForward): void {
    const leader = this.leaderId;
    if (leader === null || leader === this.id) {
      forward.sentTo = null;
      return;
    }
    this.forwards.correlate(forward, this.nextCorrelationId++);
    const maxRetryAfterMs = maxForwardBackoffElectionTimeouts * this.config.electionTimeoutMaxMs;
    forward.retryAfterMs = forward.sentTo === leader ? Math.min(2 * forward.retryAfterMs, maxRetryAfterMs) : this.config.electionTimeoutMaxMs;
    forward.sentTo = leader;
    forward.sentAt = this.now;
    this.send(leader, { type: 'forwardPropose', correlationId: forward.correlationId, command: forward.command, dedupKey: forward.dedupKey });
  }

  /** Re-sends forwards that have no leader, went to an old leader, or got no answer in time. */
  private retryForwards(): void {
    for (const read of this.pendingReads.values()) {
      const stale = read.sentTo !== this.leaderId || this.now - read.sentAt >= this.config.electionTimeoutMaxMs;
      if (read.sentTo === null || stale) this.sendReadRequest(read);
    }
    for (const forward of this.forwards.values()) {
      if (forward.appended !== null) continue;
      const stale = forward.sentTo !== this.leaderId || this.now - forward.sentAt >= forward.retryAfterMs;
      if (forward.sentTo === null || stale) this.sendForward(forward);
    }
  }

  private handleForwardPropose(from: NodeId, message: ForwardPropose): void {
    const respond = (outcome: ForwardProposeResponse['outcome']): void => {
      this.send(from, { type: 'forwardProposeResponse', correlationId: message.correlationId, outcome });
    };
    // Only admitted members (voters and learners) may write to the log.
    if (!this.membershipValue.members.has(from)) {
      this.tellNotMember(from);
      return this.refuse(from, 'senderNotMember', 0);
    }
    if (this.roleValue !== 'leader') return respond({ type: 'notLeader' });
    // An entry whose AppendEntries exceeds the transport's frame limit is never delivered: once
    // appended, it and every entry after it would be resent forever and never commit. A proposer's
    // own driver refuses such commands, so only a faulty peer forwards one; it is left unanswered.
    if (commandEntrySizeBound(message.command.length, message.dedupKey) + frameOverheadBytes > this.maxFrameBytes) return this.refuse(from, 'commandTooLarge', 0);
    const cached = this.cachedEntryFor(message.dedupKey);
    if (cached !== null) return respond({ type: 'appended', index: cached.index, term: cached.term });
    if (this.admissionFailure() !== null || this.transfer !== null) return respond({ type: 'busy' });
    const entry = this.appendAsLeader(message.command, message.dedupKey);
    if (message.dedupKey !== null) this.rememberDedup(message.dedupKey, entry);
    respond({ type: 'appended', index: entry.index, term: entry.term });
  }

  private rememberDedup(key: DedupKey, entry: LogEntry): void {
    this.leaderDedupCache.remember(key, entry.index, entry.term);
  }

  // ---- outside the cluster --------------------------------------------------------------------

  /**
   * A leader answers a request from outside its configuration, so the asker stops waiting. Only
   * a leader's configuration is authoritative: a follower may not have heard of a newcomer yet.
   */
  private tellNotMember(to: NodeId): void {
    if (this.roleValue !== 'leader') return;
    this.send(to, { type: 'notMember', term: this.currentTerm, configIndex: this.latestConfigIndex() });
  }

  private handleNotMember(from: NodeId, message: NotMember): void {
    if (!this.membershipValue.members.has(from)) return this.refuse(from, 'senderNotMember', 0);
    if (!isValidCounter(message.term) || !isValidCounter(message.configIndex)) return this.refuse(from, 'outOfRange', 0);
    // A deposed leader's older configuration must not talk a node added since out of the cluster:
    // whoever added it led a term at least as new as the one this node has seen since.
    if (message.term < this.currentTerm || this.roleValue === 'leader') return;
    // Only a leader says this, and a term's leader is pinned once heard: another member claiming
    // to speak for that term is disproved (SPEC "Leader authority"). A faulty follower's notice
    // would otherwise fail this node's proposals and reads and stop it campaigning.
    const pinned = this.pinnedLeader;
    if (pinned !== null && pinned.term === message.term && pinned.leaderId !== from) return this.refuse(from, 'notMemberNotFromLeader', message.term);
    // A notice overtaken by the configuration that re-admitted this node (frames may arrive out of
    // order) says nothing about now.
    if (this.membershipValue.members.has(this.id) && this.latestConfigIndex() > message.configIndex) return;
    this.removalNotice = { from, term: message.term, configIndex: message.configIndex, at: this.now };
  }

  /**
   * Only a configuration after one that had this node in counts as its removal: a newcomer
   * catching up appends the configurations from before its admission, which leave it out too.
   */
  private computeRemovedByConfig(): boolean {
    if (this.membershipValue.members.has(this.id)) return false;
    for (let index = this.configEntryIndex - 1; index > this.log.floorIndex; index -= 1) {
      const config = this.log.entryAt(index)?.config;
      if (config !== undefined && createMembership(config).members.has(this.id)) return true;
    }
    // The snapshot's configuration is an earlier one only while the latest is in the log.
    return this.configEntryIndex > this.log.floorIndex && this.snapshotConfig !== null && createMembership(this.snapshotConfig).members.has(this.id);
  }


  /**
   * Outside the cluster: a leader said so lately, or a configuration this node received (in its
   * log or a snapshot) leaves it out and no leader replicates to it any more. A bootstrap
   * configuration without it does not count: a newcomer waits there to be admitted. While a
   * leader still replicates, the node may be catching up through its own removal towards the
   * configuration that re-admitted it, or be a removed member still receiving the log until the
   * change commits. A removed leader counts once it has stepped down.
   */
  private outsideCluster(): boolean {
    if (this.roleValue === 'leader') return false;
    if (this.removalNotice !== null) return true;
    const hearingLeader = this.leaderId !== null && this.now - this.lastLeaderContact < this.config.electionTimeoutMinMs;
    return this.removedByConfig && !hearingLeader;
  }

  /**
   * Proposals and reads waiting on a leader would wait forever outside the cluster (no leader
   * replicates to this node, or answers it): they fail instead, and the node says so once.
   */
  private settleCallsOutsideCluster(): void {
    const outside = this.outsideCluster();
    if (!outside) return;
    if (!this.reportedOutside) {
      this.reportedOutside = true;
      const notice = this.removalNotice;
      this.pushMetric(notice === null ? { type: 'removedFromCluster', toldBy: null, term: this.currentTerm, configIndex: this.latestConfigIndex() } : { type: 'removedFromCluster', toldBy: notice.from, term: notice.term, configIndex: notice.configIndex });
    }
    for (const forward of this.forwards.values()) {
      // A forward never sent is known not to be in the log; one sent may have been appended.
      this.outcomes.push({ type: 'failed', proposalId: forward.proposalId, failure: forward.correlationId === 0 ? 'notMember' : 'removedWhileInFlight' });
      this.awaited.remove(forward.proposalId);
    }
    this.forwards.clear();
    for (const read of this.pendingReads.values()) this.reads.push({ readId: read.readId, failure: 'notMember' });
    this.pendingReads.clear();
  }

  private handleForwardResponse(from: NodeId, message: ForwardProposeResponse): void {
    const forward = this.forwards.findByCorrelation(message.correlationId);
    // A nonce is honoured only from the peer it was sent to (SPEC "Untrusted peers").
    if (forward === undefined || forward.sentTo !== from || forward.appended !== null) return;
    const outcome = message.outcome;
    switch (outcome.type) {
      case 'appended': {
        const verdict = this.forwardAnswerVerdict(from, forward, outcome.index, outcome.term);
        if (verdict === 'ignore') return;
        if (verdict !== 'accept') return this.refuse(from, verdict, 0);
        forward.appended = { index: outcome.index, term: outcome.term };
        // Accepted by the leader: the proposer reports it as a leader's own proposals are, so
        // proposeAccepted comes with every proposal, whichever role this node holds.
        if (this.reportAcceptance) this.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: outcome.index });
        const item: AwaitedProposal = { proposalId: forward.proposalId, term: outcome.term, local: false };
        // Already outlived (a later term committed below it while the answer travelled): the
        // sweep for this committed term is past, so it is settled here, or it would wait forever.
        if (outcome.index > this.commitIndexValue && outcome.term < (this.log.termAt(this.commitIndexValue) ?? 0)) return this.settleLost(item);
        this.awaitExisting(outcome.index, item);
        return;
      }
      case 'notLeader':
        if (this.leaderId === from) this.leaderId = null;
        forward.sentTo = null;
        return;
      case 'busy':
        // Retried by the next tick after a heartbeat interval. A busy leader answered at once, so
        // this says nothing about lost frames: the backoff starts over.
        forward.retryAfterMs = this.config.electionTimeoutMaxMs;
        forward.sentAt = this.now - forward.retryAfterMs + this.config.heartbeatIntervalMs;
        return;
      default:
        assertUnreachable(outcome);
    }
  }

  /**
   * Whether a leader's "appended at (index, term)" is taken (SPEC "Untrusted peers"); 'ignore'
   * sets it aside silently and the forward is sent again later (safe: the same dedup key).
   * - No entry of this node ever lands above maxLogIndex, so waiting on one there would hang.
   * - A leader's log holds every entry committed here, so it appends past them: an index at or
   *   below them names some other, committed entry, whose term would match and report this
   *   proposal committed as that entry. The exception is checked against this node's own log:
   *   an honest leader's dedup cache names the committed entry of a request id a caller
   *   re-proposed (SPEC's exactly-once recipe, replayed after a crash), and when the entry this
   *   node holds there carries the same term and the same dedup key, it is this proposal's entry:
   *   taken. Set aside, it was forwarded again to the same answer forever. (Below this node's
   *   compaction floor nothing can be checked: set aside.)
   * - A term newer than this node's, or its own term from anyone but the leader pinned for it
   *   (a leader re-elected in a term not heard of here yet), cannot be checked: set aside. An
   *   older term can be honest (a leader's dedup cache answers with an entry it appended while
   *   leading an earlier term). So the term of an answer taken is older than this node's, or
   *   that of the leader answering, and the wait on it ends once a leader of a later term
   *   commits anything (settleOutlived): only the answering leader, while it still leads, can
   *   hold it up, and it could as well withhold an honest entry. A bound on the index relative
   *   to the leader's commit index would add nothing to that, and has no sound value: this node
   *   may lag the leader's log by any number of entries (a newcomer catching up on a snapshot
   *   while its user writes), and a refused honest answer is retried to the same answer.
   */
  private forwardAnswerVerdict(from: NodeId, forward: PendingForward, index: number, term: number): 'accept' | 'ignore' | RefusalReason {
    if (!isValidCounter(index) || !isValidCounter(term) || index === 0 || index > maxLogIndex) return 'outOfRange';
    if (index <= forward.committedBefore) return this.holdsForwardedEntry(forward, index, term) ? 'accept' : 'ignore';
    const fromPinnedLeader = this.pinnedLeader?.term === term && this.pinnedLeader.leaderId === from;
    if (term > this.currentTerm || (term === this.currentTerm && !fromPinnedLeader)) return 'ignore';
    return 'accept';
  }

  /**
   * Whether this node's log holds, at (index, term), an entry under the forward's own dedup key:
   * the answer to a request re-proposed after it committed (a durable id replayed), which a new
   * leader answers with the entry it inherited. Keys are unique per client and request (SPEC
   * "Exactly-once"), so that entry is this request's, and it is committed here: it settles at
   * once. An entry behind this node's snapshot cannot be checked, and the answer is set aside.
   */
  private holdsForwardedEntry(forward: PendingForward, index: number, term: number): boolean {
    const entry = this.log.entryAt(index);
    return forward.dedupKey !== null && entry?.term === term && carriesKey(entry, forward.dedupKey);
  }

  /** A new leader takes over its own pending forwards: they are in its log or get appended. */
  private adoptForwardsAsLeader(): void {
    for (const forward of this.forwards.values()) {
      const appended = forward.appended;
      if (appended !== null && this.log.termAt(appended.index) === appended.term) {
        this.awaited.remove(forward.proposalId);
        this.awaited.add(appended.index, { proposalId: forward.proposalId, term: appended.term, local: true });
        continue;
      }
      if (appended !== null) this.awaited.remove(forward.proposalId);
      // Appended by an earlier leader whose answer never came: our log holds it (see rememberInheritedDedupKeys).
      const inherited = this.cachedEntryFor(forward.dedupKey);
      if (inherited !== null) {
        if (this.reportAcceptance && appended === null) this.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: inherited.index });
        this.awaitExisting(inherited.index, { proposalId: forward.proposalId, term: inherited.term, local: true });
        continue;
      }
      const entry = this.appendAsLeader(forward.command, forward.dedupKey);
      // First accepted now (one held through a transfer, or never answered): reported once.
      if (this.reportAcceptance && appended === null) this.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: entry.index });
      this.awaited.add(entry.index, { proposalId: forward.proposalId, term: entry.term, local: true });
    }
    this.forwards.clear();
  }

  /** Completes proposals whose index is now applicable: committed if the term matches, else retried. */
  private resolveAwaited(): void {
    for (const group of this.awaited.takeApplicable(this.applicableIndex)) this.settleAwaited(group.index, group.waiting);
    this.settleOutlived();
  }

  /**
   * Settles, as lost, proposals waiting above the commit index for an entry of a term older than
   * the committed entry's there: such an entry (i, T) can never commit, and in an idle cluster
   * nothing else would ever reach index i to show it. Proof: say the committed entry is (c, t')
   * with c < i and t' > T, committed in term U1, and (i, T) were committed in term U2. Every
   * leader of a term after a commit holds the committed entry (Leader Completeness), and a leader
   * never drops entries during its term, so the leader of max(U1, U2) holds both (i, T) and
   * (c, t'); but terms never decrease along a log, so the entry at c < i has term at most T.
   *
   * Only the committed prefix is used. An uncommitted entry (j, t') with j <= i and t' > T, even
   * one the current leader sent, proves nothing: the leader of t' may fall before committing it,
   * and a node holding (i, T) may win the next term (voters with shorter logs elect it; the node
   * holding (j, t') is outvoted) and commit (i, T) after all. Forwarding again then would append
   * the command twice; exactly-once would still hold (the application's ClientSessionTable
   * applies it once), but the proposal would report the duplicate's index.
   *
   * Checked when the committed term rises (once per leader change) and, for an answer arriving
   * later, when it arrives (handleForwardResponse). Local proposals are never outlived while
   * this node leads (its log holds them); after a step-down they have already failed.
   */
  private settleOutlived(): void {
    const committedTerm = this.log.termAt(this.commitIndexValue) ?? 0;
    if (committedTerm <= this.outlivedCheckedTerm) return;
    this.outlivedCheckedTerm = committedTerm;
    for (const group of this.awaited.takeOutlived(this.commitIndexValue, committedTerm)) {
      for (const item of group.waiting) this.settleLost(item);
    }
  }

  private checkAwaitedAt(index: number): void {
    if (index > this.applicableIndex) return;
    const waiting = this.awaited.take(index);
    if (waiting !== undefined) this.settleAwaited(index, waiting);
  }

  private settleAwaited(index: number, waiting: readonly AwaitedProposal[]): void {
    const entry = this.log.entryAt(index);
    for (const item of waiting) {
      if (entry !== undefined && entry.term === item.term) {
        this.forwards.delete(item.proposalId);
        this.outcomes.push({ type: 'committed', proposalId: item.proposalId, entry });
        continue;
      }
      const forward = this.forwards.get(item.proposalId);
      if (forward !== undefined && entry === undefined && index <= this.log.floorIndex) {
        // The entry is behind a snapshot this node installed (its own compaction waits for
        // pending forwards), and forwarding again would get the same answer forever. The
        // snapshot's last entry is committed, and when its term is the one the leader appended
        // this proposal in, the same leader made both entries: a leader never changes an entry
        // of its own log, so its log held this one at `index` when it made the snapshot's last
        // entry, and by Log Matching at the snapshot's index the committed log holds it too (at
        // the snapshot's own index, the same index and term). So the proposal committed, and its
        // entry is rebuilt from the forward. That is the common case: a follower that fell behind
        // its leader's compaction under load, with no leader change. A snapshot of a later term
        // says nothing about which entry committed here: the outcome is unknown, and a caller
        // retrying with the same request id is deduplicated (exactly-once).
        this.forwards.delete(item.proposalId);
        if (this.log.termAt(this.log.floorIndex) === item.term) {
          const rebuilt: LogEntry = { index, term: item.term, command: forward.command, isNoOp: false, ...(forward.dedupKey === null ? {} : { dedupKey: forward.dedupKey }) };
          this.outcomes.push({ type: 'committed', proposalId: item.proposalId, entry: rebuilt });
        } else {
          this.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
        }
        continue;
      }
      this.settleLost(item);
    }
  }

  /** A proposal whose entry is lost to a leader change. */
  private settleLost(item: AwaitedProposal): void {
    const forward = this.forwards.get(item.proposalId);
    if (forward !== undefined) {
      // Forward again under the same dedup key (safe to retry).
      forward.appended = null;
      this.sendForward(forward);
    } else {
      this.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
    }
  }
}

function entryTermAt(message: AppendEntries, index: number): number | undefined {
  const entry = message.entries[index - message.prevLogIndex - 1];
  return entry?.term;
}

function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
