// What the engine has for the outside world, accumulated between readies: messages (some to be
// sent only after the writes before them), metrics and trace events, and the ready that hands
// it all over with the writes to make.
import type { CoreState } from './core-state.ts';
import type { RaftMetric, RaftTraceEvent, RefusalReason } from './events.ts';
import type { RaftMessage } from './messages.ts';
import type { Ready } from './ready.ts';
import type { NodeId } from './types.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Whether anything is still to be written or being written: an acknowledgement made now waits for it. */
export function writesPending(core: CoreState): boolean {
  return core.hardStateDirty || core.leaderPinDirty || core.pendingTruncateFrom !== null || core.unwrittenEntries.length > 0 || core.pendingSnapshotWrite !== null || core.writesInFlight > 0;
}

/** Sends a message that acknowledges local state: it waits for every write before it. */
export function sendAfterPersist(core: CoreState, to: NodeId, message: RaftMessage): void {
  (writesPending(core) ? core.messagesAfterPersist : core.messages).push({ to, message });
}

/**
 * A leader's frames carry its term, and a term must be on disk before anything of it leaves the
 * node: a leader restarted with its term unwritten can win the same term again and append other
 * entries at the indices it already sent (Log Matching broken). A candidate's term is on disk
 * before it asks for votes (sendAfterPersist), so only a leader that needed no other vote (the
 * only voter, as a lone tab or a cluster shrunk to one voter is) can lead on an unwritten term:
 * its frames wait for that write. Found by the 5-node simulation with --removals, seed 312.
 */
export function send(core: CoreState, to: NodeId, message: RaftMessage): void {
  const termUnwritten = core.role === 'leader' && (core.hardStateDirty || core.newestTermWrite > core.writesPersisted);
  (termUnwritten ? core.messagesAfterPersist : core.messages).push({ to, message });
}

export function pushMetric(core: CoreState, metric: RaftMetric): void {
  core.metrics.push(metric);
}

export function emitTrace(core: CoreState, event: DistributiveOmit<RaftTraceEvent, 'node' | 'term' | 'at'>): void {
  if (!core.tracing) return;
  core.traceEvents.push({ ...event, node: core.id, term: core.currentTerm, at: core.now } as RaftTraceEvent);
}

/** `mayWedge` false: a frame this node would not need to make progress even if accepted. */
export function refuse(core: CoreState, from: NodeId, reason: RefusalReason, remoteTerm: number, mayWedge = true): void {
  pushMetric(core, { type: 'frameRefused', from, reason });
  emitTrace(core, { type: 'frameRefused', from, reason });
  if (mayWedge) noteRefusal(core, from, reason, remoteTerm);
}

/** SPEC "Wedge": refusals of frames this node would need, persisting for many timeouts. */
function noteRefusal(core: CoreState, from: NodeId, reason: RefusalReason, remoteTerm: number): void {
  if (!core.wedgeDetector.refused(from, reason, core.now)) return;
  pushMetric(core, { type: 'wedgeSuspected', from, localTerm: core.currentTerm, remoteTerm, voters: [...core.membership.allVoters], gate: reason });
}

/** Hands over everything accumulated since the last ready, or null when there is nothing. */
export function collectReady(core: CoreState): Ready | null {
  const commitUnwritten = core.commitIndex > core.commitWritten;
  if (!commitUnwritten) {
    core.commitWriteDeadline = Number.POSITIVE_INFINITY;
    core.commitWriteDue = false;
  } else if (core.commitWriteDeadline === Number.POSITIVE_INFINITY && !core.commitWriteDue) {
    core.commitWriteDeadline = core.now + core.config.heartbeatIntervalMs;
  }
  const commitDue = commitUnwritten && core.commitWriteDue;
  const needsWrite = core.hardStateDirty || core.leaderPinDirty || core.pendingTruncateFrom !== null || core.unwrittenEntries.length > 0 || core.pendingSnapshotWrite !== null || commitDue;
  // Along with other writes at most once half an interval (so under steady writes it rides along
  // before its own write falls due): under load every write would carry one more record, and that
  // cost showed in the silence a follower sees while a snapshot streams (bench:browser-diagnose
  // --snapshot=5, alternating rounds: p99 about 22 ms against 18 with it on every write).
  const commitCarried = commitUnwritten && needsWrite && (commitDue || core.now >= core.commitWrittenAt + core.config.heartbeatIntervalMs / 2);
  if (!needsWrite && core.messages.length === 0 && core.messagesAfterPersist.length === 0 && core.outcomes.length === 0 && core.reads.length === 0 && core.membershipOutcomes.length === 0 && core.transferOutcomes.length === 0 && core.metrics.length === 0 && core.traceEvents.length === 0) {
    return null;
  }
  const ready: Ready = {
    hardState: core.hardStateDirty ? { term: core.currentTerm, votedFor: core.votedFor } : null,
    leaderForTerm: core.leaderPinDirty && core.pinnedLeader !== null ? { ...core.pinnedLeader } : null,
    truncateFrom: core.pendingTruncateFrom,
    entries: core.unwrittenEntries,
    snapshot: core.pendingSnapshotWrite,
    // Every entry through the commit index is in this write or an earlier one (the log holds
    // nothing unwritten that is not), and a write lands after the ones before it.
    commitIndex: commitCarried ? core.commitIndex : null,
    messages: core.messages,
    messagesAfterPersist: core.messagesAfterPersist,
    outcomes: core.outcomes,
    reads: core.reads,
    membershipChanges: core.membershipOutcomes,
    transfers: core.transferOutcomes,
    metrics: core.metrics,
    trace: core.traceEvents,
  };
  if (ready.commitIndex !== null) {
    core.commitWritten = ready.commitIndex;
    core.commitWrittenAt = core.now;
    core.commitWriteDeadline = Number.POSITIVE_INFINITY;
    core.commitWriteDue = false;
  }
  core.hardStateDirty = false;
  core.leaderPinDirty = false;
  core.pendingTruncateFrom = null;
  core.unwrittenEntries = [];
  core.pendingSnapshotWrite = null;
  core.messages = [];
  core.messagesAfterPersist = [];
  core.outcomes = [];
  core.reads = [];
  core.membershipOutcomes = [];
  core.transferOutcomes = [];
  core.metrics = [];
  core.traceEvents = [];
  if (needsWrite) {
    core.writesInFlight += 1;
    if (ready.hardState !== null || ready.leaderForTerm !== null) core.newestHardStateWrite = core.writesPersisted + core.writesInFlight;
    if (ready.hardState !== null) core.newestTermWrite = core.writesPersisted + core.writesInFlight;
  }
  return ready;
}
