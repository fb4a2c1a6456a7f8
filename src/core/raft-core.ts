// The deterministic Raft state machine. Inputs arrive as method calls carrying the current clock
// reading; everything the outside world must do comes back through takeReady(). No timers, no
// I/O, no awaits: the driver owns time, storage and transport.
import { assert, assertUnreachable } from './assert.ts';
import { collectReady, emitTrace, pushMetric, refuse } from './core-output.ts';
import { applicableIndex, type CoreState, createCoreState, type RaftCoreOptions } from './core-state.ts';
import { advanceClock, resetElectionTimer } from './core-time.ts';
import { type ElectionsHost, handleRequestVote, handleTimeoutNow, handleVoteResponse } from './elections.ts';
import { handleAppendEntries } from './follower-replication.ts';
import { cachedEntryFor, handleForwardPropose, type LeaderProposalsHost, propose, rememberInheritedDedupKeys } from './leader-proposals.ts';
import { flushAppends, handleAppendResponse, leaderHeartbeat, type LeaderReplicationHost, maybeAdvanceCommit, sendAppend, sendHeartbeat } from './leader-replication.ts';
import { abandonTransfer, abandonTransferCall, advanceTransfer, cancelTransfer, type LeadershipTransferHost, transferLeadership } from './leadership-transfer.ts';
import { abandonRead, acknowledgeReadRound, handBackReads, handleReadIndexRequest, handleReadIndexResponse, type LinearizableReadsHost, requestRead, sendReadRequest, startReadRound } from './linearizable-reads.ts';
import { advanceMembershipChange, changeMembership, type MembershipChangeHost } from './membership-change.ts';
import { computeRemovedByConfig, findLatestConfigEntry, isVoter, latestConfigPayload, mayCampaignAsOutgoingVoter } from './membership-state.ts';
import type { ForwardPropose, ForwardProposeResponse, NotMember, RaftMessage } from './messages.ts';
import { handleNotMember, outsideCluster, settleCallsOutsideCluster, tellNotMember } from './outside-cluster.ts';
import { awaitExisting, type ProposalCompletionHost, resolveAwaited, settleLost } from './proposal-completion.ts';
import { adoptForwardsAsLeader, handleForwardResponse, type ProposalForwardingHost, retryForwards, sendForward } from './proposal-forwarding.ts';
import { createMembership } from './quorum.ts';
import type { ProposalFailure, ProposalOutcome, Ready } from './ready.ts';
import { becomeFollower, becomeLeader, type RolesHost, startElection, startPreVote } from './roles.ts';
import { beginSnapshotTransfer, handleInstallSnapshot, handleSnapshotResponse, pacedSnapshotDeadline, publishSnapshot, sendPacedSnapshotChunks, sendSnapshotChunks, type SnapshotsHost } from './snapshots.ts';
import { acceptLeaderFrame, stepDownOnHigherTerm, type TermRulesHost } from './term-rules.ts';
import { type ClusterConfig, type ConfigPayload, type DedupKey, isValidCounter, type LogEntry, maxLogIndex, type NodeId, type RaftRole } from './types.ts';

export type { RaftCoreOptions } from './core-state.ts';

type EngineHost = ElectionsHost & LeaderProposalsHost & LeaderReplicationHost & LeadershipTransferHost & LinearizableReadsHost & MembershipChangeHost & ProposalCompletionHost & ProposalForwardingHost & RolesHost & SnapshotsHost & TermRulesHost;

export class RaftCore {
  readonly id: NodeId;
  private readonly core: CoreState<EngineHost>;

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    const host: EngineHost = {
      acknowledgeReadRound: (from, round) => acknowledgeReadRound(core, from, round),
      adoptForwardsAsLeader: () => adoptForwardsAsLeader(core),
      advanceMembershipChange: () => advanceMembershipChange(core),
      advanceTransfer: () => advanceTransfer(core),
      awaitExisting: (index, item) => awaitExisting(core, index, item),
      becomeFollower: (term, leader, reason) => becomeFollower(core, term, leader, reason),
      becomeLeader: () => becomeLeader(core),
      beginSnapshotTransfer: (progress) => beginSnapshotTransfer(core, progress),
      cachedEntryFor: (dedupKey) => cachedEntryFor(core, dedupKey),
      changeMembership: (now, changeId, target) => changeMembership(core, now, changeId, target),
      handBackReads: () => handBackReads(core),
      maybeAdvanceCommit: () => maybeAdvanceCommit(core),
      outsideCluster: () => outsideCluster(core),
      rememberInheritedDedupKeys: () => rememberInheritedDedupKeys(core),
      retryForwards: () => retryForwards(core),
      sendAppend: (peer) => sendAppend(core, peer),
      sendForward: (forward) => sendForward(core, forward),
      sendHeartbeat: (peer, progress) => sendHeartbeat(core, peer, progress),
      sendReadRequest: (read) => sendReadRequest(core, read),
      sendSnapshotChunks: (peer, progress) => sendSnapshotChunks(core, peer, progress),
      settleLost: (item) => settleLost(core, item),
      startElection: (transfer) => startElection(core, transfer),
      startReadRound: () => startReadRound(core),
      stepDownOnHigherTerm: (term) => stepDownOnHigherTerm(core, term),
      tellNotMember: (to) => tellNotMember(core, to),
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
    retryForwards(this.core);
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
    propose(this.core, now, proposalId, command, dedupKey);
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
    requestRead(this.core, now, readId);
  }

  abandonRead(readId: number): void {
    abandonRead(this.core, readId);
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
        handleForwardPropose(this.core, from, message);
        return;
      case 'forwardProposeResponse':
        handleForwardResponse(this.core, from, message);
        return;
      case 'readIndexRequest':
        handleReadIndexRequest(this.core, from, message);
        return;
      case 'readIndexResponse':
        handleReadIndexResponse(this.core, from, message);
        return;
      case 'notMember':
        handleNotMember(this.core, from, message);
        return;
      default:
        this.receiveTermed(from, message);
    }
  }

  takeReady(): Ready | null {
    if (this.core.role === 'leader') {
      startReadRound(this.core);
      flushAppends(this.core);
    }
    resolveAwaited(this.core);
    settleCallsOutsideCluster(this.core);
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

  // ---- snapshots and compaction (§7) ------------------------------------------------------

  /**
   * The application's state through `throughIndex`: store it and compact the log behind it.
   * False when it is not newer than the snapshot or the floor this node has (nothing changes).
   */
  publishSnapshot(now: number, throughIndex: number, state: Uint8Array): boolean {
    return publishSnapshot(this.core, now, throughIndex, state);
  }
}

