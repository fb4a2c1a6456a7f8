// Role changes: follower (or learner), pre-candidate (§9.6 Pre-Vote), candidate and leader (§5.2),
// and what each change starts, hands back or fails.
import { emitTrace, pushMetric, send, sendAfterPersist } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { resetElectionTimer } from './core-time.ts';
import { appendAsLeader, pinLeader, setTerm } from './log-writes.ts';
import { isVoter, mayCampaignAsOutgoingVoter } from './membership-state.ts';
import type { RequestVote } from './messages.ts';
import { createProgress } from './progress.ts';
import { hasQuorum } from './quorum.ts';
import { ReadIndexTracker } from './read-index.ts';
import type { NodeId, StepDownReason } from './types.ts';

/** What role changes need of the rest of the engine (raft-core.ts wires it). */
export interface RolesHost {
  adoptForwardsAsLeader(): void;
  handBackReads(): void;
  rememberInheritedDedupKeys(): void;
  retryForwards(): void;
  sendAppend(peer: NodeId): void;
}

export function becomeFollower(core: CoreState<RolesHost>, term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void {
  const wasLeader = core.role === 'leader';
  setTerm(core, term, term === core.currentTerm ? core.votedFor : null);
  core.role = isVoter(core, core.id) ? 'follower' : 'learner';
  core.preCandidate = false;
  core.leaderId = leader;
  core.votes.clear();
  core.progress.clear();
  core.departed.clear();
  if (wasLeader) {
    failLocalProposals(core);
    core.host.handBackReads();
    if (core.membershipChange !== null) core.membershipOutcomes.push({ changeId: core.membershipChange.changeId, failure: 'leadershipLost' });
    core.membershipChange = null;
    // Never appended: nothing of it can commit, so the caller learns who leads now.
    if (core.heldMembershipChange !== null) core.membershipOutcomes.push({ changeId: core.heldMembershipChange.changeId, failure: 'notLeader' });
    core.heldMembershipChange = null;
    if (core.transfer !== null) core.transfer.awaitingNewLeader = true;
    // Only a leader consults it, and a leader elected again refills it from its newest log entries
    // (rememberInheritedDedupKeys), so a follower would keep up to 16,384 records, about 2 MiB,
    // for nothing: the memory phase of bench:browser saw the cluster's total grow by that much
    // each time leadership moved to a node that had never led.
    core.leaderDedupCache.clear();
    core.lastAutoEntries.reset(0);
  }
  if (leader !== null) settleOutlivedTransfer(core, leader);
  resetElectionTimer(core);
  emitTrace(core, { type: 'becomeFollower', reason, leader });
  if (leader !== null) core.host.retryForwards();
}

/**
 * A transfer outlives its leader's step-down only to learn who leads next: done if it is the
 * target, failed (leadershipLost) if anyone else, this node included when it wins a later term
 * itself. Left until the deadline instead, that new term's proposals waited for it.
 */
function settleOutlivedTransfer(core: CoreState<RolesHost>, leader: NodeId): void {
  const transfer = core.transfer;
  if (transfer === null || !transfer.awaitingNewLeader) return;
  core.transfer = null;
  const failure = leader === transfer.target ? null : 'leadershipLost';
  for (const transferId of transfer.transferIds) core.transferOutcomes.push({ transferId, failure });
  if (failure !== null) emitTrace(core, { type: 'leadershipTransferAbandoned', target: transfer.target, reason: failure });
}

function failLocalProposals(core: CoreState<RolesHost>): void {
  for (const item of core.awaited.removeLocal()) core.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
}

export function startPreVote(core: CoreState<RolesHost>): void {
  if (!isVoter(core, core.id) && !mayCampaignAsOutgoingVoter(core)) return;
  if (core.currentTerm + 1 > Number.MAX_SAFE_INTEGER) {
    pushMetric(core, { type: 'electionSuppressedTermCeiling', term: core.currentTerm });
    resetElectionTimer(core);
    return;
  }
  core.preCandidate = true;
  core.leaderId = null;
  core.votes.clear();
  core.votes.set(core.id, true);
  resetElectionTimer(core);
  emitTrace(core, { type: 'preVoteStarted' });
  if (hasQuorum(core.membership, (id) => core.votes.get(id) === true)) {
    startElection(core, false);
    return;
  }
  const request: RequestVote = { type: 'requestVote', term: core.currentTerm + 1, lastLogIndex: core.log.lastIndex, lastLogTerm: core.log.lastTerm, preVote: true, transfer: false };
  for (const voter of core.membership.allVoters) if (voter !== core.id) send(core, voter, request);
}

export function startElection(core: CoreState<RolesHost>, transfer: boolean): void {
  core.preCandidate = false;
  core.role = 'candidate';
  core.leaderId = null;
  setTerm(core, core.currentTerm + 1, core.id);
  core.votes.clear();
  core.votes.set(core.id, true);
  core.electionStartedAt = core.now;
  resetElectionTimer(core);
  pushMetric(core, { type: 'electionStarted', term: core.currentTerm });
  emitTrace(core, { type: 'requestVote', transfer });
  if (hasQuorum(core.membership, (id) => core.votes.get(id) === true)) {
    becomeLeader(core);
    return;
  }
  const request: RequestVote = { type: 'requestVote', term: core.currentTerm, lastLogIndex: core.log.lastIndex, lastLogTerm: core.log.lastTerm, preVote: false, transfer };
  for (const voter of core.membership.allVoters) if (voter !== core.id) sendAfterPersist(core, voter, request);
}

export function becomeLeader(core: CoreState<RolesHost>): void {
  core.role = 'leader';
  core.preCandidate = false;
  core.removalNotice = null;
  core.leaderId = core.id;
  pinLeader(core, core.id);
  settleOutlivedTransfer(core, core.id);
  core.progress.clear();
  core.departed.clear();
  // A learner's term ahead of ours is taken no sooner than ten longest timeouts into a leadership:
  // each new leader counting from its own last deposition let a hostile learner depose every
  // leader in turn (term-rules.ts, learnerTermAheadLongEnough).
  core.learnerTermTakenAt = core.now;
  core.learnerTermAhead = null;
  for (const member of core.membership.members) {
    if (member !== core.id) core.progress.set(member, createProgress(core.log.lastIndex + 1, core.now));
  }
  pushMetric(core, { type: 'electionWon', term: core.currentTerm, elapsedMs: core.now - core.electionStartedAt });
  emitTrace(core, { type: 'becomeLeader' });
  core.host.rememberInheritedDedupKeys();
  // §5.4.2: a no-op of the new term lets earlier-term entries commit and reads proceed.
  appendAsLeader(core, new Uint8Array(0), null, true);
  core.host.adoptForwardsAsLeader();
  core.readTracker = new ReadIndexTracker();
  for (const read of core.pendingReads.values()) core.readTracker.enqueue({ type: 'local', readId: read.readId });
  core.pendingReads.clear();
  core.heartbeatDeadline = core.now + core.config.heartbeatIntervalMs;
  for (const peer of core.progress.keys()) core.host.sendAppend(peer);
}
