// The deterministic Raft state machine. Inputs arrive as method calls carrying the current clock
// reading; everything the outside world must do comes back through takeReady(). No timers, no
// I/O, no awaits: the driver owns time, storage and transport.
//
// The engine's mutable state is one CoreState object (core-state.ts), created in one literal so
// its shape never changes, and each concept of the engine is a module of functions taking it:
// term-rules, roles, elections, follower-replication, leader-replication, snapshots,
// membership-change, leadership-transfer, linearizable-reads, leader-proposals,
// proposal-forwarding, proposal-completion and outside-cluster. All of them build on a small
// foundation (core-output: messages, metrics, trace and the ready; core-time; membership-state:
// the configuration in force; log-writes), and none imports another concept: the concepts call
// each other in circles (a leader that sees a newer term becomes a follower, and a new leader
// sends appends), so what a module needs of another it names in a host interface of its own
// and reaches through `core.host`. This file is the only one that imports every module: it wires
// the one host object that serves them all. Imports point one way, every module's host lists
// what it depends on, and the hot path (propose, append, answer, commit) stays direct calls
// within its module. RaftCore keeps the public surface: the inputs, the observable state, and
// the dispatch of each message to its concept.
import { assert, assertUnreachable } from './assert.ts';
import { collectReady, emitTrace, pushMetric, refuse } from './core-output.ts';
import { applicableIndex, type CoreState, createCoreState, type RaftCoreOptions } from './core-state.ts';
import { advanceClock, resetElectionTimer } from './core-time.ts';
import { type CatchUpHost, handleCatchUpEntries } from './catch-up.ts';
import { type ElectionsHost, handleRequestVote, handleTimeoutNow, handleVoteResponse, probeForLeader } from './elections.ts';
import { handleAppendEntries } from './follower-replication.ts';
import { heldAnswerDeadline, releaseHeldAnswer } from './held-answers.ts';
import { cachedEntryFor, handleForwardPropose, type LeaderProposalsHost, propose, rememberDedup, rememberInheritedDedupKeys } from './leader-proposals.ts';
import { flushAppends, handleAppendResponse, leaderHeartbeat, type LeaderReplicationHost, maybeAdvanceCommit, sendAppend, sendFarewell, sendHeartbeat } from './leader-replication.ts';
import { abandonTransfer, abandonTransferCall, advanceTransfer, cancelTransfer, type LeadershipTransferHost, transferLeadership } from './leadership-transfer.ts';
import { abandonRead, acknowledgeReadRound, handBackReads, handleReadIndexRequest, handleReadIndexResponse, type LinearizableReadsHost, requestRead, sendReadRequest, startReadRound } from './linearizable-reads.ts';
import { advanceMembershipChange, changeMembership, type MembershipChangeHost } from './membership-change.ts';
import { computeRemovedByConfig, findLatestConfigEntry, isVoter, latestConfigPayload, mayCampaignAsOutgoingVoter } from './membership-state.ts';
import type { ForwardPropose, ForwardProposeResponse, NotMember, RaftMessage } from './messages.ts';
import { ageRemovalNotice, handleNotMember, outsideCluster, settleCallsOutsideCluster, tellNotMember } from './outside-cluster.ts';
import { awaitExisting, type ProposalCompletionHost, resolveAwaited, settleLost } from './proposal-completion.ts';
import { adoptForwardsAsLeader, handleForwardResponse, type ProposalForwardingHost, retryForwards, sendForward } from './proposal-forwarding.ts';
import { createMembership } from './quorum.ts';
import type { ProposalFailure, ProposalOutcome, Ready } from './ready.ts';
import { becomeFollower, becomeLeader, type RolesHost, startElection, startPreVote } from './roles.ts';
import { beginSnapshotTransfer, dropAbandonedReassembly, handleInstallSnapshot, handleSnapshotResponse, pacedSnapshotDeadline, publishSnapshot, resumeHeldCompaction, sendPacedSnapshotChunks, sendSnapshotChunks, type SnapshotsHost } from './snapshots.ts';
import { acceptAnswerSender, acceptLeaderFrame, stepDownOnHigherTerm, type TermRulesHost } from './term-rules.ts';
import { type ClusterConfig, type ConfigPayload, type DedupKey, isValidCounter, type LogEntry, maxLogIndex, type NodeId, type RaftRole } from './types.ts';

export type { RaftCoreOptions } from './core-state.ts';

/** Every concept module's host interface: the one host object below serves them all. */
type EngineHost = CatchUpHost & ElectionsHost & LeaderProposalsHost & LeaderReplicationHost & LeadershipTransferHost & LinearizableReadsHost & MembershipChangeHost & ProposalCompletionHost & ProposalForwardingHost & RolesHost & SnapshotsHost & TermRulesHost;

export class RaftCore {
  readonly id: NodeId;
  private readonly core: CoreState<EngineHost>;

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    // Each operation a module reaches through `core.host` is the function of the module that owns
    // it, on this node's state (the closures run only once `core` exists, after construction).
    const host: EngineHost = {
      acknowledgeReadRound: (from, round) => acknowledgeReadRound(core, from, round),
      adoptForwardsAsLeader: () => adoptForwardsAsLeader(core),
      advanceMembershipChange: () => advanceMembershipChange(core),
      advanceTransfer: () => advanceTransfer(core),
      awaitExisting: (index, item) => awaitExisting(core, index, item),
      becomeFollower: (term, leader, reason) => becomeFollower(core, term, leader, reason),
      becomeLeader: () => becomeLeader(core),
      beginSnapshotTransfer: (progress) => beginSnapshotTransfer(core, progress),
      cachedEntryFor: (dedupKey, command) => cachedEntryFor(core, dedupKey, command),
      changeMembership: (now, changeId, target) => changeMembership(core, now, changeId, target),
      handBackReads: () => handBackReads(core),
      maybeAdvanceCommit: () => maybeAdvanceCommit(core),
      outsideCluster: () => outsideCluster(core),
      rememberDedup: (key, entry) => rememberDedup(core, key, entry),
      rememberInheritedDedupKeys: () => rememberInheritedDedupKeys(core),
      retryForwards: () => retryForwards(core),
      sendAppend: (peer) => sendAppend(core, peer),
      sendForward: (forward) => sendForward(core, forward),
      sendHeartbeat: (peer, progress) => sendHeartbeat(core, peer, progress),
      sendFarewell: (peer, progress) => sendFarewell(core, peer, progress),
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
  /**
   * The snapshot the log is compacted behind, from the moment it is (a leader's install is taken
   * inside receive(), before the driver sees the ready that stores it), or null.
   */
  get latestSnapshot(): { readonly throughIndex: number; readonly state: Uint8Array } | null {
    const snapshot = this.core.snapshot;
    return snapshot === null ? null : { throughIndex: snapshot.meta.lastIncludedIndex, state: snapshot.state };
  }
  get lastIndex(): number {
    return this.core.log.lastIndex;
  }
  entryAt(index: number): LogEntry | undefined {
    return this.core.log.entryAt(index);
  }
  /**
   * The leader's view of how far each peer's log matches its own (read-only copies; empty unless
   * leading). Room membership policies use it to promote only learners that have caught up. A
   * peer whose latest answer rejected below what it had acknowledged (it lost its log) counts 0:
   * it holds nothing this leader can vouch for (FollowerProgress.rejectsBelowMatch).
   */
  matchIndexes(): ReadonlyMap<NodeId, number> {
    const result = new Map<NodeId, number>();
    if (this.core.role !== 'leader') return result;
    for (const [peer, progress] of this.core.progress) result.set(peer, progress.rejectsBelowMatch ? 0 : progress.matchIndex);
    return result;
  }
  /**
   * The leader's peers that have not answered it within the last election timeout (the longest),
   * or never since it took office or since they joined (empty unless leading). A room's policy
   * drops a learner that stays silent while newcomers wait for its slot. Every peer gets a
   * heartbeat each heartbeat interval, and a learner installing a snapshot answers every chunk,
   * so a live peer is never silent for long; one answer does not keep a peer off for good.
   */
  silentPeers(): ReadonlySet<NodeId> {
    const result = new Set<NodeId>();
    if (this.core.role !== 'leader') return result;
    const window = this.core.config.electionTimeoutMaxMs;
    for (const [peer, progress] of this.core.progress) if (!progress.answered || this.core.now - progress.lastResponseAt >= window) result.add(peer);
    return result;
  }
  termAt(index: number): number | undefined {
    return this.core.log.termAt(index);
  }

  /** The earliest clock reading at which tick() has work to do. */
  nextDeadline(): number {
    const core = this.core;
    // Due in any role: a transfer's timeout, the commit index's own write (collectReady), and a
    // held answer (held-answers.ts; it goes only if the node still follows in that term).
    const anyRoleDeadline = Math.min(core.transfer?.deadline ?? Number.POSITIVE_INFINITY, core.commitWriteDeadline, heldAnswerDeadline(core));
    if (core.role === 'leader') return Math.min(core.heartbeatDeadline, anyRoleDeadline, pacedSnapshotDeadline(core));
    // A learner of its own configuration wakes at its election deadline too, to ask who leads
    // (probeForLeader); one outside its configuration has nothing to do then.
    let deadline = core.role === 'learner' && !mayCampaignAsOutgoingVoter(core) && !core.membership.members.has(core.id) ? Number.POSITIVE_INFINITY : core.electionDeadline;
    if (core.forwards.size > 0 || core.pendingReads.size > 0) deadline = Math.min(deadline, core.now + core.config.heartbeatIntervalMs);
    return Math.min(deadline, anyRoleDeadline);
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(now: number): void {
    const core = this.core;
    advanceClock(core, now);
    if (now >= core.commitWriteDeadline) {
      core.commitWriteDeadline = Number.POSITIVE_INFINITY;
      core.commitWriteDue = true;
    }
    if (core.transfer !== null && now >= core.transfer.deadline) abandonTransfer(core, 'timeout');
    releaseHeldAnswer(core);
    if (core.role === 'leader') {
      if (now >= core.heartbeatDeadline) leaderHeartbeat(core);
      sendPacedSnapshotChunks(core);
      return;
    }
    ageRemovalNotice(core);
    retryForwards(core);
    // A witness never campaigns: it only votes for and acknowledges the others. Nor does a node a
    // leader has told it is outside the cluster (its campaigns would only be refused), unless
    // its own log still lets it campaign as an outgoing voter (the configuration removing it is
    // uncommitted), nor a learner. Their timer restarts, so their next deadline is always in the
    // future; a learner outside its own configuration (removed, or waiting to be admitted) has
    // none. Each time it runs out, no leader frame accepted for an election timeout, a witness or
    // a learner of its configuration asks the voters it knows who leads (probeForLeader); a node
    // told it is outside asks only as its notice ages (ageRemovalNotice, above).
    const toldOutside = core.removalNotice !== null && !mayCampaignAsOutgoingVoter(core);
    const learnerOfItsConfig = core.role === 'learner' && !mayCampaignAsOutgoingVoter(core) && core.membership.members.has(core.id);
    if ((core.config.witness || toldOutside || learnerOfItsConfig) && now >= core.electionDeadline) {
      resetElectionTimer(core);
      if (!toldOutside) probeForLeader(core);
    }
    if ((core.role !== 'learner' || mayCampaignAsOutgoingVoter(core)) && !core.config.witness && now >= core.electionDeadline) {
      if (core.role === 'candidate' || core.preCandidate) pushMetric(core, { type: 'electionTimedOut', term: core.currentTerm });
      emitTrace(core, { type: 'timeout' });
      startPreVote(core);
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

  /**
   * The application's state through `throughIndex`: store it and compact the log behind it.
   * False when it is not newer than the snapshot or the floor this node has (nothing changes).
   */
  publishSnapshot(now: number, throughIndex: number, state: Uint8Array): boolean {
    return publishSnapshot(this.core, now, throughIndex, state);
  }

  /** The driver finished writing a ready: its entries (through lastIndex at lastTerm) are durable. */
  persisted(now: number, lastEntry: { index: number; term: number } | null, snapshotIndex = 0): void {
    const core = this.core;
    advanceClock(core, now);
    assert(core.writesInFlight > 0, 'persisted() without a write in flight');
    core.writesInFlight -= 1;
    core.writesPersisted += 1;
    // An installed snapshot stands for every entry through its index once it is durable.
    if (snapshotIndex > core.persistedIndex && snapshotIndex <= core.log.floorIndex) core.persistedIndex = snapshotIndex;
    if (lastEntry !== null && core.log.termAt(lastEntry.index) === lastEntry.term && lastEntry.index > core.persistedIndex) {
      core.persistedIndex = lastEntry.index;
    }
    if (core.role === 'leader') maybeAdvanceCommit(core);
  }

  receive(now: number, from: NodeId, message: RaftMessage): void {
    advanceClock(this.core, now);
    if (from === this.core.id) {
      // Counted like every other refusal (SPEC "Undecodable or unknown frames"), never as a wedge.
      refuse(this.core, from, 'senderIsSelf', 0, false);
      return;
    }
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
    resumeHeldCompaction(this.core);
    dropAbandonedReassembly(this.core);
    return collectReady(this.core);
  }

  /** Fails every proposal still tracked (the node is closing). */
  failAll(failure: ProposalFailure): ProposalOutcome[] {
    const core = this.core;
    const failed: ProposalOutcome[] = [];
    const ids = new Set<number>(core.forwards.keys());
    for (const proposalId of core.awaited.proposalIds()) ids.add(proposalId);
    for (const proposalId of ids) failed.push({ type: 'failed', proposalId, failure });
    core.forwards.clear();
    core.awaited.clear();
    core.pendingReads.clear();
    core.readTracker.drain();
    return failed;
  }

  // ---- dispatch -------------------------------------------------------------------------------

  private receiveTermed(from: NodeId, message: Exclude<RaftMessage, ForwardPropose | ForwardProposeResponse | { type: 'readIndexRequest' } | { type: 'readIndexResponse' } | NotMember>): void {
    const core = this.core;
    if (!isValidCounter(message.term)) {
      refuse(core, from, 'outOfRange', 0);
      return;
    }
    const isResponse = message.type === 'requestVoteResponse' || message.type === 'appendEntriesResponse' || message.type === 'installSnapshotResponse';
    if (message.term > core.currentTerm + core.config.maxTermJump) {
      // An answer to this node's own request is not a frame it needs to make progress: the leader's
      // frames are (or, with no leader, a candidate's), and those report the wedge. Counted, a node
      // whose pre-votes each voter denied from a term too far ahead reported a wedge per voter,
      // where SPEC says once, naming the sender.
      refuse(core, from, 'termJump', message.term, !isResponse);
      return;
    }
    if (isResponse && !acceptAnswerSender(core, from, message.term)) return;
    switch (message.type) {
      case 'requestVote':
        // Every campaign is for a term above 0: a vote given in term 0 would be stored where no
        // election is held, and restore refuses that state (restore.ts).
        if (message.term === 0) {
          refuse(core, from, 'outOfRange', 0);
          return;
        }
        handleRequestVote(core, from, message);
        return;
      case 'requestVoteResponse':
        handleVoteResponse(core, from, message);
        return;
      case 'appendEntries':
        if (!acceptLeaderFrame(core, from, message.term)) return;
        handleAppendEntries(core, from, message);
        return;
      case 'appendEntriesResponse':
        if (stepDownOnHigherTerm(core, message.term)) return;
        if (message.term === core.currentTerm) handleAppendResponse(core, from, message);
        return;
      case 'timeoutNow':
        handleTimeoutNow(core, from, message);
        return;
      case 'installSnapshot':
        if (!acceptLeaderFrame(core, from, message.term)) return;
        if (message.meta.lastIncludedIndex > maxLogIndex) return refuse(core, from, 'outOfRange', message.term);
        handleInstallSnapshot(core, from, message);
        return;
      case 'installSnapshotResponse':
        if (stepDownOnHigherTerm(core, message.term)) return;
        if (message.term === core.currentTerm) handleSnapshotResponse(core, from, message);
        return;
      case 'catchUpEntries':
        handleCatchUpEntries(core, from, message);
        return;
      default:
        assertUnreachable(message);
    }
  }
}
