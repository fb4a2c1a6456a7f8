// Leadership transfer (§3.10): the leader brings the target's log up to date, then sends it
// TimeoutNow; the transfer ends when a leader is known, or is abandoned (timeout, cancel).
import { emitTrace, send } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { advanceClock } from './core-time.ts';
import { isVoter } from './membership-state.ts';
import { knownToNeverLead } from './never-leads.ts';
import { becomeProbe } from './progress.ts';
import type { OutboundMessage } from './ready.ts';
import type { ClusterConfig, NodeId, TransferAbandonReason } from './types.ts';

/** What a leadership transfer needs of the rest of the engine (raft-core.ts wires it). */
export interface LeadershipTransferHost {
  adoptForwardsAsLeader(): void;
  advanceMembershipChange(): void;
  changeMembership(now: number, changeId: number, target: ClusterConfig): void;
  sendAppend(peer: NodeId): void;
}

export function transferLeadership(core: CoreState<LeadershipTransferHost>, now: number, transferId: number, target: NodeId): void {
  advanceClock(core, now);
  if (core.role !== 'leader') {
    core.transferOutcomes.push({ transferId, failure: 'notLeader' });
    return;
  }
  // Asked to stay here: a transfer in progress is abandoned first, as etcd aborts it before
  // ignoring a request to itself. Answering "this node leads" while it went on would leave
  // proposals held and hand leadership over after all.
  if (target === core.id) {
    if (core.transfer !== null) abandonTransfer(core, 'cancelled');
    core.transferOutcomes.push({ transferId, failure: null });
    return;
  }
  // Asked again for the same target: the transfer in progress goes on, and this call waits on
  // it too (etcd ignores the repeat; cancelling reported a failure while leadership moved).
  if (core.transfer !== null && core.transfer.target === target) {
    core.transfer.transferIds.push(transferId);
    return;
  }
  // Checked before the transfer in progress is abandoned (etcd too checks the new transferee
  // first): a request that cannot start, a learner or a stranger or the worker's '' for a
  // non-string target, must not undo another caller's valid transfer.
  if (!isVoter(core, target) || !core.progress.has(target)) {
    core.transferOutcomes.push({ transferId, failure: 'notVoter' });
    return;
  }
  // Checked first for the same reason: a witness this leader knows of would never campaign, and
  // the call would hold proposals until its deadline and then blame a timeout (never-leads.ts).
  if (knownToNeverLead(core, target)) {
    core.transferOutcomes.push({ transferId, failure: 'neverLeads' });
    return;
  }
  if (core.transfer !== null) abandonTransfer(core, 'cancelled');
  core.transfer = { transferIds: [transferId], target, deadline: core.now + core.config.electionTimeoutMaxMs, timeoutSent: false, awaitingNewLeader: false };
  emitTrace(core, { type: 'leadershipTransferStarted', target });
  // Entries the target lacks may be lost rather than in flight (it was cut off a moment ago).
  // The replicate state would notice only after an election timeout without progress, the
  // whole time the transfer has, so the target is probed afresh: if they were in flight,
  // their answers move it straight back to replicating.
  const targetProgress = core.progress.get(target);
  if (targetProgress?.state === 'replicate' && targetProgress.matchIndex < core.log.lastIndex) becomeProbe(targetProgress);
  advanceTransfer(core);
}

export function cancelTransfer(core: CoreState<LeadershipTransferHost>, now: number): void {
  advanceClock(core, now);
  if (core.transfer !== null) abandonTransfer(core, 'cancelled');
}

/** One caller stopped waiting (its signal aborted): the transfer ends when no caller is left. */
export function abandonTransferCall(core: CoreState<LeadershipTransferHost>, now: number, transferId: number): void {
  advanceClock(core, now);
  const transfer = core.transfer;
  if (transfer === null || !transfer.transferIds.includes(transferId)) return;
  transfer.transferIds = transfer.transferIds.filter((waiting) => waiting !== transferId);
  if (transfer.transferIds.length === 0) abandonTransfer(core, 'cancelled');
}

/**
 * Sends TimeoutNow once the target's log matches ours; abandons the transfer as soon as the
 * target turns out to be a witness. That is known by then at the latest: TimeoutNow waits for an
 * answer showing the target up to date, and every answer of a witness says it never leads. (So a
 * witness needs no refusal of TimeoutNow on the wire: the leader never sends it one it knows of.)
 */
export function advanceTransfer(core: CoreState<LeadershipTransferHost>): void {
  const transfer = core.transfer;
  if (transfer === null || core.role !== 'leader') return;
  const progress = core.progress.get(transfer.target);
  // Even with TimeoutNow sent (the target restarted as a witness since): it will never campaign.
  if (progress?.neverLeads === true) {
    abandonTransfer(core, 'neverLeads');
    return;
  }
  if (transfer.timeoutSent) return;
  if (progress === undefined) {
    abandonTransfer(core, 'notVoter');
    return;
  }
  if (progress.matchIndex < core.log.lastIndex) {
    core.host.sendAppend(transfer.target);
    return;
  }
  transfer.timeoutSent = true;
  send(core, transfer.target, { type: 'timeoutNow', term: core.currentTerm });
}

export function abandonTransfer(core: CoreState<LeadershipTransferHost>, reason: TransferAbandonReason): void {
  const transfer = core.transfer;
  if (transfer === null) return;
  core.transfer = null;
  // A TimeoutNow still waiting in this step's output has not left the node: withdrawn, so an
  // abandoned transfer (cancelTransfer() right after transferLeadership(), say) leaves
  // leadership where it is instead of reporting failure while the target takes over.
  // (Held behind a write too: a leader's frames wait for its term to reach the disk, send().)
  if (transfer.timeoutSent) {
    const kept = (outbound: OutboundMessage): boolean => outbound.to !== transfer.target || outbound.message.type !== 'timeoutNow';
    core.messages = core.messages.filter(kept);
    core.messagesAfterPersist = core.messagesAfterPersist.filter(kept);
  }
  emitTrace(core, { type: 'leadershipTransferAbandoned', target: transfer.target, reason });
  for (const transferId of transfer.transferIds) core.transferOutcomes.push({ transferId, failure: reason });
  // Proposals held while handing over resume here, and so do leaving a joint configuration and
  // a change asked for meanwhile.
  if (core.role === 'leader') {
    core.host.adoptForwardsAsLeader();
    core.host.advanceMembershipChange();
    const held = core.heldMembershipChange;
    core.heldMembershipChange = null;
    if (held !== null) core.host.changeMembership(core.now, held.changeId, held.target);
  }
}
