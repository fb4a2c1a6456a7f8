// The leader a node knows in its current term: the one it follows, or, for a node that hears no
// leader frames by design, the one pinned for the term. Both the answer to a node asking who
// leads and the node its own proposals and reads are sent to.
import type { CoreState } from './core-state.ts';
import type { NodeId } from './types.ts';

/**
 * The leader this node follows (or is) in its current term, as pinned: null when it knows none.
 * A voter campaigning since (leaderId cleared) suspects that leader and names none. A node that
 * does not campaign (outside its own configuration, a learner, a witness) and hears no
 * leader frames (a removed node, or one refusing a leader it was told of) knows the leader a voter
 * of its configuration named (followVouchedLeader), and names that one: the voter whose known
 * voters were all removed asks such nodes (seed 10435 with --removals --duration 20000: learners
 * the cluster had removed knew the leader but named none, and a voter stayed behind). (A removed
 * leader that stepped down is pinned to itself for its last term and names itself: true of that
 * term, and an asker that moved past it asks with a newer term, which sends it asking too. An
 * outgoing voter that lost a campaign and shows as a learner names its pin too: a dead leader
 * named costs the asker at most one election timeout in that term, since a pin does not stop it
 * granting votes or campaigning.) So does a voter of its own configuration that the pinned leader
 * told, lately, it is not a member: removed by a change it has not seen commit, it campaigns, and
 * was the only voter a member away since an older configuration trusted, which then refused the
 * leader for good (seed 200359 with --removals --duration 20000).
 * Named to a node asking who leads (elections.ts), and the target of this node's own forwarded
 * proposals and reads while it follows no leader (forwardingTarget).
 */
export function leaderOfCurrentTerm(core: CoreState): NodeId | null {
  const pinned = core.pinnedLeader;
  if (pinned === null || pinned.term !== core.currentTerm) return null;
  if (core.leaderId === pinned.leaderId) return pinned.leaderId;
  // Told by that very leader, lately, that it is not a member: it hears no frames by design, even
  // as a voter of its own configuration, whose removal it has not seen commit and so campaigns.
  const toldOutsideByIt = core.removalNotice !== null && core.removalNotice.term === pinned.term && core.removalNotice.from === pinned.leaderId;
  const hearsNoFrames = !core.membership.members.has(core.id) || core.role === 'learner' || core.config.witness || toldOutsideByIt;
  return core.leaderId === null && hearsNoFrames && !core.preCandidate && core.role !== 'candidate' ? pinned.leaderId : null;
}

/**
 * Where this node sends its forwarded proposals and read requests: the leader it follows, or,
 * while it follows none, the leader it knows of in its current term (leaderOfCurrentTerm); null
 * when it knows none or leads itself.
 *
 * A removed node that does not campaign learns who leads only from a voter of its configuration
 * (followVouchedLeader), which pins that leader with leaderId null: no leader replicates to a
 * non-member, so none ever becomes the leader it follows. Sending to leaderId alone, its proposals
 * and reads went nowhere and waited for ever, where the leader would have answered the first with
 * notMember and the calls would have failed with NotMemberError (an outside review, 2026-12-07).
 *
 * Why not set leaderId in followVouchedLeader instead: leaderId means "the leader I follow" and
 * is read that way. It is the public `leader` observable, which would then claim a leader this
 * node hears nothing from; a vote is granted only while it is null (handleRequestVote), and a
 * pin does not stop a node voting; with a recent leader contact it counts as a live leader
 * (leaderAlive denials, outsideCluster, catch-up.ts), and a removed node would look inside the
 * cluster; and a leader's first frame steps the node down only while it is someone else
 * (acceptLeaderFrame). Only where requests go changes here.
 *
 * Why only the leader leaderOfCurrentTerm gives: that leader was named by a voter of this node's
 * configuration, or sent it leader frames itself, for the term this node is at, the same trust
 * it gets for its frames (acceptLeaderFrame) and for its notMember notice (handleNotMember). A
 * voter that campaigned since suspects it and sends nothing there. Its answers are checked as any
 * leader's: a nonce only from the node it went to, an appended entry of this term only from the
 * leader pinned for it (forwardAnswerVerdict).
 */
export function forwardingTarget(core: CoreState): NodeId | null {
  const leader = core.leaderId ?? leaderOfCurrentTerm(core);
  return leader === core.id ? null : leader;
}
