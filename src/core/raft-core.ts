// The deterministic Raft state machine. Inputs arrive as method calls carrying the current clock
// reading; everything the outside world must do comes back through takeReady(). No timers, no
// I/O, no awaits: the driver owns time, storage and transport.
import { assert, assertUnreachable } from './assert.ts';
import { dedupWindowSize } from './client-session-format.ts';
import { sameConfig, sameMembers } from './config-compare.ts';
import { collectReady, emitTrace, pushMetric, refuse, send, sendAfterPersist } from './core-output.ts';
import { applicableIndex, type CoreState, createCoreState, frameOverheadBytes, leaderDedupCacheSize, type PendingForward, type PendingRead, type RaftCoreOptions } from './core-state.ts';
import { advanceClock, resetElectionTimer } from './core-time.ts';
import { type ElectionsHost, handleRequestVote, handleTimeoutNow, handleVoteResponse } from './elections.ts';
import { commandEntrySizeBound, encodedSizeBound } from './entry-size.ts';
import type { RefusalReason } from './events.ts';
import { handleAppendEntries } from './follower-replication.ts';
import { type CachedAppend, carriesKey } from './leader-dedup-cache.ts';
import { appendAsLeader, appendConfig, truncateLog } from './log-writes.ts';
import { adoptMembership, computeRemovedByConfig, configAt, findLatestConfigEntry, isVoter, latestConfigIndex, latestConfigPayload, mayCampaignAsOutgoingVoter } from './membership-state.ts';
import type { AppendEntriesResponse, ForwardPropose, ForwardProposeResponse, InstallSnapshot, InstallSnapshotResponse, NotMember, RaftMessage, ReadIndexRequest, ReadIndexResponse } from './messages.ts';
import { becomeProbe, type FollowerProgress, releaseInflight } from './progress.ts';
import type { AwaitedProposal } from './proposal-waiters.ts';
import { createMembership, hasQuorum, quorumValue } from './quorum.ts';
import type { ReadRequester } from './read-index.ts';
import type { MembershipFailure, ProposalFailure, ProposalOutcome, Ready } from './ready.ts';
import { becomeFollower, becomeLeader, type RolesHost, startElection, startPreVote } from './roles.ts';
import { acceptChunk } from './snapshot-reassembly.ts';
import { acknowledgeSnapshotOffset, beginSnapshotStream, nextSnapshotChunks, resendStalledSnapshot, snapshotChunkDueAt } from './snapshot-sender.ts';
import { acceptLeaderFrame, stepDownOnHigherTerm, type TermRulesHost } from './term-rules.ts';
import { type ClusterConfig, type ConfigPayload, type DedupKey, isValidCounter, type LogEntry, maxLogIndex, type NodeId, type RaftRole, type SnapshotMeta, type TransferAbandonReason } from './types.ts';

export type { RaftCoreOptions } from './core-state.ts';

/**
 * A forward unanswered by the same leader is sent again after an election timeout, then after
 * twice as long each time, up to this many election timeouts. A fixed timeout collapsed a busy
 * cluster: once queueing delay passed it, every pipelined forward was sent twice, which made the
 * queues longer still. A new leader gets every forward at once (they are safe to retry).
 */
const maxForwardBackoffElectionTimeouts = 8;

/** Bytes of entries a probe carries at most (a small frame; see sendAppend). */
const probeAppendBytes = 8 * 1024;
const maxEntriesPerAppend = 50_000;
/** How far back a leader looks for a request its own application proposed again (rare: see retriedLocalEntry). */
const localRetryScanEntries = 4 * dedupWindowSize;
/** Clients whose request ids a leader follows for its own proposals: a node's own identities, re-minted now and then. */
const maxLocalClients = 64;

type EngineHost = ElectionsHost & RolesHost & TermRulesHost;

export class RaftCore {
  readonly id: NodeId;
  private readonly core: CoreState<EngineHost>;

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    const host: EngineHost = {
      adoptForwardsAsLeader: () => this.adoptForwardsAsLeader(),
      becomeFollower: (term, leader, reason) => becomeFollower(core, term, leader, reason),
      becomeLeader: () => becomeLeader(core),
      handBackReads: () => this.handBackReads(),
      rememberInheritedDedupKeys: () => this.rememberInheritedDedupKeys(),
      retryForwards: () => this.retryForwards(),
      sendAppend: (peer) => this.sendAppend(peer),
      startElection: (transfer) => startElection(core, transfer),
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
    if (this.core.role === 'leader') return Math.min(this.core.heartbeatDeadline, transferDeadline, this.pacedSnapshotDeadline());
    let deadline = this.core.role === 'learner' && !mayCampaignAsOutgoingVoter(this.core) ? Number.POSITIVE_INFINITY : this.core.electionDeadline;
    if (this.core.forwards.size > 0 || this.core.pendingReads.size > 0) deadline = Math.min(deadline, this.core.now + this.core.config.heartbeatIntervalMs);
    return Math.min(deadline, transferDeadline);
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(now: number): void {
    advanceClock(this.core, now);
    if (this.core.transfer !== null && now >= this.core.transfer.deadline) this.abandonTransfer('timeout');
    if (this.core.role === 'leader') {
      if (now >= this.core.heartbeatDeadline) this.leaderHeartbeat();
      this.sendPacedSnapshotChunks();
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
    advanceClock(this.core, now);
    const fail = (failure: MembershipFailure): void => {
      this.core.membershipOutcomes.push({ changeId, failure });
    };
    if (this.core.role !== 'leader') return fail('notLeader');
    if (this.core.membershipChange !== null || this.core.heldMembershipChange !== null || latestConfigIndex(this.core) > this.core.commitIndex || this.core.membership.payload.old !== null) return fail('inProgress');
    const current = this.core.membership.payload.new;
    if (sameConfig(current, target)) {
      this.core.membershipOutcomes.push({ changeId, failure: null });
      return;
    }
    if (this.core.transfer !== null) {
      this.core.heldMembershipChange = { changeId, target };
      return;
    }
    // A change that keeps the voters (learners only) needs no joint phase: majorities are unchanged.
    const sameVoters = sameMembers(current.voters, target.voters);
    const payload: ConfigPayload = sameVoters ? { old: null, new: target } : { old: current, new: target };
    const entry = appendConfig(this.core, payload);
    this.core.membershipChange = { changeId, target, awaitingIndex: entry.index, joint: !sameVoters };
  }

  transferLeadership(now: number, transferId: number, target: NodeId): void {
    advanceClock(this.core, now);
    if (this.core.role !== 'leader') {
      this.core.transferOutcomes.push({ transferId, failure: 'notLeader' });
      return;
    }
    if (target === this.core.id) {
      this.core.transferOutcomes.push({ transferId, failure: null });
      return;
    }
    // Asked again for the same target: the transfer in progress goes on, and this call waits on
    // it too (etcd ignores the repeat; cancelling reported a failure while leadership moved).
    if (this.core.transfer !== null && this.core.transfer.target === target) {
      this.core.transfer.transferIds.push(transferId);
      return;
    }
    if (this.core.transfer !== null) this.abandonTransfer('cancelled');
    if (!isVoter(this.core, target) || !this.core.progress.has(target)) {
      this.core.transferOutcomes.push({ transferId, failure: 'notVoter' });
      return;
    }
    this.core.transfer = { transferIds: [transferId], target, deadline: this.core.now + this.core.config.electionTimeoutMaxMs, timeoutSent: false, awaitingNewLeader: false };
    emitTrace(this.core, { type: 'leadershipTransferStarted', target });
    // Entries the target lacks may be lost rather than in flight (it was cut off a moment ago).
    // The replicate state would notice only after an election timeout without progress, the
    // whole time the transfer has, so the target is probed afresh: if they were in flight,
    // their answers move it straight back to replicating.
    const targetProgress = this.core.progress.get(target);
    if (targetProgress?.state === 'replicate' && targetProgress.matchIndex < this.core.log.lastIndex) becomeProbe(targetProgress);
    this.advanceTransfer();
  }

  cancelTransfer(now: number): void {
    advanceClock(this.core, now);
    if (this.core.transfer !== null) this.abandonTransfer('cancelled');
  }

  /** One caller stopped waiting (its signal aborted): the transfer ends when no caller is left. */
  abandonTransferCall(now: number, transferId: number): void {
    advanceClock(this.core, now);
    const transfer = this.core.transfer;
    if (transfer === null || !transfer.transferIds.includes(transferId)) return;
    transfer.transferIds = transfer.transferIds.filter((waiting) => waiting !== transferId);
    if (transfer.transferIds.length === 0) this.abandonTransfer('cancelled');
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
    if (this.core.role === 'leader') this.maybeAdvanceCommit();
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
      this.flushAppends();
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
        if (message.term === this.core.currentTerm) this.handleAppendResponse(from, message);
        return;
      case 'timeoutNow':
        handleTimeoutNow(this.core, from, message);
        return;
      case 'installSnapshot':
        if (!acceptLeaderFrame(this.core, from, message.term)) return;
        if (message.meta.lastIncludedIndex > maxLogIndex) return refuse(this.core, from, 'outOfRange', message.term);
        this.handleInstallSnapshot(from, message);
        return;
      case 'installSnapshotResponse':
        if (stepDownOnHigherTerm(this.core, message.term)) return;
        if (message.term === this.core.currentTerm) this.handleSnapshotResponse(from, message);
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

  // ---- replication: leader side -------------------------------------------------------------

  private handleAppendResponse(from: NodeId, response: AppendEntriesResponse): void {
    if (this.core.role !== 'leader') return;
    const progress = this.core.progress.get(from);
    if (progress === undefined) {
      refuse(this.core, from, 'unexpectedResponse', response.term);
      return;
    }
    progress.lastResponseAt = this.core.now;
    if (response.readRound > 0) this.acknowledgeReadRound(from, response.readRound);
    if (response.success) {
      // A hint is a quantity, not trusted: never beyond what we have sent.
      const matchIndex = Math.min(response.matchIndex, this.core.log.lastIndex);
      // Only an answer at or past the probe's prevLogIndex answers the probe: a heartbeat's
      // answer (sent alongside probes, below) proves the match only at the index it named.
      if (progress.state === 'probe' && matchIndex < progress.nextIndex - 1) {
        if (matchIndex > progress.matchIndex) progress.matchIndex = matchIndex;
        return;
      }
      progress.probeOutstanding = false;
      if (matchIndex > progress.matchIndex) {
        progress.matchIndex = matchIndex;
        progress.lastProgressAt = this.core.now;
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
      if (this.core.transfer?.target === from) this.advanceTransfer();
      return;
    }
    // Heartbeats during a snapshot transfer are refused by a follower that lacks the prefix.
    if (progress.state === 'snapshot') return;
    emitTrace(this.core, { type: 'appendEntriesRejected', from, conflictIndex: response.conflictIndex });
    let nextIndex = response.conflictIndex;
    if (response.conflictTerm > 0) {
      const lastOfTerm = this.core.log.lastIndexOfTerm(response.conflictTerm);
      if (lastOfTerm > 0) nextIndex = lastOfTerm + 1;
    }
    const probeFrom = Math.max(progress.matchIndex + 1, Math.min(nextIndex, this.core.log.lastIndex + 1));
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
    const candidate = quorumValue(this.core.membership, (id) => (id === this.core.id ? this.core.persistedIndex : (this.core.progress.get(id)?.matchIndex ?? 0)));
    // Figure 8: only an entry of the leader's own term commits by counting replicas.
    if (candidate > this.core.commitIndex && this.core.log.termAt(candidate) === this.core.currentTerm) {
      this.core.commitIndex = candidate;
      this.core.commitAdvanced = true;
      emitTrace(this.core, { type: 'advanceCommitIndex', commitIndex: candidate });
      this.startReadRound();
      this.advanceMembershipChange();
    }
  }

  /** Sends what the follower's progress allows: one probe, or a window of pipelined batches. */
  private sendAppend(peer: NodeId): void {
    const progress = this.core.progress.get(peer);
    if (progress === undefined) return;
    if (progress.state !== 'snapshot' && progress.nextIndex <= this.core.log.floorIndex) this.beginSnapshotTransfer(progress);
    if (progress.state === 'snapshot') {
      this.sendSnapshotChunks(peer, progress);
      return;
    }
    if (progress.state === 'probe') {
      if (progress.probeOutstanding && this.core.now - progress.probeSentAt < this.core.config.heartbeatIntervalMs) return;
      progress.probeOutstanding = true;
      progress.probeSentAt = this.core.now;
      // Small: a probe only finds the match point, and it is re-sent every heartbeat until
      // answered; a full-size one re-sent to a slow follower clogged the link it waited on.
      this.sendBatch(peer, progress, Math.min(this.core.replicationBatchBytes, probeAppendBytes));
      return;
    }
    while (progress.inflightLastIndices.length < this.core.config.maxInflightMessages && progress.nextIndex <= this.core.log.lastIndex) {
      const lastSent = this.sendBatch(peer, progress);
      // The stall clock starts when the window goes from empty to busy, not at the last progress.
      if (progress.inflightLastIndices.length === 0) progress.lastProgressAt = this.core.now;
      progress.inflightLastIndices.push(lastSent);
      progress.nextIndex = lastSent + 1;
    }
  }

  /** One AppendEntries from progress.nextIndex, bounded in bytes; returns the last index sent. */
  private sendBatch(peer: NodeId, progress: FollowerProgress, maxBytes = this.core.replicationBatchBytes): number {
    const prevLogIndex = progress.nextIndex - 1;
    const prevLogTerm = this.core.log.termAt(prevLogIndex);
    assert(prevLogTerm !== undefined, `no term for index ${prevLogIndex} (snapshot transfer needed for ${peer})`);
    let bytes = frameOverheadBytes;
    let lastIndex = prevLogIndex;
    while (lastIndex < this.core.log.lastIndex && lastIndex - prevLogIndex < maxEntriesPerAppend) {
      const entry = this.core.log.entryAt(lastIndex + 1) as LogEntry;
      const size = encodedSizeBound(entry);
      if (lastIndex > prevLogIndex && bytes + size > maxBytes) break;
      bytes += size;
      lastIndex += 1;
    }
    const entries = lastIndex > prevLogIndex ? this.core.log.slice(prevLogIndex + 1, lastIndex) : [];
    send(this.core, peer, { type: 'appendEntries', term: this.core.currentTerm, prevLogIndex, prevLogTerm, entries, leaderCommit: this.core.commitIndex, readRound: this.core.readTracker.currentRound });
    progress.sentThisRound = true;
    emitTrace(this.core, { type: 'appendEntries', to: peer, prevLogIndex, count: entries.length });
    return lastIndex;
  }

  private sendHeartbeat(peer: NodeId, progress: FollowerProgress): void {
    const prevLogIndex = Math.max(progress.matchIndex, this.core.log.floorIndex);
    const prevLogTerm = this.core.log.termAt(prevLogIndex) ?? 0;
    send(this.core, peer, { type: 'appendEntries', term: this.core.currentTerm, prevLogIndex, prevLogTerm, entries: [], leaderCommit: this.core.commitIndex, readRound: this.core.readTracker.currentRound });
    progress.sentThisRound = true;
  }

  private leaderHeartbeat(): void {
    this.core.heartbeatDeadline = this.core.now + this.core.config.heartbeatIntervalMs;
    if (this.checkQuorumLost()) return;
    for (const [peer, progress] of this.core.progress) {
      // In-flight entries that made no progress for an election timeout were lost: probe again.
      // (Answers to heartbeats keep arriving meanwhile, so "any answer" would hide the loss
      // forever.) Not sooner: a busy follower's honest answer can take several heartbeats (its
      // strict write waits behind others), and every false alarm re-sent the whole window.
      if (progress.state === 'replicate' && progress.inflightLastIndices.length > 0 && this.core.now - progress.lastProgressAt >= this.core.config.electionTimeoutMaxMs) {
        becomeProbe(progress);
        progress.lastProgressAt = this.core.now;
      }
      resendStalledSnapshot(progress, this.core.now, this.core.snapshotStallBounds);
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
    const lastHeard = quorumValue(this.core.membership, (id) => (id === this.core.id ? this.core.now : (this.core.progress.get(id)?.lastResponseAt ?? Number.NEGATIVE_INFINITY)));
    if (this.core.now - lastHeard < this.core.config.electionTimeoutMaxMs) return false;
    becomeFollower(this.core, this.core.currentTerm, null, 'lostQuorum');
    return true;
  }

  /** Batches proposals made since the last ready into AppendEntries, and spreads commit news. */
  private flushAppends(): void {
    for (const [peer, progress] of this.core.progress) {
      if (progress.state === 'replicate') this.sendAppend(peer);
      if (this.core.commitAdvanced && !progress.sentThisRound && progress.state === 'replicate') this.sendHeartbeat(peer, progress);
      progress.sentThisRound = false;
    }
    this.core.commitAdvanced = false;
  }

  // ---- snapshots and compaction (§7) ------------------------------------------------------

  /**
   * The application's state through `throughIndex`: store it and compact the log behind it.
   * False when it is not newer than the snapshot or the floor this node has (nothing changes).
   */
  publishSnapshot(now: number, throughIndex: number, state: Uint8Array): boolean {
    advanceClock(this.core, now);
    assert(throughIndex <= applicableIndex(this.core), `snapshot through ${throughIndex} is beyond the applied index ${applicableIndex(this.core)}`);
    if (this.core.snapshot !== null && throughIndex <= this.core.snapshot.meta.lastIncludedIndex) return false;
    if (throughIndex <= this.core.log.floorIndex) return false;
    const term = this.core.log.termAt(throughIndex) as number;
    const meta: SnapshotMeta = { lastIncludedIndex: throughIndex, lastIncludedTerm: term, config: configAt(this.core, throughIndex) };
    this.core.snapshot = { meta, state };
    const compactThrough = Math.max(this.core.log.floorIndex, Math.min(throughIndex - this.core.config.snapshotTrailingEntries, this.lowestPendingForwardFloor()));
    this.core.pendingSnapshotWrite = { meta, state, discardLogThrough: compactThrough };
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
    for (const forward of this.core.forwards.values()) lowest = Math.min(lowest, forward.committedBefore);
    return lowest;
  }

  private compactLog(throughIndex: number): void {
    if (throughIndex <= this.core.log.floorIndex) return;
    this.core.snapshotConfig = configAt(this.core, throughIndex);
    this.core.log.compactThrough(throughIndex, this.core.log.termAt(throughIndex) as number);
    emitTrace(this.core, { type: 'compacted', throughIndex });
  }

  private beginSnapshotTransfer(progress: FollowerProgress): void {
    assert(this.core.snapshot !== null, 'a follower needs entries below the floor but no snapshot exists');
    beginSnapshotStream(progress, this.core.snapshot.meta.lastIncludedIndex, this.core.now);
  }

  /** The earliest pacing deadline of the snapshot streams that wait only for it. */
  private pacedSnapshotDeadline(): number {
    if (this.core.snapshot === null) return Number.POSITIVE_INFINITY;
    let deadline = Number.POSITIVE_INFINITY;
    for (const progress of this.core.progress.values()) deadline = Math.min(deadline, snapshotChunkDueAt(progress, this.core.snapshot.state.length, this.core.snapshotPace));
    return deadline;
  }

  private sendPacedSnapshotChunks(): void {
    if (this.core.snapshot === null) return;
    for (const [peer, progress] of this.core.progress) {
      if (snapshotChunkDueAt(progress, this.core.snapshot.state.length, this.core.snapshotPace) <= this.core.now) this.sendSnapshotChunks(peer, progress);
    }
  }

  /** Sends what the follower's snapshot window and pacing allow. */
  private sendSnapshotChunks(peer: NodeId, progress: FollowerProgress): void {
    const snapshot = this.core.snapshot;
    if (snapshot === null) return;
    if (snapshot.meta.lastIncludedIndex !== progress.snapshotIndex) this.beginSnapshotTransfer(progress);
    for (const chunk of nextSnapshotChunks(progress, snapshot.state.length, this.core.snapshotPace, this.core.now)) {
      this.sendSnapshotChunk(peer, snapshot, chunk.offset, snapshot.state.subarray(chunk.offset, chunk.offset + chunk.length));
    }
  }

  private sendSnapshotChunk(peer: NodeId, snapshot: { meta: SnapshotMeta; state: Uint8Array }, offset: number, data: Uint8Array): void {
    if (offset === 0) emitTrace(this.core, { type: 'installSnapshot', to: peer, lastIncludedIndex: snapshot.meta.lastIncludedIndex });
    send(this.core, peer, { type: 'installSnapshot', term: this.core.currentTerm, meta: snapshot.meta, totalBytes: snapshot.state.length, offset, data });
  }

  private handleSnapshotResponse(from: NodeId, response: InstallSnapshotResponse): void {
    const progress = this.core.progress.get(from);
    if (this.core.role !== 'leader' || progress === undefined) return;
    progress.lastResponseAt = this.core.now;
    if (progress.state !== 'snapshot' || response.lastIncludedIndex !== progress.snapshotIndex) return;
    if (response.installed) {
      progress.matchIndex = Math.max(progress.matchIndex, Math.min(response.lastIncludedIndex, this.core.log.lastIndex));
      becomeProbe(progress);
      this.maybeAdvanceCommit();
      this.sendAppend(from);
      return;
    }
    acknowledgeSnapshotOffset(progress, response.nextOffset, this.core.now, this.core.config.heartbeatIntervalMs, this.core.snapshotStallBounds);
    this.sendSnapshotChunks(from, progress);
  }

  private handleInstallSnapshot(from: NodeId, message: InstallSnapshot): void {
    const respond = (nextOffset: number, installed: boolean): void => {
      const response: InstallSnapshotResponse = { type: 'installSnapshotResponse', term: this.core.currentTerm, lastIncludedIndex: message.meta.lastIncludedIndex, nextOffset, installed };
      if (installed) sendAfterPersist(this.core, from, response);
      else send(this.core, from, response);
    };
    if (message.meta.lastIncludedIndex <= this.core.commitIndex) {
      respond(message.totalBytes, true); // already have everything it covers
      return;
    }
    const verdict = acceptChunk(this.core.reassembly, message, this.core.config.snapshotTotalCeilingBytes);
    switch (verdict.type) {
      case 'tooLarge':
        pushMetric(this.core, { type: 'snapshotRejectedSizeCeiling', from, totalBytes: message.totalBytes });
        refuse(this.core, from, 'outOfRange', message.term);
        return;
      case 'invalidMeta':
        refuse(this.core, from, 'outOfRange', message.term);
        return;
      case 'stale':
        return; // the leader no longer streams it: an answer would be dropped there
      case 'progress':
        this.core.reassembly = verdict.reassembly;
        respond(verdict.reassembly.received, false);
        return;
      case 'complete':
        this.core.reassembly = null;
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
    if (this.core.log.termAt(index) !== meta.lastIncludedTerm && this.core.log.lastIndex > this.core.commitIndex) {
      truncateLog(this.core, this.core.commitIndex + 1);
    }
    this.core.log.compactThrough(index, meta.lastIncludedTerm);
    this.core.snapshotConfig = meta.config ?? this.core.snapshotConfig;
    this.core.snapshot = { meta, state };
    this.core.unwrittenEntries = this.core.unwrittenEntries.filter((entry) => entry.index > index);
    this.core.pendingSnapshotWrite = { meta, state, discardLogThrough: index };
    if (index > this.core.commitIndex) this.core.commitIndex = index;
    adoptMembership(this.core, latestConfigPayload(this.core), index);
    emitTrace(this.core, { type: 'installSnapshotAccepted', lastIncludedIndex: index });
  }

  // ---- membership (§6) and leadership transfer (§3.10) --------------------------------------

  /** Runs on every commit advance of a leader: leaves a committed joint config, finishes changes. */
  private advanceMembershipChange(): void {
    if (this.core.role !== 'leader') return;
    const configIndex = latestConfigIndex(this.core);
    if (configIndex > this.core.commitIndex) return;
    const payload = this.core.membership.payload;
    if (payload.old !== null) {
      // C_old,new committed (by us or a previous leader): now C_new alone. Not while handing
      // leadership over: an entry appended once TimeoutNow is out leaves the target's log behind
      // ours, so the voters deny it the election the transfer asked for (logNotUpToDate). The
      // target leaves the joint configuration itself once it leads; an abandoned transfer
      // resumes it here.
      if (this.core.transfer !== null) return;
      const entry = appendConfig(this.core, { old: null, new: payload.new });
      if (this.core.membershipChange !== null) this.core.membershipChange.awaitingIndex = entry.index;
      return;
    }
    for (const peer of [...this.core.progress.keys()]) if (!this.core.membership.members.has(peer)) this.core.progress.delete(peer);
    const change = this.core.membershipChange;
    if (change !== null && configIndex >= change.awaitingIndex) {
      this.core.membershipOutcomes.push({ changeId: change.changeId, failure: null });
      this.core.membershipChange = null;
    }
    if (!isVoter(this.core, this.core.id)) becomeFollower(this.core, this.core.currentTerm, null, 'removedFromConfig');
  }

  /** Sends TimeoutNow once the target's log matches ours. */
  private advanceTransfer(): void {
    const transfer = this.core.transfer;
    if (transfer === null || this.core.role !== 'leader' || transfer.timeoutSent) return;
    const progress = this.core.progress.get(transfer.target);
    if (progress === undefined) {
      this.abandonTransfer('notVoter');
      return;
    }
    if (progress.matchIndex < this.core.log.lastIndex) {
      this.sendAppend(transfer.target);
      return;
    }
    transfer.timeoutSent = true;
    send(this.core, transfer.target, { type: 'timeoutNow', term: this.core.currentTerm });
  }

  private abandonTransfer(reason: TransferAbandonReason): void {
    const transfer = this.core.transfer;
    if (transfer === null) return;
    this.core.transfer = null;
    // A TimeoutNow still waiting in this step's output has not left the node: withdrawn, so an
    // abandoned transfer (cancelTransfer() right after transferLeadership(), say) leaves
    // leadership where it is instead of reporting failure while the target takes over.
    if (transfer.timeoutSent) this.core.messages = this.core.messages.filter((outbound) => outbound.to !== transfer.target || outbound.message.type !== 'timeoutNow');
    emitTrace(this.core, { type: 'leadershipTransferAbandoned', target: transfer.target, reason });
    for (const transferId of transfer.transferIds) this.core.transferOutcomes.push({ transferId, failure: reason });
    // Proposals held while handing over resume here, and so do leaving a joint configuration and
    // a change asked for meanwhile.
    if (this.core.role === 'leader') {
      this.adoptForwardsAsLeader();
      this.advanceMembershipChange();
      const held = this.core.heldMembershipChange;
      this.core.heldMembershipChange = null;
      if (held !== null) this.changeMembership(this.core.now, held.changeId, held.target);
    }
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
    for (const [peer, progress] of this.core.progress) this.sendHeartbeat(peer, progress);
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

