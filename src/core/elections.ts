// Elections (§5.2, §5.4.1): granting or denying votes and pre-votes, counting the answers, and
// TimeoutNow, a leader handing leadership over (§3.10).
import { emitTrace, refuse, sendAfterPersist } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { resetElectionTimer } from './core-time.ts';
import { setTerm } from './log-writes.ts';
import { isVoter } from './membership-state.ts';
import type { RequestVote, RequestVoteResponse, TimeoutNow } from './messages.ts';
import { hasQuorum, quorumImpossible } from './quorum.ts';
import type { NodeId, StepDownReason, VoteDenialReason } from './types.ts';

/** What elections need of the rest of the engine (raft-core.ts wires it). */
export interface ElectionsHost {
  becomeFollower(term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void;
  becomeLeader(): void;
  startElection(transfer: boolean): void;
  stepDownOnHigherTerm(term: number): boolean;
  tellNotMember(to: NodeId): void;
}

export function handleRequestVote(core: CoreState<ElectionsHost>, from: NodeId, request: RequestVote): void {
  const deny = (reason: VoteDenialReason): void => {
    emitTrace(core, { type: 'voteDenied', to: from, preVote: request.preVote, reason });
    sendAfterPersist(core, from, { type: 'requestVoteResponse', term: core.currentTerm, preVote: request.preVote, granted: false, denialReason: reason });
  };
  // Only voters of our configuration may campaign: a stranger cannot inflate our term.
  if (!isVoter(core, from)) {
    if (!core.membership.members.has(from)) core.host.tellNotMember(from);
    return refuse(core, from, 'senderNotVoter', request.term);
  }
  if (request.term < core.currentTerm) return deny('staleTerm');
  const leaderAlive = !request.transfer && (core.role === 'leader' || (core.leaderId !== null && core.now - core.lastLeaderContact < core.config.electionTimeoutMinMs));
  if (request.term > core.currentTerm && leaderAlive) return deny('leaderAlive');
  if (!request.preVote && request.term > core.currentTerm) core.host.becomeFollower(request.term, null, 'higherTermObserved');
  const canVote = request.preVote
    ? request.term > core.currentTerm || core.votedFor === from || (core.votedFor === null && core.leaderId === null)
    : core.votedFor === from || (core.votedFor === null && core.leaderId === null);
  if (!canVote) return deny('alreadyVoted');
  const upToDate = request.lastLogTerm > core.log.lastTerm || (request.lastLogTerm === core.log.lastTerm && request.lastLogIndex >= core.log.lastIndex);
  if (!upToDate) return deny('logNotUpToDate');
  if (!request.preVote) {
    setTerm(core, core.currentTerm, from);
    resetElectionTimer(core);
  }
  emitTrace(core, { type: 'voteGranted', to: from, preVote: request.preVote });
  sendAfterPersist(core, from, { type: 'requestVoteResponse', term: request.term, preVote: request.preVote, granted: true, denialReason: null });
}

export function handleVoteResponse(core: CoreState<ElectionsHost>, from: NodeId, response: RequestVoteResponse): void {
  if (response.preVote) {
    if (!response.granted && core.host.stepDownOnHigherTerm(response.term)) return;
    if (!core.preCandidate || !isVoter(core, from)) return;
    if (response.granted && response.term !== core.currentTerm + 1) return;
    recordVote(core, from, response, () => core.host.startElection(false));
    return;
  }
  if (core.host.stepDownOnHigherTerm(response.term)) return;
  // A candidate whose election timed out is pre-voting for the next term, and `votes` holds
  // pre-votes now: a late vote of the old term must not be counted with them. It was, and a
  // node led a term with one real vote and two pre-votes while another won it (seed 10015).
  if (core.role !== 'candidate' || core.preCandidate || response.term !== core.currentTerm || !isVoter(core, from)) return;
  recordVote(core, from, response, () => core.host.becomeLeader());
}

function recordVote(core: CoreState<ElectionsHost>, from: NodeId, response: RequestVoteResponse, onWin: () => void): void {
  if (response.granted && response.preVote) emitTrace(core, { type: 'preVoteGranted', from });
  else if (!response.granted && response.preVote) emitTrace(core, { type: 'preVoteDenied', from, reason: response.denialReason ?? 'unknown' });
  core.votes.set(from, response.granted);
  if (hasQuorum(core.membership, (id) => core.votes.get(id) === true)) {
    onWin();
  } else if (quorumImpossible(core.membership, (id) => core.votes.get(id) === false)) {
    core.host.becomeFollower(core.currentTerm, null, 'electionLost');
  }
}

export function handleTimeoutNow(core: CoreState<ElectionsHost>, from: NodeId, message: TimeoutNow): void {
  if (message.term > core.currentTerm) {
    refuse(core, from, 'timeoutNowTermAhead', message.term);
    return;
  }
  const pinned = core.pinnedLeader;
  if (message.term < core.currentTerm || pinned === null || pinned.term !== core.currentTerm || pinned.leaderId !== from || !isVoter(core, core.id)) {
    refuse(core, from, 'timeoutNowNotFromLeader', message.term);
    return;
  }
  if (core.config.witness) {
    refuse(core, from, 'timeoutNowToWitness', message.term);
    return;
  }
  core.host.startElection(true);
}
