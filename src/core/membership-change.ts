// Membership changes (§6): joint consensus through C_old,new, then C_new once that commits, for
// every change (a change of learners only too).
import { sameConfig } from './config-compare.ts';
import type { CoreState } from './core-state.ts';
import { advanceClock } from './core-time.ts';
import { appendConfig } from './log-writes.ts';
import { isVoter, latestConfigIndex } from './membership-state.ts';
import { votersAllKnownWitnesses } from './never-leads.ts';
import type { FollowerProgress } from './progress.ts';
import type { MembershipFailure } from './ready.ts';
import type { ClusterConfig, NodeId, StepDownReason } from './types.ts';

/** What a membership change needs of the rest of the engine (raft-core.ts wires it). */
export interface MembershipChangeHost {
  becomeFollower(term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void;
  sendFarewell(peer: NodeId, progress: FollowerProgress): void;
}

/** §6 joint consensus: C_old,new, then C_new once that commits. The outcome comes in a ready. */
export function changeMembership(core: CoreState<MembershipChangeHost>, now: number, changeId: number, target: ClusterConfig): void {
  advanceClock(core, now);
  const fail = (failure: MembershipFailure): void => {
    core.membershipOutcomes.push({ changeId, failure });
  };
  if (core.role !== 'leader') return fail('notLeader');
  if (core.membershipChange !== null || core.heldMembershipChange !== null || latestConfigIndex(core) > core.commitIndex || core.membership.payload.old !== null) return fail('inProgress');
  const current = core.membership.payload.new;
  if (sameConfig(current, target)) {
    core.membershipOutcomes.push({ changeId, failure: null });
    return;
  }
  // A target whose voters are all witnesses could never elect a leader again: this leader is not
  // among them (a witness never leads), so it steps down once C_new commits, and no voter left
  // ever campaigns. Refused before anything is appended, as far as this leader knows: a voter it
  // has not heard from is assumed able to lead (never-leads.ts). Checked before a transfer holds
  // the change, so the caller hears at once.
  const witnesses = votersAllKnownWitnesses(core, target);
  if (witnesses !== null) {
    core.membershipOutcomes.push({ changeId, failure: 'noVoterMayLead', witnesses });
    return;
  }
  if (core.transfer !== null) {
    core.heldMembershipChange = { changeId, target };
    return;
  }
  // Every change goes through C_old,new, as SPEC says, a change of learners only too: with the
  // same voters on both sides the joint phase decides nothing and costs one entry and a round
  // trip, but an application (or a test) reading the log sees the sequence the contract names.
  const entry = appendConfig(core, { old: current, new: target });
  core.membershipChange = { changeId, target, awaitingIndex: entry.index };
}

/** Runs on every commit advance of a leader: leaves a committed joint config, finishes changes. */
export function advanceMembershipChange(core: CoreState<MembershipChangeHost>): void {
  if (core.role !== 'leader') return;
  const configIndex = latestConfigIndex(core);
  if (configIndex > core.commitIndex) return;
  const payload = core.membership.payload;
  if (payload.old !== null) {
    // C_old,new committed (by us or a previous leader): now C_new alone. Not while handing
    // leadership over: an entry appended once TimeoutNow is out leaves the target's log behind
    // ours, so the voters deny it the election the transfer asked for (logNotUpToDate). The
    // target leaves the joint configuration itself once it leads; an abandoned transfer
    // resumes it here.
    if (core.transfer !== null) return;
    const entry = appendConfig(core, { old: null, new: payload.new });
    if (core.membershipChange !== null) core.membershipChange.awaitingIndex = entry.index;
    return;
  }
  for (const [peer, progress] of [...core.progress]) {
    if (core.membership.members.has(peer)) continue;
    // Replication to it stops here, and it may not hold C_new yet, or not know it committed: it
    // then stays a voter of the configuration before (or of the joint one), campaigning each
    // time the leader's "not a member" notice lapses. Scenario seed 701 ended so when storing
    // the commit index moved its timings: the member's log ended one entry short of C_new.
    core.host.sendFarewell(peer, progress);
    core.progress.delete(peer);
    rememberDeparted(core, peer);
  }
  const change = core.membershipChange;
  if (change !== null && configIndex >= change.awaitingIndex) {
    core.membershipOutcomes.push({ changeId: change.changeId, failure: null });
    core.membershipChange = null;
  }
  if (!isVoter(core, core.id)) core.host.becomeFollower(core.currentTerm, null, 'removedFromConfig');
}

/**
 * Departed members a leader tells from strangers (CoreState.departed). A member is removed only
 * by a committed change, one at a time, so a term's departures are few; the bound is against a
 * term of endless changes.
 */
export const maxDepartedMembers = 64;

export function rememberDeparted(core: Pick<CoreState, 'departed'>, peer: NodeId): void {
  core.departed.delete(peer);
  core.departed.add(peer);
  // One added at a time, so at most one over the bound: the first in insertion order, gone longest.
  const oldest = core.departed.values().next().value;
  if (core.departed.size > maxDepartedMembers && oldest !== undefined) core.departed.delete(oldest);
}
