// Term rules (§5.1): a response carrying a newer term ends this node's leadership or candidacy,
// and a leader's frame is taken only from a voter, and only from the leader pinned for its term.
import { assert } from './assert.ts';
import { refuse, send } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { resetElectionTimer } from './core-time.ts';
import { askWhoLeadsFromOutside } from './leader-question.ts';
import { pinLeader } from './log-writes.ts';
import { isVoter } from './membership-state.ts';
import type { NodeId, StepDownReason } from './types.ts';

/** What the term rules need of the rest of the engine (raft-core.ts wires it). */
export interface TermRulesHost {
  becomeFollower(term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void;
}

/** Responses carrying a newer term end this node's leadership or candidacy. */
export function stepDownOnHigherTerm(core: CoreState<TermRulesHost>, term: number): boolean {
  if (term <= core.currentTerm) return false;
  core.host.becomeFollower(term, null, 'higherTermObserved');
  return true;
}

/**
 * Answers (to AppendEntries, InstallSnapshot and RequestVote) come only from members we asked, and
 * only a voter's answer may move our term. A stranger's "higher term" must not depose us. A member
 * this leader removed answers what it was sent before (and the farewell): expected, so dropped
 * without counting it a stranger.
 *
 * A non-voter's answer carrying a term above ours is refused (`senderNotVoter`) and changes
 * nothing: taken, a learner deposed a healthy leader with one answer of term + 1, and an
 * unsolicited one moved a follower to that term, whose next answer deposed the leader (a review
 * of hostile frames). Nothing needs it. A term exists only once a voter moved to it: a leader in
 * touch with a quorum of its voters hears it from one of them, one that is not steps down
 * through CheckQuorum, and a follower or candidate hears it from the voters it asks and the
 * leaders it follows. The non-voters that honestly hold a newer term learnt it from such a voter:
 * a learner that heard a newer leader, or a voter on its way out that campaigned (it asked the
 * voters of its newest configuration). A node demoted or removed by a joint configuration is a
 * voter of its old half (isVoter, the voters of the newest configuration we hold, both halves
 * while joint), as it is everywhere else in the engine, and a witness is a voter. Not a wedge
 * signal: we need nothing from the answer of a node that cannot vote.
 *
 * One exception, on a leader only (learnerTermAheadLongEnough): a learner whose term is ahead of
 * ours and that keeps answering with it for a whole longest election timeout is taken at its word,
 * no sooner than ten longest election timeouts into a leadership. Such a learner refuses our appends, which carry
 * an older term, and with PreVote a healthy cluster never holds the election that would take it
 * past that term: refused for good, it never caught up (a voter whose campaign no voter joined,
 * then demoted, or removed and admitted again as a learner, as rooms do; a review of this fix).
 * A hostile learner can then depose a leader once per ten timeouts, by answering for a whole
 * timeout, where taking every answer let one frame do it; a stuck learner waits up to ten.
 */
export function acceptAnswerSender(core: CoreState, from: NodeId, term: number): boolean {
  if (!core.membership.members.has(from)) {
    if (!core.departed.has(from)) refuse(core, from, 'senderNotMember', term);
    return false;
  }
  if (term > core.currentTerm && !isVoter(core, from)) {
    if (core.role === 'leader' && learnerTermAheadLongEnough(core)) return true;
    refuse(core, from, 'senderNotVoter', term, false);
    return false;
  }
  return true;
}

/**
 * Records one more answer from a learner whose term is ahead of this leader's; true once such
 * answers have kept coming for a longest election timeout (no gap longer than one), and ten
 * longest timeouts have passed since this node became leader (or last took one).
 */
function learnerTermAheadLongEnough(core: CoreState): boolean {
  const timeoutMs = core.config.electionTimeoutMaxMs;
  const episode = core.learnerTermAhead;
  const continuing = episode !== null && core.now - episode.lastHeardAt <= timeoutMs;
  const since = continuing ? episode.since : core.now;
  core.learnerTermAhead = { since, lastHeardAt: core.now };
  if (core.now - since < timeoutMs || core.now - core.learnerTermTakenAt < 10 * timeoutMs) return false;
  core.learnerTermTakenAt = core.now;
  core.learnerTermAhead = null;
  return true;
}

/**
 * SPEC "Leader authority": a leader frame must come from a voter, be the first leader heard
 * in its term (pinned), and is answered with our term when stale so an old leader steps down.
 * The leader pinned for this very term stays accepted even when the configuration adopted
 * since does not list it: a node catching up appends the leader's older configuration entries
 * one batch at a time, and one that predates the leader's own admission would otherwise make
 * it refuse the rest of the log (a wedge found by the room simulation). A pin is given to a
 * sender that was a voter when first accepted, or to the leader a voter of our configuration
 * named for its term (elections.ts, followVouchedLeader): either way on the word of a voter we
 * already trust with the log, never a stranger's. The candidate we voted for in the frame's term
 * is taken too (our vote went to it, so it leads that term with our help or not at all).
 */
export function acceptLeaderFrame(core: CoreState<TermRulesHost>, from: NodeId, term: number): boolean {
  const pinnedForTerm = core.pinnedLeader !== null && core.pinnedLeader.term === term && core.pinnedLeader.leaderId === from;
  if (!isVoter(core, from) && !pinnedForTerm && !votedForWhileDemoted(core, from, term)) {
    refuse(core, from, 'senderNotVoter', term);
    // Outside our own configuration, a leader replicating to us counts us a member again (we were
    // taken back while away): ask the voters we know who leads (leader-question.ts).
    askWhoLeadsFromOutside(core, term);
    return false;
  }
  if (term < core.currentTerm) {
    send(core, from, { type: 'appendEntriesResponse', term: core.currentTerm, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    return false;
  }
  if (core.pinnedLeader !== null && core.pinnedLeader.term === term && core.pinnedLeader.leaderId !== from) {
    refuse(core, from, 'leaderNotPinned', term);
    return false;
  }
  if (term > core.currentTerm) {
    core.host.becomeFollower(term, from, 'higherTermObserved');
  } else if (core.role !== 'follower' && core.role !== 'learner') {
    assert(core.role !== 'leader', `two leaders in term ${term}: ${core.id} and ${from}`);
    core.host.becomeFollower(term, from, 'appendEntriesFromLeader');
  } else if (core.preCandidate || core.leaderId !== from) {
    core.host.becomeFollower(term, from, 'appendEntriesFromLeader');
  }
  if (core.pinnedLeader === null || core.pinnedLeader.term !== term) pinLeader(core, from);
  core.wedgeDetector.accepted(from);
  // A leader replicates only to members: whatever a notice said, this node is one again, and a
  // later removal is news again.
  core.removalNotice = null;
  core.reportedOutside = false;
  core.lastLeaderContact = core.now;
  resetElectionTimer(core);
  return true;
}

/**
 * The candidate we gave our vote in this very term: a vote goes to a non-voter of ours only when
 * it is a member whose log is ahead with a newer configuration (elections.ts), and having helped
 * elect it we must follow it. Refused, a node behind since a configuration where the leader was a
 * learner voted for it every term and refused its frames every time, and a joint configuration
 * that needed its acknowledgement lost its quorum round after round (5-node simulation seed
 * 581012 with --witnesses 2 --removals --crash-in-snapshot-writes --duration 20000). Members
 * only: the vote gate also answers a pinned sender our configuration no longer holds (a removed
 * leader), and a vote must not let a stranger lead us. And only while the newest configuration
 * we hold makes us no voter (a learner, or a voter on its way out, as that node was: its joint
 * entry demoted it, and the candidate's newer configuration makes it a voter again): the vote
 * rests on the learner's own claim that its log is ahead, and an up-to-date voter taking its
 * frames let a learner lying about its log end rewrite the voter's uncommitted suffix and commit
 * an entry of its making there (a review of this exception).
 */
function votedForWhileDemoted(core: CoreState, from: NodeId, term: number): boolean {
  return term === core.currentTerm && core.votedFor === from && core.membership.members.has(from) && !core.membership.payload.new.voters.includes(core.id);
}
