// Asking who leads. A node that refuses a leader's frames because its configuration does not list
// that leader as a voter learns the leader's name only from a voter of its configuration
// (elections.ts, followVouchedLeader). It gets one by asking: a pre-vote for the next term, which
// changes nobody's term, vote or timer, and which a voter that knows its term's leader denies
// naming that leader.
import { send } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import type { RequestVote } from './messages.ts';
import type { NodeId } from './types.ts';

/**
 * Sends the voters of this node's configuration a pre-vote for the next term, as a question, and
 * `alsoAsk` too when they do not include it (the leader whose notice is ageing: outside-cluster.ts).
 */
export function askVotersWhoLeads(core: CoreState, alsoAsk: NodeId | null = null): void {
  if (core.currentTerm + 1 > Number.MAX_SAFE_INTEGER) return;
  const probe: RequestVote = { type: 'requestVote', term: core.currentTerm + 1, lastLogIndex: core.log.lastIndex, lastLogTerm: core.log.lastTerm, preVote: true, transfer: false };
  for (const voter of core.membership.allVoters) if (voter !== core.id) send(core, voter, probe);
  if (alsoAsk !== null && alsoAsk !== core.id && !core.membership.allVoters.has(alsoAsk)) send(core, alsoAsk, probe);
}

/**
 * A node outside its own configuration hears no leader (none replicates to a node it does not
 * count as a member), never campaigns, and does not ask on a timer: a removed node keeps quiet. It
 * asks, once per shortest election timeout, when somebody still counts on it and it knows no
 * leader of a term as new as the one that somebody is at:
 * - a node asks for its (pre-)vote: the asker's configuration is older and may list no voter
 *   still in the cluster but this node, whose word is then the only one it takes; the answer to
 *   its next question names the leader (simulation seeds 89 and 2172 with --removals: a voter
 *   never caught up);
 * - a node replicates to it as a leader its configuration does not list as a voter: it was
 *   taken back while away, and refused that leader for good (seed 247 with --removals
 *   --witnesses 2: a witness 1,200 entries behind). The leader may be a stranger to its
 *   configuration, admitted while it was away too (seeds 399 and 411 with --witnesses 2: a member
 *   refused a leader its configuration did not list at all, hundreds of entries behind).
 * Nothing here trusts the asker: the name is taken only from a voter of this node's configuration
 * (followVouchedLeader), and a hostile sender can make it send at most one question to each of
 * those voters per shortest election timeout, fewer than the sender could send them itself. An
 * outgoing leader or a voter still campaigning (its removal uncommitted) asks for itself.
 */
export function askWhoLeadsFromOutside(core: CoreState, askerTerm: number): void {
  if (core.membership.members.has(core.id)) return;
  if (core.role === 'leader' || core.role === 'candidate' || core.preCandidate) return;
  // The leader it knows is news enough: it names that one (a member that moved past that term
  // asks with a newer one, and then it asks again). Without this a removed member campaigning
  // forever at it kept it asking the live cluster forever.
  if (core.pinnedLeader !== null && core.pinnedLeader.term >= askerTerm) return;
  if (core.now - core.leaderQuestionFromOutsideAt < core.config.electionTimeoutMinMs) return;
  core.leaderQuestionFromOutsideAt = core.now;
  askVotersWhoLeads(core);
}
