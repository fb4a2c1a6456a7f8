// Elections (§5.2, §5.4.1): granting or denying votes and pre-votes, counting the answers, and
// TimeoutNow, a leader handing leadership over (§3.10).
import { offerCatchUp } from './catch-up.ts';
import { emitTrace, refuse, sendAfterPersist } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { resetElectionTimer } from './core-time.ts';
import { leaderOfCurrentTerm } from './known-leader.ts';
import { askVotersWhoLeads, askWhoLeadsFromOutside } from './leader-question.ts';
import { compareLogEnds } from './log-order.ts';
import { pinLeader, setTerm } from './log-writes.ts';
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
    const leader = leaderOfCurrentTerm(core);
    sendAfterPersist(core, from, { type: 'requestVoteResponse', term: core.currentTerm, preVote: request.preVote, granted: false, denialReason: reason, ...(leader === null ? {} : { leader }) });
    // A witness may hold entries no voter that can lead has: hand them over (catch-up.ts).
    offerCatchUp(core, from, request);
  };
  askWhoLeadsFromOutside(core, request.term);
  // Only voters of our configuration may campaign: a stranger cannot inflate our term. A learner of
  // ours whose log is strictly more up to date than ours may hold the configuration entry that
  // made it a voter, which we lack: it is answered as a voter, by the usual rules (SPEC drops only
  // a non-voter's AppendEntries, InstallSnapshot and TimeoutNow). Refused, a joint configuration
  // whose old half was {n3, n5} could elect nobody: n3 lacked the joint entry and refused the
  // candidates that had it, and n5's log was behind theirs (5-node simulation seed 10572 with
  // --removals --duration 20000, no leader after the heal). Its word is all we have, so it gets no
  // more than that: a claimed last term at or above the term it asks for is a lie (a candidate
  // campaigns above every entry it holds), its transfer flag does not override a live leader
  // (a review showed a learner deposing a healthy leader by claiming both), and its real vote
  // requests move our term or take our vote at most once per two longest election timeouts
  // (nonVoterMayCampaignNow; the pinned leader's too).
  const fromVoter = isVoter(core, from);
  // The leader we pinned (its frames, or a voter of ours naming it) we would take the log from:
  // its campaign is judged by the usual rules, or a voter promoted while we were away, whose
  // configuration does not list the other voter, withholds the vote a two-voter cluster needs
  // (5-node simulation seed 202349 with --removals --duration 20000: no leader after the heal).
  const pinnedSender = core.pinnedLeader !== null && core.pinnedLeader.leaderId === from;
  const member = core.membership.members.has(from);
  const logOrder = compareLogEnds(request.lastLogTerm, request.lastLogIndex, core.log.lastTerm, core.log.lastIndex);
  const aheadWithNewerConfiguration = member && request.lastLogTerm < request.term && logOrder > 0;
  const answeredAsVoter = (pinnedSender || aheadWithNewerConfiguration) && (request.preVote || nonVoterMayCampaignNow(core));
  if (!fromVoter && !answeredAsVoter) {
    if (!member) core.host.tellNotMember(from);
    // A learner of ours asks who leads every election timeout while it follows no one
    // (probeForLeader): refused (traced and counted) but not a wedge of ours, since we need
    // nothing from it. Counted as one, a learner cut off from the leader or a cluster without a
    // leader for 10 timeouts made every voter report wedgeSuspected about its learners.
    // Nor is a pre-vote from outside our configuration: a removed node asks who leads with one
    // (leader-question.ts), and a configuration of ours too old to list a newer leader shows in
    // that leader's refused frames. Counted, removed nodes asking for a removed member that kept
    // campaigning made every live voter report a wedge, and a room then rejoin it under a fresh id.
    refuse(core, from, 'senderNotVoter', request.term, !member && !request.preVote);
    // A learner of ours that campaigns still believes itself a voter: it was away while it was
    // demoted, and if the leader was promoted meanwhile its configuration lists no one who leads,
    // so it refuses the leader's frames and nobody ever answered its campaigns (5-node simulation
    // seed 141020). Name the leader, as any denial does: no vote is given and our term is not
    // touched, and it takes the name only if we are a voter of its own configuration. A node our
    // configuration no longer holds is told too: it may ask for a member that trusts only it
    // (leader-question.ts), and a leader names itself there as its frame would.
    const leader = leaderOfCurrentTerm(core);
    if (leader !== null && leader !== from) {
      sendAfterPersist(core, from, { type: 'requestVoteResponse', term: core.currentTerm, preVote: request.preVote, granted: false, denialReason: 'leaderAlive', leader });
    }
    return;
  }
  if (request.term < core.currentTerm) return deny('staleTerm');
  // SPEC: a node that leads, or heard its leader within the minimum election timeout, denies
  // pre-votes and votes as leaderAlive, at its own term too. Checked for requests above our term
  // only, a node back from a partition one term behind, asking a pre-vote at exactly our term,
  // was denied as alreadyVoted by a voter that had voted for no one (a review). A repeated
  // request of the candidate we voted for in this term is answered as before, granted again: the
  // vote is given already, and a duplicate arriving once that candidate leads changes nothing.
  const repeatedRequest = request.term === core.currentTerm && core.votedFor === from;
  const leaderAlive = !repeatedRequest && !(request.transfer && fromVoter) && (core.role === 'leader' || (core.leaderId !== null && core.now - core.lastLeaderContact < core.config.electionTimeoutMinMs));
  if (leaderAlive) return deny('leaderAlive');
  if (!request.preVote && request.term > core.currentTerm) {
    core.host.becomeFollower(request.term, null, 'higherTermObserved');
    if (!fromVoter) core.nonVoterCampaignHeardAt = core.now;
  }
  const canVote = request.preVote
    ? request.term > core.currentTerm || core.votedFor === from || (core.votedFor === null && core.leaderId === null)
    : core.votedFor === from || (core.votedFor === null && core.leaderId === null);
  // Denied at our own term: alreadyVoted when the vote went to another node; with no vote given,
  // the term has a leader we follow (not heard lately, or the request marks a transfer, which
  // leaderAlive above lets through), and a second leader of a term is what the denial prevents.
  if (!canVote) return deny(core.votedFor === null ? 'leaderAlive' : 'alreadyVoted');
  if (logOrder < 0) return deny('logNotUpToDate');
  if (!request.preVote) {
    setTerm(core, core.currentTerm, from);
    resetElectionTimer(core);
    if (!fromVoter) core.nonVoterCampaignHeardAt = core.now;
  }
  emitTrace(core, { type: 'voteGranted', to: from, preVote: request.preVote });
  sendAfterPersist(core, from, { type: 'requestVoteResponse', term: request.term, preVote: request.preVote, granted: true, denialReason: null });
}

/**
 * Whether a real vote request from a non-voter of ours (the leader we pinned, or a learner whose
 * log is ahead: handleRequestVote) may be answered by the usual rules now: not within two longest
 * election timeouts of the last one that moved our term or took our vote. Unbounded, a learner
 * claiming a log ahead kept a leaderless cluster leaderless with a request for each voter's term
 * + 1 a little faster than an election timeout: every voter took its term, gave it the vote and
 * restarted its election timer, and none ever campaigned to the end (a review of hostile frames).
 *
 * Why a bound, and not the other ways out the review offered. Not restarting the election timer
 * when granting is not enough: taking the newer term restarts it too (becomeFollower), and even
 * kept, a vote given in a term is gone for that term, so requests for a term ahead of each voter
 * overtake every campaign before its answers come back. Asking for the pre-vote first costs a
 * hostile sender one more frame. Answering as a pre-vote only strands the node seed 10572 needs:
 * a learner of ours that a newer configuration, which we lack, made a voter, and whose campaign
 * needs our real vote (the old half of a joint configuration). That node campaigns once per
 * election timeout and wins at its first campaign our vote completes; waiting twice the longest
 * timeout between votes delays it, never strands it. A voter whose timer such a vote restarted
 * runs out within one longest timeout and campaigns, and the non-voter cannot move its term or
 * vote again before that campaign has run (answers take a round trip, far shorter than a timeout).
 * Pre-votes change nothing and are answered as before.
 */
function nonVoterMayCampaignNow(core: CoreState<ElectionsHost>): boolean {
  return core.now - core.nonVoterCampaignHeardAt >= 2 * core.config.electionTimeoutMaxMs;
}

/**
 * A voter of this node's configuration denied its (pre-)vote and named the leader it follows in
 * its term, no older than ours: pin that leader for that term, as if its first frame had come. A node away while a learner was promoted, and that learner then led, refused every
 * frame of the leader its configuration does not list (senderNotVoter) and never caught up, the
 * voters it knows denying it an election (leaderAlive): a voter short for good, and a cluster
 * stuck once it needed that vote (a 5-node simulation seed). The leader pinned for the current
 * term is accepted whatever the configuration says (acceptLeaderFrame), and its log brings the
 * configuration that admitted it. Trusting a voter's word about its own term's leader is the
 * trust SPEC already gives voters: only a voter that lies in well-formed ways can mislead it.
 */
function followVouchedLeader(core: CoreState<ElectionsHost>, from: NodeId, response: RequestVoteResponse): boolean {
  const leader = response.leader;
  if (leader === undefined || response.granted) return false;
  if (!isVoter(core, from) || leader === core.id || response.term < core.currentTerm) return false;
  if (core.pinnedLeader !== null && core.pinnedLeader.term >= response.term) return false;
  core.host.becomeFollower(response.term, null, response.term > core.currentTerm ? 'higherTermObserved' : 'electionLost');
  pinLeader(core, leader);
  return true;
}

/**
 * A node that never campaigns (a learner of its configuration, or a witness) and whose election
 * timer ran out, so that it accepted no leader frame for an election timeout, asks the voters of
 * its configuration who leads: a pre-vote for the next term, as a campaign would start with, but
 * never followed by an election. A node away while the leader was promoted refuses that leader's
 * frames for good (senderNotVoter) and, campaigning never, was never told otherwise
 * (followVouchedLeader): it followed no one until its wedge detector fired, and then only a
 * fresh id brought it back.
 *
 * Why a pre-vote and nothing new on the wire: answering one changes nobody's term, vote or
 * election timer (handleRequestVote), so a probe cannot depose a leader or delay an election. A
 * voter that knows its term's leader denies it (leaderAlive, staleTerm or alreadyVoted) and names
 * that leader; a voter that knows none may grant it, which says nothing and is dropped
 * (handleVoteResponse counts grants only while pre-campaigning, which this node is not and, for
 * a witness, never is; a grant's newer term is not adopted either). A voter that has this node
 * as a learner answers as it answers a learner campaigning (handleRequestVote). No state changes
 * here, so no trace event (SPEC: one per state transition; `preVoteStarted` would tell a trace
 * checker a campaign began); the answers and what follows from them are traced where handled.
 * The caller runs it once per election timeout, and not for a node outside its own configuration
 * or one a leader lately told it is outside the cluster: those do not ask on this timer. One
 * outside its configuration asks when a member of it counts on it instead (leader-question.ts);
 * one told it is outside asks when its notice grows an election timeout old, to learn whether its
 * teller still leads (outside-cluster.ts, ageRemovalNotice).
 */
export function probeForLeader(core: CoreState<ElectionsHost>): void {
  if (!core.membership.members.has(core.id) || core.removalNotice !== null || core.role === 'leader' || core.role === 'candidate' || core.preCandidate) return;
  askVotersWhoLeads(core);
}

export function handleVoteResponse(core: CoreState<ElectionsHost>, from: NodeId, response: RequestVoteResponse): void {
  if (followVouchedLeader(core, from, response)) return;
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
