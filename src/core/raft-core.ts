// The deterministic Raft state machine. Inputs arrive as method calls carrying the current clock
// reading; everything the outside world must do comes back through takeReady(). No timers, no
// I/O, no awaits: the driver owns time, storage and transport.
import { assert, assertUnreachable } from './assert.ts';
import { dedupWindowSize } from './client-session-format.ts';
import { collectReady, emitTrace, pushMetric, refuse, send } from './core-output.ts';
import { applicableIndex, type CoreState, createCoreState, frameOverheadBytes, leaderDedupCacheSize, type PendingForward, type PendingRead, type RaftCoreOptions } from './core-state.ts';
import { advanceClock, resetElectionTimer } from './core-time.ts';
import { type ElectionsHost, handleRequestVote, handleTimeoutNow, handleVoteResponse } from './elections.ts';
import { commandEntrySizeBound } from './entry-size.ts';
import type { RefusalReason } from './events.ts';
import { handleAppendEntries } from './follower-replication.ts';
import { type CachedAppend, carriesKey } from './leader-dedup-cache.ts';
import { flushAppends, handleAppendResponse, leaderHeartbeat, type LeaderReplicationHost, maybeAdvanceCommit, sendAppend, sendHeartbeat } from './leader-replication.ts';
import { abandonTransfer, abandonTransferCall, advanceTransfer, cancelTransfer, type LeadershipTransferHost, transferLeadership } from './leadership-transfer.ts';
import { appendAsLeader } from './log-writes.ts';
import { advanceMembershipChange, changeMembership, type MembershipChangeHost } from './membership-change.ts';
import { computeRemovedByConfig, findLatestConfigEntry, isVoter, latestConfigIndex, latestConfigPayload, mayCampaignAsOutgoingVoter } from './membership-state.ts';
import type { ForwardPropose, ForwardProposeResponse, NotMember, RaftMessage, ReadIndexRequest, ReadIndexResponse } from './messages.ts';
import type { AwaitedProposal } from './proposal-waiters.ts';
import { createMembership, hasQuorum } from './quorum.ts';
import type { ReadRequester } from './read-index.ts';
import type { ProposalFailure, ProposalOutcome, Ready } from './ready.ts';
import { becomeFollower, becomeLeader, type RolesHost, startElection, startPreVote } from './roles.ts';
import { beginSnapshotTransfer, handleInstallSnapshot, handleSnapshotResponse, pacedSnapshotDeadline, publishSnapshot, sendPacedSnapshotChunks, sendSnapshotChunks, type SnapshotsHost } from './snapshots.ts';
import { acceptLeaderFrame, stepDownOnHigherTerm, type TermRulesHost } from './term-rules.ts';
import { type ClusterConfig, type ConfigPayload, type DedupKey, isValidCounter, type LogEntry, maxLogIndex, type NodeId, type RaftRole } from './types.ts';

export type { RaftCoreOptions } from './core-state.ts';

/**
 * A forward unanswered by the same leader is sent again after an election timeout, then after
 * twice as long each time, up to this many election timeouts. A fixed timeout collapsed a busy
 * cluster: once queueing delay passed it, every pipelined forward was sent twice, which made the
 * queues longer still. A new leader gets every forward at once (they are safe to retry).
 */
const maxForwardBackoffElectionTimeouts = 8;

/** How far back a leader looks for a request its own application proposed again (rare: see retriedLocalEntry). */
const localRetryScanEntries = 4 * dedupWindowSize;
/** Clients whose request ids a leader follows for its own proposals: a node's own identities, re-minted now and then. */
const maxLocalClients = 64;

type EngineHost = ElectionsHost & LeaderReplicationHost & LeadershipTransferHost & MembershipChangeHost & RolesHost & SnapshotsHost & TermRulesHost;

export class RaftCore {
  readonly id: NodeId;
  private readonly core: CoreState<EngineHost>;

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    const host: EngineHost = {
      acknowledgeReadRound: (from, round) => this.acknowledgeReadRound(from, round),
      adoptForwardsAsLeader: () => this.adoptForwardsAsLeader(),
      advanceMembershipChange: () => advanceMembershipChange(core),
      advanceTransfer: () => advanceTransfer(core),
      becomeFollower: (term, leader, reason) => becomeFollower(core, term, leader, reason),
      becomeLeader: () => becomeLeader(core),
      beginSnapshotTransfer: (progress) => beginSnapshotTransfer(core, progress),
      changeMembership: (now, changeId, target) => changeMembership(core, now, changeId, target),
      handBackReads: () => this.handBackReads(),
      maybeAdvanceCommit: () => maybeAdvanceCommit(core),
      rememberInheritedDedupKeys: () => this.rememberInheritedDedupKeys(),
      retryForwards: () => this.retryForwards(),
      sendAppend: (peer) => sendAppend(core, peer),
      sendSnapshotChunks: (peer, progress) => sendSnapshotChunks(core, peer, progress),
      startElection: (transfer) => startElection(core, transfer),
      startReadRound: () => this.startReadRound(),
      stepDownOnHigherTerm: (term) => stepDownOnHigherTerm(core, term),
      tellNotMember: (to) => this.tellNotMember(to),
    };
    const core = createCoreState(options, host);
    this.core = core;
    core.membership = createMembership(latestConfigPayload(core));
    core.configEntryIndex = findLatestConfigEntry(core);
    core.removedByConfig = computeRemovedByConfig(core);
    core.role = isVoter(core, core.id) ? 'follower' : 'learner';
    resetElectionTimer(core);
    emitTrace(core, { type: 'becomeFollower', reason: 'started', leader: null });
  }

  /** The driver turns this on while someone listens to the trace, so idle tracing costs nothing. */
  get tracing(): boolean {
    return this.core.tracing;
  }
  set tracing(on: boolean) {
    this.core.tracing = on;
  }
  /** Whether leader proposals report an `accepted` outcome (only metrics need it). */
  get reportAcceptance(): boolean {
    return this.core.reportAcceptance;
  }
  set reportAcceptance(on: boolean) {
    this.core.reportAcceptance = on;
  }

  // ---- observable state -------------------------------------------------------------------

  get role(): RaftRole {
    return this.core.role;
  }
  get term(): number {
    return this.core.currentTerm;
  }
  get leader(): NodeId | null {
    return this.core.leaderId;
  }
  get commitIndex(): number {
    return this.core.commitIndex;
  }
  /** Entries through this index are committed and durable here: safe to apply. */
  get applicableIndex(): number {
    return applicableIndex(this.core);
  }
  get membership(): ClusterConfig {
    return this.core.membership.payload.new;
  }
  get membershipPayload(): ConfigPayload {
    return this.core.membership.payload;
  }
  get compactionFloor(): number {
    return this.core.log.floorIndex;
  }
  get lastIndex(): number {
    return this.core.log.lastIndex;
  }
  entryAt(index: number): LogEntry | undefined {
    return this.core.log.entryAt(index);
  }
  /**
   * The leader's view of how far each peer's log matches its own (read-only copies; empty unless
   * leading). Room membership policies use it to promote only learners that have caught up.
   */
  matchIndexes(): ReadonlyMap<NodeId, number> {
    const result = new Map<NodeId, number>();
    if (this.core.role !== 'leader') return result;
    for (const [peer, progress] of this.core.progress) result.set(peer, progress.matchIndex);
    return result;
  }
  termAt(index: number): number | undefined {
    return this.core.log.termAt(index);
  }

  /** The earliest clock reading at which tick() has work to do. */
  nextDeadline(): number {
    const transferDeadline = this.core.transfer?.deadline ?? Number.POSITIVE_INFINITY;
    if (this.core.role === 'leader') return Math.min(this.core.heartbeatDeadline, transferDeadline, pacedSnapshotDeadline(this.core));
    let deadline = this.core.role === 'learner' && !mayCampaignAsOutgoingVoter(this.core) ? Number.POSITIVE_INFINITY : this.core.electionDeadline;
    if (this.core.forwards.size > 0 || this.core.pendingReads.size > 0) deadline = Math.min(deadline, this.core.now + this.core.config.heartbeatIntervalMs);
    return Math.min(deadline, transferDeadline);
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(now: number): void {
    advanceClock(this.core, now);
    if (this.core.transfer !== null && now >= this.core.transfer.deadline) abandonTransfer(this.core, 'timeout');
    if (this.core.role === 'leader') {
      if (now >= this.core.heartbeatDeadline) leaderHeartbeat(this.core);
      sendPacedSnapshotChunks(this.core);
      return;
    }
    // A notice lapses unless renewed (a live leader answers every request with another): if its
    // sender died, this node may be needed to elect the next leader after all.
    if (this.core.removalNotice !== null && now - this.core.removalNotice.at >= this.core.config.electionTimeoutMaxMs) this.core.removalNotice = null;
    this.retryForwards();
    // A witness never campaigns: it only votes for and acknowledges the others. Its timer still
    // restarts, so its next deadline is always in the future. Nor does a node a leader has just
    // told it is outside the cluster (its campaigns would only be refused), unless its own log
    // still lets it campaign as an outgoing voter (the configuration removing it is uncommitted).
    const toldOutside = this.core.removalNotice !== null && !mayCampaignAsOutgoingVoter(this.core);
    if ((this.core.config.witness || toldOutside) && now >= this.core.electionDeadline) resetElectionTimer(this.core);
    if ((this.core.role !== 'learner' || mayCampaignAsOutgoingVoter(this.core)) && !this.core.config.witness && now >= this.core.electionDeadline) {
      if (this.core.role === 'candidate' || this.core.preCandidate) pushMetric(this.core, { type: 'electionTimedOut', term: this.core.currentTerm });
      emitTrace(this.core, { type: 'timeout' });
      startPreVote(this.core);
    }
  }

  /** A proposal from this node's caller. The outcome arrives in a later ready. */
  propose(now: number, proposalId: number, command: Uint8Array, dedupKey: DedupKey | null): void {
    advanceClock(this.core, now);
    if (this.core.role === 'leader' && this.core.transfer === null) {
      const failure = this.admissionFailure();
      if (failure !== null) {
        this.core.outcomes.push({ type: 'failed', proposalId, failure });
        return;
      }
      // A request re-proposed under its key (a durable id replayed) waits on the entry we hold.
      const held = this.cachedEntryFor(dedupKey) ?? this.retriedLocalEntry(dedupKey);
      if (held !== null) {
        if (this.core.reportAcceptance) this.core.outcomes.push({ type: 'accepted', proposalId, index: held.index });
        this.awaitExisting(held.index, { proposalId, term: held.term, local: true });
        return;
      }
      const entry = appendAsLeader(this.core, command, dedupKey);
      if (dedupKey !== null) this.noteLocalRequest(dedupKey);
      this.core.awaited.add(entry.index, { proposalId, term: entry.term, local: true });
      if (this.core.reportAcceptance) this.core.outcomes.push({ type: 'accepted', proposalId, index: entry.index });
      return;
    }
    if (this.outsideCluster()) {
      this.core.outcomes.push({ type: 'failed', proposalId, failure: 'notMember' });
      return;
    }
    // Not leading, or handing leadership over: the proposal waits for (or goes to) the leader.
    const forward: PendingForward = { proposalId, command, dedupKey, correlationId: 0, sentTo: null, sentAt: now, retryAfterMs: this.core.config.electionTimeoutMaxMs, appended: null, committedBefore: this.commitIndex };
    this.core.forwards.set(proposalId, forward);
    this.sendForward(forward);
  }

  /** §6 joint consensus: C_old,new, then C_new once that commits. The outcome comes in a ready. */
  changeMembership(now: number, changeId: number, target: ClusterConfig): void {
    changeMembership(this.core, now, changeId, target);
  }

  transferLeadership(now: number, transferId: number, target: NodeId): void {
    transferLeadership(this.core, now, transferId, target);
  }

  cancelTransfer(now: number): void {
    cancelTransfer(this.core, now);
  }

  /** One caller stopped waiting (its signal aborted): the transfer ends when no caller is left. */
  abandonTransferCall(now: number, transferId: number): void {
    abandonTransferCall(this.core, now, transferId);
  }

  /** A linearizable read from this node's caller; the read index arrives in a later ready. */
  requestRead(now: number, readId: number): void {
    advanceClock(this.core, now);
    if (this.core.role === 'leader') {
      this.leaderRead({ type: 'local', readId });
      return;
    }
    if (this.outsideCluster()) {
      this.core.reads.push({ readId, failure: 'notMember' });
      return;
    }
    const read: PendingRead = { readId, correlationId: 0, sentTo: null, sentAt: now };
    this.core.pendingReads.set(readId, read);
    this.sendReadRequest(read);
  }

  abandonRead(readId: number): void {
    this.core.pendingReads.delete(readId);
    this.core.readTracker.remove(readId);
  }

  /** The caller gave up on a proposal (abort): stop tracking it; it may still commit. */
  abandonProposal(proposalId: number): void {
    this.core.forwards.delete(proposalId);
    this.core.awaited.remove(proposalId);
  }

  /** The driver finished writing a ready: its entries (through lastIndex at lastTerm) are durable. */
  persisted(now: number, lastEntry: { index: number; term: number } | null, snapshotIndex = 0): void {
    advanceClock(this.core, now);
    assert(this.core.writesInFlight > 0, 'persisted() without a write in flight');
    this.core.writesInFlight -= 1;
    this.core.writesPersisted += 1;
    // An installed snapshot stands for every entry through its index once it is durable.
    if (snapshotIndex > this.core.persistedIndex && snapshotIndex <= this.core.log.floorIndex) this.core.persistedIndex = snapshotIndex;
    if (lastEntry !== null && this.core.log.termAt(lastEntry.index) === lastEntry.term && lastEntry.index > this.core.persistedIndex) {
      this.core.persistedIndex = lastEntry.index;
    }
    if (this.core.role === 'leader') maybeAdvanceCommit(this.core);
  }

  receive(now: number, from: NodeId, message: RaftMessage): void {
    advanceClock(this.core, now);
    if (from === this.core.id) return;
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
    if (this.core.role === 'leader') {
      this.startReadRound();
      flushAppends(this.core);
    }
    this.resolveAwaited();
    this.settleCallsOutsideCluster();
    return collectReady(this.core);
  }

  /** Fails every proposal still tracked (the node is closing). */
  failAll(failure: ProposalFailure): ProposalOutcome[] {
    const failed: ProposalOutcome[] = [];
    const ids = new Set<number>(this.core.forwards.keys());
    for (const proposalId of this.core.awaited.proposalIds()) ids.add(proposalId);
    for (const proposalId of ids) failed.push({ type: 'failed', proposalId, failure });
    this.core.forwards.clear();
    this.core.awaited.clear();
    this.core.pendingReads.clear();
    this.core.readTracker.drain();
    return failed;
  }

  // ---- term rules and dispatch ----------------------------------------------------------------

  private receiveTermed(from: NodeId, message: Exclude<RaftMessage, ForwardPropose | ForwardProposeResponse | { type: 'readIndexRequest' } | { type: 'readIndexResponse' } | NotMember>): void {
    if (!isValidCounter(message.term)) {
      refuse(this.core, from, 'outOfRange', 0);
      return;
    }
    if (message.term > this.core.currentTerm + this.core.config.maxTermJump) {
      refuse(this.core, from, 'termJump', message.term);
      return;
    }
    // Answers come only from members we asked; a stranger's "higher term" must not depose us.
    const isResponse = message.type === 'requestVoteResponse' || message.type === 'appendEntriesResponse' || message.type === 'installSnapshotResponse';
    if (isResponse && !this.core.membership.members.has(from)) {
      refuse(this.core, from, 'senderNotMember', message.term);
      return;
    }
    switch (message.type) {
      case 'requestVote':
        handleRequestVote(this.core, from, message);
        return;
      case 'requestVoteResponse':
        handleVoteResponse(this.core, from, message);
        return;
      case 'appendEntries':
        if (!acceptLeaderFrame(this.core, from, message.term)) return;
        handleAppendEntries(this.core, from, message);
        return;
      case 'appendEntriesResponse':
        if (stepDownOnHigherTerm(this.core, message.term)) return;
        if (message.term === this.core.currentTerm) handleAppendResponse(this.core, from, message);
        return;
      case 'timeoutNow':
        handleTimeoutNow(this.core, from, message);
        return;
      case 'installSnapshot':
        if (!acceptLeaderFrame(this.core, from, message.term)) return;
        if (message.meta.lastIncludedIndex > maxLogIndex) return refuse(this.core, from, 'outOfRange', message.term);
        handleInstallSnapshot(this.core, from, message);
        return;
      case 'installSnapshotResponse':
        if (stepDownOnHigherTerm(this.core, message.term)) return;
        if (message.term === this.core.currentTerm) handleSnapshotResponse(this.core, from, message);
        return;
      default:
        assertUnreachable(message);
    }
  }

  // ---- roles --------------------------------------------------------------------------------

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
    const first = Math.max(this.core.log.floorIndex + 1, this.core.log.lastIndex - leaderDedupCacheSize + 1);
    for (let index = first; index <= this.core.log.lastIndex; index += 1) {
      const entry = this.core.log.entryAt(index);
      if (entry?.dedupKey !== undefined) this.rememberDedup(entry.dedupKey, entry);
    }
  }

  /** The entry this leader's log holds for a retried request, if its dedup cache remembers one (appended or inherited). */
  private cachedEntryFor(dedupKey: DedupKey | null): CachedAppend | null {
    if (dedupKey === null) return null;
    const cached = this.core.leaderDedupCache.get(dedupKey);
    return cached !== undefined && this.core.log.termAt(cached.index) === cached.term ? cached : null;
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
    const highWater = this.core.localRequestHighWater.get(dedupKey.clientId);
    if (highWater === undefined || dedupKey.requestId > highWater) return null;
    const last = Math.max(this.core.log.floorIndex + 1, this.core.log.lastIndex - localRetryScanEntries + 1);
    for (let index = this.core.log.lastIndex; index >= last; index -= 1) {
      const entry = this.core.log.entryAt(index);
      if (entry !== undefined && carriesKey(entry, dedupKey)) return { index, term: entry.term };
    }
    return null;
  }

  private noteLocalRequest(dedupKey: DedupKey): void {
    const highWater = this.core.localRequestHighWater.get(dedupKey.clientId);
    if (highWater !== undefined && highWater >= dedupKey.requestId) return;
    // Bounded: forgetting only sends a rare retry down the append path, as before.
    if (highWater === undefined && this.core.localRequestHighWater.size >= maxLocalClients) this.core.localRequestHighWater.clear();
    this.core.localRequestHighWater.set(dedupKey.clientId, dedupKey.requestId);
  }

  /** Waits on an entry already in the log; one at or below the applicable index settles at once. */
  private awaitExisting(index: number, item: AwaitedProposal): void {
    this.core.awaited.add(index, item);
    if (index <= this.core.awaited.scannedThrough) this.checkAwaitedAt(index);
  }

  private admissionFailure(): ProposalFailure | null {
    const uncommitted = this.core.log.lastIndex - this.core.commitIndex;
    // At the index ceiling (reached only through a hostile peer's snapshot): see maxLogIndex.
    return uncommitted >= this.core.config.maxPendingProposals || this.core.log.lastIndex >= maxLogIndex ? 'overloaded' : null;
  }

  // ---- snapshots and compaction (§7) ------------------------------------------------------

  /**
   * The application's state through `throughIndex`: store it and compact the log behind it.
   * False when it is not newer than the snapshot or the floor this node has (nothing changes).
   */
  publishSnapshot(now: number, throughIndex: number, state: Uint8Array): boolean {
    return publishSnapshot(this.core, now, throughIndex, state);
  }

  // ---- reads (§6.4) ---------------------------------------------------------------------------

  private leaderRead(requester: ReadRequester): void {
    if (this.core.readTracker.size >= this.core.config.maxPendingProposals) {
      if (requester.type === 'remote') send(this.core, requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: 0 });
      else this.core.pendingReads.set(requester.readId, { readId: requester.readId, correlationId: 0, sentTo: null, sentAt: this.core.now });
      return;
    }
    // The round starts when the ready is taken, so every read of this step shares it.
    this.core.readTracker.enqueue(requester);
  }

  /** Starts a round once the leader's own-term no-op has committed (reads wait for it). */
  private startReadRound(): void {
    if (this.core.role !== 'leader' || this.core.readTracker.roundInFlight) return;
    if (this.core.log.termAt(this.core.commitIndex) !== this.core.currentTerm) return;
    const round = this.core.readTracker.startRound(this.core.commitIndex);
    if (round === 0) return;
    if (this.readRoundConfirmed()) {
      this.serveConfirmedReads();
      return;
    }
    for (const [peer, progress] of this.core.progress) sendHeartbeat(this.core, peer, progress);
  }

  private readRoundConfirmed(): boolean {
    return hasQuorum(this.core.membership, (id) => id === this.core.id || this.core.readTracker.hasAcknowledged(id));
  }

  private acknowledgeReadRound(from: NodeId, round: number): void {
    if (!this.core.membership.allVoters.has(from)) return;
    this.core.readTracker.acknowledge(from, round);
    if (this.core.readTracker.roundInFlight && this.readRoundConfirmed()) this.serveConfirmedReads();
  }

  private serveConfirmedReads(): void {
    for (const confirmed of this.core.readTracker.completeRound()) {
      emitTrace(this.core, { type: 'readIndexConfirmed', readIndex: confirmed.readIndex });
      const requester = confirmed.requester;
      if (requester.type === 'local') this.core.reads.push({ readId: requester.readId, readIndex: confirmed.readIndex });
      else send(this.core, requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: confirmed.readIndex });
    }
    this.startReadRound();
  }

  /** Leadership ended: local reads retry through the next leader, remote askers are told to retry. */
  private handBackReads(): void {
    for (const requester of this.core.readTracker.drain()) {
      if (requester.type === 'local') {
        this.core.pendingReads.set(requester.readId, { readId: requester.readId, correlationId: 0, sentTo: null, sentAt: this.core.now });
      } else {
        send(this.core, requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: 0 });
      }
    }
  }

  private sendReadRequest(read: PendingRead): void {
    const leader = this.core.leaderId;
    if (leader === null || leader === this.core.id) {
      read.sentTo = null;
      return;
    }
    this.core.pendingReads.correlate(read, this.core.nextCorrelationId++);
    read.sentTo = leader;
    read.sentAt = this.core.now;
    send(this.core, leader, { type: 'readIndexRequest', correlationId: read.correlationId });
  }

  private handleReadIndexRequest(from: NodeId, message: ReadIndexRequest): void {
    if (this.core.role === 'leader' && !this.core.membership.members.has(from)) return this.tellNotMember(from);
    if (this.core.role !== 'leader') {
      send(this.core, from, { type: 'readIndexResponse', correlationId: message.correlationId, readIndex: 0 });
      return;
    }
    this.leaderRead({ type: 'remote', from, correlationId: message.correlationId });
  }

  private handleReadIndexResponse(from: NodeId, message: ReadIndexResponse): void {
    const read = this.core.pendingReads.findByCorrelation(message.correlationId);
    // Honoured only from the peer the request went to (SPEC "Untrusted peers").
    if (read === undefined || read.sentTo !== from) return;
    // An index above the ceiling never commits here (nothing above it is accepted): a hang.
    if (!isValidCounter(message.readIndex) || message.readIndex > maxLogIndex) return refuse(this.core, from, 'outOfRange', 0);
    if (message.readIndex === 0) {
      // Not served (no longer leader, or busy): retry after a heartbeat interval.
      read.sentAt = this.core.now - this.core.config.electionTimeoutMaxMs + this.core.config.heartbeatIntervalMs;
      return;
    }
    this.core.pendingReads.delete(read.readId);
    this.core.reads.push({ readId: read.readId, readIndex: message.readIndex });
  }

  // ---- proposals: forwarding and completion -------------------------------------------------

  private sendForward(forward: PendingForward): void {
    const leader = this.core.leaderId;
    if (leader === null || leader === this.core.id) {
      forward.sentTo = null;
      return;
    }
    this.core.forwards.correlate(forward, this.core.nextCorrelationId++);
    const maxRetryAfterMs = maxForwardBackoffElectionTimeouts * this.core.config.electionTimeoutMaxMs;
    forward.retryAfterMs = forward.sentTo === leader ? Math.min(2 * forward.retryAfterMs, maxRetryAfterMs) : this.core.config.electionTimeoutMaxMs;
    forward.sentTo = leader;
    forward.sentAt = this.core.now;
    send(this.core, leader, { type: 'forwardPropose', correlationId: forward.correlationId, command: forward.command, dedupKey: forward.dedupKey });
  }

  /** Re-sends forwards that have no leader, went to an old leader, or got no answer in time. */
  private retryForwards(): void {
    for (const read of this.core.pendingReads.values()) {
      const stale = read.sentTo !== this.core.leaderId || this.core.now - read.sentAt >= this.core.config.electionTimeoutMaxMs;
      if (read.sentTo === null || stale) this.sendReadRequest(read);
    }
    for (const forward of this.core.forwards.values()) {
      if (forward.appended !== null) continue;
      const stale = forward.sentTo !== this.core.leaderId || this.core.now - forward.sentAt >= forward.retryAfterMs;
      if (forward.sentTo === null || stale) this.sendForward(forward);
    }
  }

  private handleForwardPropose(from: NodeId, message: ForwardPropose): void {
    const respond = (outcome: ForwardProposeResponse['outcome']): void => {
      send(this.core, from, { type: 'forwardProposeResponse', correlationId: message.correlationId, outcome });
    };
    // Only admitted members (voters and learners) may write to the log.
    if (!this.core.membership.members.has(from)) {
      this.tellNotMember(from);
      return refuse(this.core, from, 'senderNotMember', 0);
    }
    if (this.core.role !== 'leader') return respond({ type: 'notLeader' });
    // An entry whose AppendEntries exceeds the transport's frame limit is never delivered: once
    // appended, it and every entry after it would be resent forever and never commit. A proposer's
    // own driver refuses such commands, so only a faulty peer forwards one; it is left unanswered.
    if (commandEntrySizeBound(message.command.length, message.dedupKey) + frameOverheadBytes > this.core.maxFrameBytes) return refuse(this.core, from, 'commandTooLarge', 0);
    const cached = this.cachedEntryFor(message.dedupKey);
    if (cached !== null) return respond({ type: 'appended', index: cached.index, term: cached.term });
    if (this.admissionFailure() !== null || this.core.transfer !== null) return respond({ type: 'busy' });
    const entry = appendAsLeader(this.core, message.command, message.dedupKey);
    if (message.dedupKey !== null) this.rememberDedup(message.dedupKey, entry);
    respond({ type: 'appended', index: entry.index, term: entry.term });
  }

  private rememberDedup(key: DedupKey, entry: LogEntry): void {
    this.core.leaderDedupCache.remember(key, entry.index, entry.term);
  }

  // ---- outside the cluster --------------------------------------------------------------------

  /**
   * A leader answers a request from outside its configuration, so the asker stops waiting. Only
   * a leader's configuration is authoritative: a follower may not have heard of a newcomer yet.
   */
  private tellNotMember(to: NodeId): void {
    if (this.core.role !== 'leader') return;
    send(this.core, to, { type: 'notMember', term: this.core.currentTerm, configIndex: latestConfigIndex(this.core) });
  }

  private handleNotMember(from: NodeId, message: NotMember): void {
    if (!this.core.membership.members.has(from)) return refuse(this.core, from, 'senderNotMember', 0);
    if (!isValidCounter(message.term) || !isValidCounter(message.configIndex)) return refuse(this.core, from, 'outOfRange', 0);
    // A deposed leader's older configuration must not talk a node added since out of the cluster:
    // whoever added it led a term at least as new as the one this node has seen since.
    if (message.term < this.core.currentTerm || this.core.role === 'leader') return;
    // Only a leader says this, and a term's leader is pinned once heard: another member claiming
    // to speak for that term is disproved (SPEC "Leader authority"). A faulty follower's notice
    // would otherwise fail this node's proposals and reads and stop it campaigning.
    const pinned = this.core.pinnedLeader;
    if (pinned !== null && pinned.term === message.term && pinned.leaderId !== from) return refuse(this.core, from, 'notMemberNotFromLeader', message.term);
    // A notice overtaken by the configuration that re-admitted this node (frames may arrive out of
    // order) says nothing about now.
    if (this.core.membership.members.has(this.core.id) && latestConfigIndex(this.core) > message.configIndex) return;
    this.core.removalNotice = { from, term: message.term, configIndex: message.configIndex, at: this.core.now };
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
    if (this.core.role === 'leader') return false;
    if (this.core.removalNotice !== null) return true;
    const hearingLeader = this.core.leaderId !== null && this.core.now - this.core.lastLeaderContact < this.core.config.electionTimeoutMinMs;
    return this.core.removedByConfig && !hearingLeader;
  }

  /**
   * Proposals and reads waiting on a leader would wait forever outside the cluster (no leader
   * replicates to this node, or answers it): they fail instead, and the node says so once.
   */
  private settleCallsOutsideCluster(): void {
    const outside = this.outsideCluster();
    if (!outside) return;
    if (!this.core.reportedOutside) {
      this.core.reportedOutside = true;
      const notice = this.core.removalNotice;
      pushMetric(this.core, notice === null ? { type: 'removedFromCluster', toldBy: null, term: this.core.currentTerm, configIndex: latestConfigIndex(this.core) } : { type: 'removedFromCluster', toldBy: notice.from, term: notice.term, configIndex: notice.configIndex });
    }
    for (const forward of this.core.forwards.values()) {
      // A forward never sent is known not to be in the log; one sent may have been appended.
      this.core.outcomes.push({ type: 'failed', proposalId: forward.proposalId, failure: forward.correlationId === 0 ? 'notMember' : 'removedWhileInFlight' });
      this.core.awaited.remove(forward.proposalId);
    }
    this.core.forwards.clear();
    for (const read of this.core.pendingReads.values()) this.core.reads.push({ readId: read.readId, failure: 'notMember' });
    this.core.pendingReads.clear();
  }

  private handleForwardResponse(from: NodeId, message: ForwardProposeResponse): void {
    const forward = this.core.forwards.findByCorrelation(message.correlationId);
    // A nonce is honoured only from the peer it was sent to (SPEC "Untrusted peers").
    if (forward === undefined || forward.sentTo !== from || forward.appended !== null) return;
    const outcome = message.outcome;
    switch (outcome.type) {
      case 'appended': {
        const verdict = this.forwardAnswerVerdict(from, forward, outcome.index, outcome.term);
        if (verdict === 'ignore') return;
        if (verdict !== 'accept') return refuse(this.core, from, verdict, 0);
        forward.appended = { index: outcome.index, term: outcome.term };
        // Accepted by the leader: the proposer reports it as a leader's own proposals are, so
        // proposeAccepted comes with every proposal, whichever role this node holds.
        if (this.core.reportAcceptance) this.core.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: outcome.index });
        const item: AwaitedProposal = { proposalId: forward.proposalId, term: outcome.term, local: false };
        // Already outlived (a later term committed below it while the answer travelled): the
        // sweep for this committed term is past, so it is settled here, or it would wait forever.
        if (outcome.index > this.core.commitIndex && outcome.term < (this.core.log.termAt(this.core.commitIndex) ?? 0)) return this.settleLost(item);
        this.awaitExisting(outcome.index, item);
        return;
      }
      case 'notLeader':
        if (this.core.leaderId === from) this.core.leaderId = null;
        forward.sentTo = null;
        return;
      case 'busy':
        // Retried by the next tick after a heartbeat interval. A busy leader answered at once, so
        // this says nothing about lost frames: the backoff starts over.
        forward.retryAfterMs = this.core.config.electionTimeoutMaxMs;
        forward.sentAt = this.core.now - forward.retryAfterMs + this.core.config.heartbeatIntervalMs;
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
    const fromPinnedLeader = this.core.pinnedLeader?.term === term && this.core.pinnedLeader.leaderId === from;
    if (term > this.core.currentTerm || (term === this.core.currentTerm && !fromPinnedLeader)) return 'ignore';
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
    const entry = this.core.log.entryAt(index);
    return forward.dedupKey !== null && entry?.term === term && carriesKey(entry, forward.dedupKey);
  }

  /** A new leader takes over its own pending forwards: they are in its log or get appended. */
  private adoptForwardsAsLeader(): void {
    for (const forward of this.core.forwards.values()) {
      const appended = forward.appended;
      if (appended !== null && this.core.log.termAt(appended.index) === appended.term) {
        this.core.awaited.remove(forward.proposalId);
        this.core.awaited.add(appended.index, { proposalId: forward.proposalId, term: appended.term, local: true });
        continue;
      }
      if (appended !== null) this.core.awaited.remove(forward.proposalId);
      // Appended by an earlier leader whose answer never came: our log holds it (see rememberInheritedDedupKeys).
      const inherited = this.cachedEntryFor(forward.dedupKey);
      if (inherited !== null) {
        if (this.core.reportAcceptance && appended === null) this.core.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: inherited.index });
        this.awaitExisting(inherited.index, { proposalId: forward.proposalId, term: inherited.term, local: true });
        continue;
      }
      const entry = appendAsLeader(this.core, forward.command, forward.dedupKey);
      // First accepted now (one held through a transfer, or never answered): reported once.
      if (this.core.reportAcceptance && appended === null) this.core.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: entry.index });
      this.core.awaited.add(entry.index, { proposalId: forward.proposalId, term: entry.term, local: true });
    }
    this.core.forwards.clear();
  }

  /** Completes proposals whose index is now applicable: committed if the term matches, else retried. */
  private resolveAwaited(): void {
    for (const group of this.core.awaited.takeApplicable(applicableIndex(this.core))) this.settleAwaited(group.index, group.waiting);
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
    const committedTerm = this.core.log.termAt(this.core.commitIndex) ?? 0;
    if (committedTerm <= this.core.outlivedCheckedTerm) return;
    this.core.outlivedCheckedTerm = committedTerm;
    for (const group of this.core.awaited.takeOutlived(this.core.commitIndex, committedTerm)) {
      for (const item of group.waiting) this.settleLost(item);
    }
  }

  private checkAwaitedAt(index: number): void {
    if (index > applicableIndex(this.core)) return;
    const waiting = this.core.awaited.take(index);
    if (waiting !== undefined) this.settleAwaited(index, waiting);
  }

  private settleAwaited(index: number, waiting: readonly AwaitedProposal[]): void {
    const entry = this.core.log.entryAt(index);
    for (const item of waiting) {
      if (entry !== undefined && entry.term === item.term) {
        this.core.forwards.delete(item.proposalId);
        this.core.outcomes.push({ type: 'committed', proposalId: item.proposalId, entry });
        continue;
      }
      const forward = this.core.forwards.get(item.proposalId);
      if (forward !== undefined && entry === undefined && index <= this.core.log.floorIndex) {
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
        this.core.forwards.delete(item.proposalId);
        if (this.core.log.termAt(this.core.log.floorIndex) === item.term) {
          const rebuilt: LogEntry = { index, term: item.term, command: forward.command, isNoOp: false, ...(forward.dedupKey === null ? {} : { dedupKey: forward.dedupKey }) };
          this.core.outcomes.push({ type: 'committed', proposalId: item.proposalId, entry: rebuilt });
        } else {
          this.core.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
        }
        continue;
      }
      this.settleLost(item);
    }
  }

  /** A proposal whose entry is lost to a leader change. */
  private settleLost(item: AwaitedProposal): void {
    const forward = this.core.forwards.get(item.proposalId);
    if (forward !== undefined) {
      // Forward again under the same dedup key (safe to retry).
      forward.appended = null;
      this.sendForward(forward);
    } else {
      this.core.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
    }
  }
}

