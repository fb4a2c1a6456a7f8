// Linearizable reads (§6.4): a leader serves a read at its commit index once a heartbeat round
// begun after the read is acknowledged by a quorum (read-index.ts); a follower asks the leader
// for that index and retries through whoever leads next.
import { emitTrace, refuse, send } from './core-output.ts';
import type { CoreState, PendingRead } from './core-state.ts';
import { advanceClock } from './core-time.ts';
import { forwardingTarget } from './known-leader.ts';
import type { ReadIndexRequest, ReadIndexResponse } from './messages.ts';
import type { FollowerProgress } from './progress.ts';
import { hasQuorum } from './quorum.ts';
import type { ReadRequester } from './read-index.ts';
import { isValidCounter, maxLogIndex, type NodeId } from './types.ts';

/** What reads need of the rest of the engine (raft-core.ts wires it). */
export interface LinearizableReadsHost {
  outsideCluster(): boolean;
  sendHeartbeat(peer: NodeId, progress: FollowerProgress): void;
  tellNotMember(to: NodeId): void;
}

/** A linearizable read from this node's caller; the read index arrives in a later ready. */
export function requestRead(core: CoreState<LinearizableReadsHost>, now: number, readId: number): void {
  advanceClock(core, now);
  if (core.role === 'leader') {
    leaderRead(core, { type: 'local', readId });
    return;
  }
  if (core.host.outsideCluster()) {
    core.reads.push({ readId, failure: 'notMember' });
    return;
  }
  const read: PendingRead = { readId, correlationId: 0, sentTo: null, sentAt: now };
  core.pendingReads.set(readId, read);
  sendReadRequest(core, read);
}

export function abandonRead(core: CoreState<LinearizableReadsHost>, readId: number): void {
  core.pendingReads.delete(readId);
  core.readTracker.remove(readId);
}

function leaderRead(core: CoreState<LinearizableReadsHost>, requester: ReadRequester): void {
  if (core.readTracker.size >= core.config.maxPendingProposals) {
    if (requester.type === 'remote') send(core, requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: 0 });
    else core.pendingReads.set(requester.readId, { readId: requester.readId, correlationId: 0, sentTo: null, sentAt: core.now });
    return;
  }
  // The round starts when the ready is taken, so every read of this step shares it.
  core.readTracker.enqueue(requester);
}

/** Starts a round once the leader's own-term no-op has committed (reads wait for it). */
export function startReadRound(core: CoreState<LinearizableReadsHost>): void {
  if (core.role !== 'leader') return;
  if (core.readTracker.roundInFlight) {
    // Judged again against the configuration in force, which may have changed since the round
    // began: shrunk to this leader alone, the round waited for acknowledgements no voter was left
    // to send, and every later read queued behind it, for good (found by a review, 2026-12-06).
    if (readRoundConfirmed(core)) serveConfirmedReads(core);
    return;
  }
  admitParkedReads(core);
  if (core.log.termAt(core.commitIndex) !== core.currentTerm) return;
  const round = core.readTracker.startRound(core.commitIndex);
  if (round === 0) return;
  if (readRoundConfirmed(core)) {
    serveConfirmedReads(core);
    return;
  }
  for (const [peer, progress] of core.progress) core.host.sendHeartbeat(peer, progress);
}

/**
 * Local reads parked by leaderRead while the tracker was full join the next round once earlier
 * reads are served. Nothing else looks at them while this node leads (retryForwards runs only on
 * other roles), so without this they waited until leadership ended: for ever on a healthy leader.
 */
function admitParkedReads(core: CoreState<LinearizableReadsHost>): void {
  for (const read of core.pendingReads.values()) {
    if (core.readTracker.size >= core.config.maxPendingProposals) return;
    core.pendingReads.delete(read.readId);
    core.readTracker.enqueue({ type: 'local', readId: read.readId });
  }
}

function readRoundConfirmed(core: CoreState<LinearizableReadsHost>): boolean {
  return hasQuorum(core.membership, (id) => id === core.id || core.readTracker.hasAcknowledged(id));
}

export function acknowledgeReadRound(core: CoreState<LinearizableReadsHost>, from: NodeId, round: number): void {
  if (!core.membership.allVoters.has(from)) return;
  core.readTracker.acknowledge(from, round);
  if (core.readTracker.roundInFlight && readRoundConfirmed(core)) serveConfirmedReads(core);
}

function serveConfirmedReads(core: CoreState<LinearizableReadsHost>): void {
  for (const confirmed of core.readTracker.completeRound()) {
    emitTrace(core, { type: 'readIndexConfirmed', readIndex: confirmed.readIndex });
    const requester = confirmed.requester;
    if (requester.type === 'local') core.reads.push({ readId: requester.readId, readIndex: confirmed.readIndex });
    else send(core, requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: confirmed.readIndex });
  }
  startReadRound(core);
}

/** Leadership ended: local reads retry through the next leader, remote askers are told to retry. */
export function handBackReads(core: CoreState<LinearizableReadsHost>): void {
  for (const requester of core.readTracker.drain()) {
    if (requester.type === 'local') {
      core.pendingReads.set(requester.readId, { readId: requester.readId, correlationId: 0, sentTo: null, sentAt: core.now });
    } else {
      send(core, requester.from, { type: 'readIndexResponse', correlationId: requester.correlationId, readIndex: 0 });
    }
  }
}

export function sendReadRequest(core: CoreState<LinearizableReadsHost>, read: PendingRead): void {
  const leader = forwardingTarget(core);
  if (leader === null) {
    read.sentTo = null;
    return;
  }
  core.pendingReads.correlate(read, core.nextCorrelationId++);
  read.sentTo = leader;
  read.sentAt = core.now;
  send(core, leader, { type: 'readIndexRequest', correlationId: read.correlationId });
}

export function handleReadIndexRequest(core: CoreState<LinearizableReadsHost>, from: NodeId, message: ReadIndexRequest): void {
  // Only admitted members may read, and a stranger's request is counted on every role, as its
  // ForwardPropose is (SPEC "Untrusted peers": refused frames produce frameRefused). Answered by
  // a follower like a member's, a flood of them showed nowhere in the metrics.
  if (!core.membership.members.has(from)) {
    core.host.tellNotMember(from);
    return refuse(core, from, 'senderNotMember', 0);
  }
  if (core.role !== 'leader') {
    send(core, from, { type: 'readIndexResponse', correlationId: message.correlationId, readIndex: 0 });
    return;
  }
  leaderRead(core, { type: 'remote', from, correlationId: message.correlationId });
}

export function handleReadIndexResponse(core: CoreState<LinearizableReadsHost>, from: NodeId, message: ReadIndexResponse): void {
  const read = core.pendingReads.findByCorrelation(message.correlationId);
  // Honoured only from the peer the request went to (SPEC "Untrusted peers").
  if (read === undefined || read.sentTo !== from) return;
  // An index above the ceiling never commits here (nothing above it is accepted): a hang.
  if (!isValidCounter(message.readIndex) || message.readIndex > maxLogIndex) return refuse(core, from, 'outOfRange', 0);
  if (message.readIndex === 0) {
    // Not served (no longer leader, or busy): retry after a heartbeat interval.
    read.sentAt = core.now - core.config.electionTimeoutMaxMs + core.config.heartbeatIntervalMs;
    return;
  }
  core.pendingReads.delete(read.readId);
  core.reads.push({ readId: read.readId, readIndex: message.readIndex });
}
