// Replication, leader side (§5.3): each follower's progress decides what it is sent (one probe,
// a pipelined window of batches, or a snapshot stream), answers move it and the commit index,
// heartbeats keep followers and CheckQuorum informed.
import { assert } from './assert.ts';
import { emitTrace, refuse, send } from './core-output.ts';
import { type CoreState, frameOverheadBytes } from './core-state.ts';
import { batchEnd } from './entry-size.ts';
import type { AppendEntriesResponse } from './messages.ts';
import { becomeProbe, type FollowerProgress, releaseInflight, streamedSnapshotIndex } from './progress.ts';
import { quorumValue } from './quorum.ts';
import { resendStalledSnapshot } from './snapshot-sender.ts';
import type { NodeId, StepDownReason } from './types.ts';

/** What leader-side replication needs of the rest of the engine (raft-core.ts wires it). */
export interface LeaderReplicationHost {
  acknowledgeReadRound(from: NodeId, round: number): void;
  advanceMembershipChange(): void;
  advanceTransfer(): void;
  becomeFollower(term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void;
  beginSnapshotTransfer(progress: FollowerProgress): void;
  sendSnapshotChunks(peer: NodeId, progress: FollowerProgress): void;
  startReadRound(): void;
}

/** Bytes of entries a probe carries at most (a small frame; see sendAppend). */
const probeAppendBytes = 8 * 1024;

export function handleAppendResponse(core: CoreState<LeaderReplicationHost>, from: NodeId, response: AppendEntriesResponse): void {
  if (core.role !== 'leader') return;
  const progress = core.progress.get(from);
  if (progress === undefined) {
    refuse(core, from, 'unexpectedResponse', response.term);
    return;
  }
  progress.lastResponseAt = core.now;
  progress.answered = true;
  // The latest word counts: a node restarted with another setting says so in its next answer.
  progress.neverLeads = response.neverLeads === true;
  // A transfer to it may have started before this leader knew (never-leads.ts): it ends now.
  if (progress.neverLeads && core.transfer?.target === from) core.host.advanceTransfer();
  if (response.readRound > 0) core.host.acknowledgeReadRound(from, response.readRound);
  if (response.success) {
    progress.rejectsBelowMatch = false;
    // A match index is a quantity, not trusted: clamped to our own last index, so progress and
    // nextIndex stay inside our log. Not to what we sent this follower: a voter acknowledging
    // entries it was never sent lies in a well-formed way, out of scope (SPEC "Untrusted peers").
    const matchIndex = Math.min(response.matchIndex, core.log.lastIndex);
    // Only an answer at or past the probe's prevLogIndex answers the probe: a heartbeat's
    // answer (sent alongside probes, below) proves the match only at the index it named.
    if (progress.state === 'probe' && matchIndex < progress.nextIndex - 1) {
      if (matchIndex > progress.matchIndex) {
        progress.matchIndex = matchIndex;
        progress.matchAdvancedAt = core.now;
      }
      return;
    }
    progress.probeOutstanding = false;
    if (matchIndex > progress.matchIndex) {
      progress.matchIndex = matchIndex;
      progress.lastProgressAt = core.now;
      progress.matchAdvancedAt = core.now;
      releaseInflight(progress, matchIndex);
      maybeAdvanceCommit(core);
    }
    if (progress.nextIndex <= progress.matchIndex) progress.nextIndex = progress.matchIndex + 1;
    if (progress.state === 'snapshot' && progress.matchIndex >= streamedSnapshotIndex(progress)) becomeProbe(progress);
    if (progress.state === 'probe') {
      progress.state = 'replicate';
      progress.inflightLastIndices = [];
    }
    sendAppend(core, from);
    if (core.transfer?.target === from) core.host.advanceTransfer();
    return;
  }
  // Heartbeats during a snapshot transfer are refused by a follower that lacks the prefix.
  if (progress.state === 'snapshot') return;
  emitTrace(core, { type: 'appendEntriesRejected', from, conflictIndex: response.conflictIndex });
  let nextIndex = response.conflictIndex;
  if (response.conflictTerm > 0) {
    const lastOfTerm = core.log.lastIndexOfTerm(response.conflictTerm);
    if (lastOfTerm > 0) nextIndex = lastOfTerm + 1;
  }
  progress.rejectsBelowMatch = nextIndex <= progress.matchIndex;
  const probeFrom = Math.max(progress.matchIndex + 1, Math.min(nextIndex, core.log.lastIndex + 1));
  // While probing, only a rejection that moves the probe back is probed again at once: that is
  // the back-off of §5.3, and an honest follower's answer to the probe just sent always moves it
  // back (its hint lies at or below that probe's prevLogIndex). One that leaves the probe where
  // it is, or moves it forward, would send the same probe again, or one built on an answer older
  // than it, and probing at once was a storm (about 5,000 frames a second each way in a browser
  // test): a stale rejection (reordered), a follower that lost its log (restarted on storage that
  // kept nothing, clamped here to its match index), or one whose committed prefix no leader's log
  // matches (a forged snapshot floor: it clamps its hint to its commit index + 1, the very probe
  // rejected) rejects every probe alike. The outstanding probe is sent again on the heartbeat's
  // pace, so every immediate re-probe moves nextIndex strictly down towards matchIndex + 1.
  if (progress.state === 'probe' && probeFrom >= progress.nextIndex) return;
  becomeProbe(progress);
  progress.nextIndex = probeFrom;
  sendAppend(core, from);
}

export function maybeAdvanceCommit(core: CoreState<LeaderReplicationHost>): void {
  const candidate = quorumValue(core.membership, (id) => (id === core.id ? core.persistedIndex : (core.progress.get(id)?.matchIndex ?? 0)));
  // Figure 8: only an entry of the leader's own term commits by counting replicas.
  if (candidate > core.commitIndex && core.log.termAt(candidate) === core.currentTerm) {
    core.commitIndex = candidate;
    core.commitAdvanced = true;
    emitTrace(core, { type: 'advanceCommitIndex', commitIndex: candidate });
    core.host.startReadRound();
    core.host.advanceMembershipChange();
  }
}

/** Sends what the follower's progress allows: one probe, or a window of pipelined batches. */
export function sendAppend(core: CoreState<LeaderReplicationHost>, peer: NodeId): void {
  const progress = core.progress.get(peer);
  if (progress === undefined) return;
  if (progress.state !== 'snapshot' && progress.nextIndex <= core.log.floorIndex) core.host.beginSnapshotTransfer(progress);
  if (progress.state === 'snapshot') {
    core.host.sendSnapshotChunks(peer, progress);
    return;
  }
  if (progress.state === 'probe') {
    if (progress.probeOutstanding && core.now - progress.probeSentAt < core.config.heartbeatIntervalMs) return;
    progress.probeOutstanding = true;
    progress.probeSentAt = core.now;
    // Small: a probe only finds the match point, and it is re-sent every heartbeat until
    // answered; a full-size one re-sent to a slow follower clogged the link it waited on.
    sendBatch(core, peer, progress, Math.min(core.replicationBatchBytes, probeAppendBytes));
    return;
  }
  while (progress.inflightLastIndices.length < core.config.maxInflightMessages && progress.nextIndex <= core.log.lastIndex) {
    const lastSent = sendBatch(core, peer, progress);
    // The stall clock starts when the window goes from empty to busy, not at the last progress.
    if (progress.inflightLastIndices.length === 0) progress.lastProgressAt = core.now;
    progress.inflightLastIndices.push(lastSent);
    progress.nextIndex = lastSent + 1;
  }
}

/** One AppendEntries from progress.nextIndex, bounded in bytes; returns the last index sent. */
function sendBatch(core: CoreState<LeaderReplicationHost>, peer: NodeId, progress: FollowerProgress, maxBytes = core.replicationBatchBytes): number {
  const prevLogIndex = progress.nextIndex - 1;
  const prevLogTerm = core.log.termAt(prevLogIndex);
  assert(prevLogTerm !== undefined, `no term for index ${prevLogIndex} (snapshot transfer needed for ${peer})`);
  const lastIndex = batchEnd(core.log, prevLogIndex, frameOverheadBytes, maxBytes);
  const entries = lastIndex > prevLogIndex ? core.log.slice(prevLogIndex + 1, lastIndex) : [];
  send(core, peer, { type: 'appendEntries', term: core.currentTerm, prevLogIndex, prevLogTerm, entries, leaderCommit: core.commitIndex, readRound: core.readTracker.currentRound });
  progress.sentThisRound = true;
  emitTrace(core, { type: 'appendEntries', to: peer, prevLogIndex, count: entries.length });
  return lastIndex;
}

/**
 * One last AppendEntries to a member the committed configuration removed, from its match point,
 * small (a probe's size) and carrying the commit index: if it reaches as far as the configuration
 * removing the member, the member learns that it committed and knows itself out for good (a
 * learner). Progress for it is dropped right after, and its answer dropped quietly (it is among the
 * leader's departed members, raft-core.ts). A
 * member it does not reach that far is told by the "not a member" answers to its campaigns.
 */
export function sendFarewell(core: CoreState<LeaderReplicationHost>, peer: NodeId, progress: FollowerProgress): void {
  if (progress.state === 'snapshot' || progress.matchIndex < core.log.floorIndex) return;
  progress.nextIndex = progress.matchIndex + 1;
  sendBatch(core, peer, progress, Math.min(core.replicationBatchBytes, probeAppendBytes));
}

export function sendHeartbeat(core: CoreState<LeaderReplicationHost>, peer: NodeId, progress: FollowerProgress): void {
  const prevLogIndex = Math.max(progress.matchIndex, core.log.floorIndex);
  const prevLogTerm = core.log.termAt(prevLogIndex) ?? 0;
  send(core, peer, { type: 'appendEntries', term: core.currentTerm, prevLogIndex, prevLogTerm, entries: [], leaderCommit: core.commitIndex, readRound: core.readTracker.currentRound });
  progress.sentThisRound = true;
}

export function leaderHeartbeat(core: CoreState<LeaderReplicationHost>): void {
  core.heartbeatDeadline = core.now + core.config.heartbeatIntervalMs;
  if (checkQuorumLost(core)) return;
  for (const [peer, progress] of core.progress) {
    // In-flight entries that made no progress for an election timeout were lost: probe again.
    // (Answers to heartbeats keep arriving meanwhile, so "any answer" would hide the loss
    // forever.) Not sooner: a busy follower's honest answer can take several heartbeats (its
    // strict write waits behind others), and every false alarm re-sent the whole window.
    if (progress.state === 'replicate' && progress.inflightLastIndices.length > 0 && core.now - progress.lastProgressAt >= core.config.electionTimeoutMaxMs) {
      becomeProbe(progress);
      progress.lastProgressAt = core.now;
    }
    resendStalledSnapshot(progress, core.now, core.snapshotStallBounds);
    // A probing follower gets a heartbeat too: its answer does not wait for the follower's
    // writes in flight (the probe's does), so a follower with a slow disk still counts for
    // CheckQuorum instead of deposing the leader.
    if (progress.state === 'probe') sendAppend(core, peer);
    sendHeartbeat(core, peer, progress);
    if (progress.state === 'snapshot') core.host.sendSnapshotChunks(peer, progress);
  }
}

/** CheckQuorum: a leader that has not heard from a quorum for an election timeout steps down. */
function checkQuorumLost(core: CoreState<LeaderReplicationHost>): boolean {
  const lastHeard = quorumValue(core.membership, (id) => (id === core.id ? core.now : (core.progress.get(id)?.lastResponseAt ?? Number.NEGATIVE_INFINITY)));
  if (core.now - lastHeard < core.config.electionTimeoutMaxMs) return false;
  core.host.becomeFollower(core.currentTerm, null, 'lostQuorum');
  return true;
}

/** Batches proposals made since the last ready into AppendEntries, and spreads commit news. */
export function flushAppends(core: CoreState<LeaderReplicationHost>): void {
  for (const [peer, progress] of core.progress) {
    if (progress.state === 'replicate') sendAppend(core, peer);
    if (core.commitAdvanced && !progress.sentThisRound && progress.state === 'replicate') sendHeartbeat(core, peer, progress);
    progress.sentThisRound = false;
  }
  core.commitAdvanced = false;
}
