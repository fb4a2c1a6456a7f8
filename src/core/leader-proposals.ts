// Proposals as the leader takes them: its own callers' and those followers forward, appended
// once per dedup key while its log holds the entry (the leader dedup cache, a retry of its own
// caller found in the newest entries). Not leading, a proposal is forwarded
// (proposal-forwarding.ts).
import { compactedEntryFor, settleCommittedBehindFloor } from './compacted-keys.ts';
import { refuse, send } from './core-output.ts';
import { type CoreState, frameOverheadBytes, leaderDedupCacheSize, type PendingForward } from './core-state.ts';
import { advanceClock } from './core-time.ts';
import { commandEntrySizeBound } from './entry-size.ts';
import type { CachedAppend } from './dedup-key-cache.ts';
import { appendAsLeader } from './log-writes.ts';
import type { ForwardPropose, ForwardProposeResponse } from './messages.ts';
import { committedRetryEntry, noteLocalRequest, retriedLocalEntry } from './own-requests.ts';
import type { AwaitedProposal } from './proposal-waiters.ts';
import type { ProposalFailure } from './ready.ts';
import { type DedupKey, type LogEntry, maxLogIndex, type NodeId } from './types.ts';

/** What proposals at the leader need of the rest of the engine (raft-core.ts wires it). */
export interface LeaderProposalsHost {
  awaitExisting(index: number, item: AwaitedProposal): void;
  outsideCluster(): boolean;
  sendForward(forward: PendingForward): void;
  tellNotMember(to: NodeId): void;
}

/** A proposal from this node's caller. The outcome arrives in a later ready. */
export function propose(core: CoreState<LeaderProposalsHost>, now: number, proposalId: number, command: Uint8Array, dedupKey: DedupKey | null): void {
  advanceClock(core, now);
  if (core.role === 'leader' && core.transfer === null) {
    const failure = admissionFailure(core);
    if (failure !== null) {
      core.outcomes.push({ type: 'failed', proposalId, failure });
      return;
    }
    // A request re-proposed under its key (a durable id replayed) waits on the entry we hold.
    const held = cachedEntryFor(core, dedupKey, command) ?? retriedLocalEntry(core, dedupKey);
    if (held !== null) {
      if (core.reportAcceptance) core.outcomes.push({ type: 'accepted', proposalId, index: held.index });
      if (held.index <= core.log.floorIndex) return settleCommittedBehindFloor(core, proposalId, held.index, held.term, command, dedupKey);
      core.host.awaitExisting(held.index, { proposalId, term: held.term, local: true });
      return;
    }
    const entry = appendAsLeader(core, command, dedupKey);
    noteLocalRequest(core, dedupKey);
    core.awaited.add(entry.index, { proposalId, term: entry.term, local: true });
    if (core.reportAcceptance) core.outcomes.push({ type: 'accepted', proposalId, index: entry.index });
    return;
  }
  // A request this node already holds committed took effect there, whoever leads now (see
  // committedRetryEntry): settled here, even on a node that has left the cluster since.
  const committed = committedRetryEntry(core, dedupKey, command);
  noteLocalRequest(core, dedupKey);
  if (committed !== null) {
    if (core.reportAcceptance) core.outcomes.push({ type: 'accepted', proposalId, index: committed.index });
    // Committed and on this node's disk (or remembered behind its snapshot): settled now.
    const entry = core.log.entryAt(committed.index);
    if (entry === undefined) return settleCommittedBehindFloor(core, proposalId, committed.index, committed.term, command, dedupKey);
    core.outcomes.push({ type: 'committed', proposalId, entry });
    return;
  }
  if (core.host.outsideCluster()) {
    core.outcomes.push({ type: 'failed', proposalId, failure: 'notMember' });
    return;
  }
  // Not leading, or handing leadership over: the proposal waits for (or goes to) the leader.
  const forward: PendingForward = { proposalId, command, dedupKey, correlationId: 0, sentTo: null, sentAt: now, retryAfterMs: core.config.electionTimeoutMaxMs, busyAnswers: 0, commitIndexNeeded: null, appended: null, committedBefore: core.commitIndex };
  core.forwards.set(proposalId, forward);
  core.host.sendForward(forward);
}

/**
 * A new leader's log can hold an entry an earlier leader appended for a proposal whose answer
 * never reached its proposer (the answer lost, or the leader gone first). The proposal is then
 * retried under its dedup key: the proposer's forward to us, our own pending forward adopted
 * below, or the application re-proposing a durable request id after LeadershipLostError. The
 * entry is ours for good (a leader never changes its own log) and commits with our no-op, so
 * the retry waits on it: appended again, the command would commit twice, the session table
 * would skip the copy, and the proposer's acknowledgement would name the skipped copy. The
 * newest keyed entries are remembered, up to the cache's size (a bounded scan, once a term).
 */
export function rememberInheritedDedupKeys(core: CoreState<LeaderProposalsHost>): void {
  const first = Math.max(core.log.floorIndex + 1, core.log.lastIndex - leaderDedupCacheSize + 1);
  // The same scan finds each node's last auto id, which forwards must prove themselves against
  // (incarnation-proof.ts); below it nothing is known.
  core.lastAutoEntries.reset(first - 1);
  for (let index = first; index <= core.log.lastIndex; index += 1) {
    const entry = core.log.entryAt(index);
    if (entry?.dedupKey === undefined) continue;
    rememberDedup(core, entry.dedupKey, entry);
    core.lastAutoEntries.note(entry.dedupKey, index);
  }
}

/**
 * The entry this leader holds for a retried request: one its dedup cache remembers (appended or
 * inherited) that its log still shows under the same term, or a committed one it compacted away
 * under the same command.
 */
export function cachedEntryFor(core: CoreState<LeaderProposalsHost>, dedupKey: DedupKey | null, command: Uint8Array): CachedAppend | null {
  if (dedupKey === null) return null;
  const cached = core.leaderDedupCache.get(dedupKey);
  if (cached !== undefined && core.log.termAt(cached.index) === cached.term) return cached;
  return compactedEntryFor(core, dedupKey, command);
}

/**
 * Entries past what is both committed and on this leader's own disk are bounded by
 * maxPendingProposals. Counting only uncommitted entries let a leader whose disk lags (one slow
 * write) keep appending while its followers committed everything: each proposal queued one more
 * write behind the slow one, without bound, until the driver's queue bound stopped a healthy
 * leader (an outside review, 2026-12-07). Now such a leader refuses ('overloaded', forwards
 * answered 'busy') and the proposers retry; the driver's bound on queued writes
 * (write-pipeline.ts) is sized from this one.
 */
function admissionFailure(core: CoreState<LeaderProposalsHost>): ProposalFailure | null {
  const unsettled = core.log.lastIndex - Math.min(core.commitIndex, core.persistedIndex);
  // At the index ceiling (reached only through a hostile peer's snapshot): see maxLogIndex.
  return unsettled >= core.config.maxPendingProposals || core.log.lastIndex >= maxLogIndex ? 'overloaded' : null;
}

export function handleForwardPropose(core: CoreState<LeaderProposalsHost>, from: NodeId, message: ForwardPropose): void {
  const respond = (outcome: ForwardProposeResponse['outcome']): void => {
    send(core, from, { type: 'forwardProposeResponse', correlationId: message.correlationId, outcome });
  };
  // Only admitted members (voters and learners) may write to the log.
  if (!core.membership.members.has(from)) {
    core.host.tellNotMember(from);
    return refuse(core, from, 'senderNotMember', 0);
  }
  if (core.role !== 'leader') return respond({ type: 'notLeader' });
  // An entry whose AppendEntries exceeds the transport's frame limit is never delivered: once
  // appended, it and every entry after it would be resent forever and never commit. A proposer's
  // own driver refuses such commands, so only a faulty peer forwards one; it is left unanswered.
  if (commandEntrySizeBound(message.command.length, message.dedupKey) + frameOverheadBytes > core.maxFrameBytes) return refuse(core, from, 'commandTooLarge', 0);
  const cached = cachedEntryFor(core, message.dedupKey, message.command);
  if (cached !== null) return respond({ type: 'appended', index: cached.index, term: cached.term });
  if (admissionFailure(core) !== null || core.transfer !== null) return respond({ type: 'busy' });
  // A forward under an auto client id that cannot show it comes from an incarnation no older
  // than its node's last one here may be a dead incarnation's straggler: appended, it would
  // retire the live id in every session table (incarnation-proof.ts). It is answered with the
  // commit index it must know, and the live proposer sends it again once it does.
  const commitIndexNeeded = core.lastAutoEntries.commitIndexNeeded(message.dedupKey);
  if (message.proposerCommitIndex < commitIndexNeeded) return respond({ type: 'unproven', commitIndexNeeded });
  const entry = appendAsLeader(core, message.command, message.dedupKey);
  if (message.dedupKey !== null) rememberDedup(core, message.dedupKey, entry);
  respond({ type: 'appended', index: entry.index, term: entry.term });
}

/** Remembers where a forwarded request (a follower's, or this node's own adopted on election) was appended. */
export function rememberDedup(core: CoreState<LeaderProposalsHost>, key: DedupKey, entry: LogEntry): void {
  core.leaderDedupCache.remember(key, { index: entry.index, term: entry.term });
}
