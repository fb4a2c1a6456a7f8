// What a leader knows of the voters that can never lead: the witnesses (RaftConfig.witness).
// Being a witness is a local setting, not part of the configuration, so a leader learns it only
// from the witness's own word, the `neverLeads` flag on every AppendEntries answer it sends
// (held-answers.ts), recorded per peer in its progress. A leader uses it twice: a transfer to a
// known witness fails at once (`neverLeads`, leadership-transfer.ts) instead of holding proposals
// until its deadline, and a membership change whose voters that may lead would be none is
// refused (membership-change.ts), since that cluster could never elect a leader again.
//
// What a leader knows is only what it has heard. A peer it has not heard from in its term (a
// new leader's first moments, a member never reached, a newcomer the change adds) is assumed
// able to lead: the checks can let through a transfer or a change they would have refused had
// the answer come first, never refuse one that could work. A transfer let through that way is
// abandoned as soon as the witness's first answer arrives (leader-replication.ts), before any
// TimeoutNow goes, since TimeoutNow waits for an answer that shows the target's log up to date.
//
// A hostile peer may claim to be a witness. The flag changes no term, vote, log, commit index or
// quorum; the only things it decides are those two refusals, and one more for a transfer already
// at that peer: a target that takes TimeoutNow and then says it never leads makes the leader
// report the transfer failed (`neverLeads`) and resume proposals while the target campaigns
// anyway (a review, 2026-12-07), which a lying voter could do without the flag too (it need only
// campaign late). So a lying peer can make the leader refuse or misreport transfers to itself and
// refuse changes that would leave it the only voter that may lead, nothing more: every election,
// commit and change among the others goes on as before, and the refused change leaves the cluster
// in its current configuration, which has a leader (this one).
// The converse lie (a witness that does not say so: hostile, or an older version) brings back
// the old behaviour, a transfer abandoned at its deadline (`timeout`), no worse.
import type { CoreState } from './core-state.ts';
import type { ClusterConfig, NodeId } from './types.ts';

/** Whether this leader has heard `peer` say that it never leads (this node itself: its own setting). */
export function knownToNeverLead(core: CoreState, peer: NodeId): boolean {
  if (peer === core.id) return core.config.witness;
  return core.progress.get(peer)?.neverLeads === true;
}

/**
 * The voters of `target` known to never lead, when they are all of its voters (so, as far as
 * this leader knows, nobody in it could ever be elected); null when at least one may lead.
 */
export function votersAllKnownWitnesses(core: CoreState, target: ClusterConfig): readonly NodeId[] | null {
  const witnesses = target.voters.filter((voter) => knownToNeverLead(core, voter));
  return witnesses.length === target.voters.length ? witnesses : null;
}
