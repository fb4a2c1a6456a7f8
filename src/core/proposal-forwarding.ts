// Forwarding (SPEC "Untrusted peers", "Exactly-once"): a follower's proposals go to the leader
// under their dedup key and are sent again, with backoff, until the leader says where it
// appended them; a node that becomes leader takes its own pending forwards over.
import { assertUnreachable } from './assert.ts';
import { checkCompacted, settleCommittedBehindFloor } from './compacted-keys.ts';
import { refuse, send } from './core-output.ts';
import type { CoreState, PendingForward, PendingRead } from './core-state.ts';
import type { RefusalReason } from './events.ts';
import { type CachedAppend, carriesKey } from './dedup-key-cache.ts';
import { appendAsLeader } from './log-writes.ts';
import { forwardingTarget } from './known-leader.ts';
import type { ForwardProposeResponse } from './messages.ts';
import type { AwaitedProposal } from './proposal-waiters.ts';
import { type DedupKey, isValidCounter, type LogEntry, maxLogIndex, type NodeId } from './types.ts';

/** What forwarding needs of the rest of the engine (raft-core.ts wires it). */
export interface ProposalForwardingHost {
  awaitExisting(index: number, item: AwaitedProposal): void;
  cachedEntryFor(dedupKey: DedupKey | null, command: Uint8Array): CachedAppend | null;
  rememberDedup(key: DedupKey, entry: LogEntry): void;
  sendReadRequest(read: PendingRead): void;
  settleLost(item: AwaitedProposal): void;
}

/**
 * A forward unanswered by the same leader is sent again after an election timeout, then after
 * twice as long each time, up to this many election timeouts. A fixed timeout collapsed a busy
 * cluster: once queueing delay passed it, every pipelined forward was sent twice, which made the
 * queues longer still. A new leader gets every forward at once (they are safe to retry).
 */
const maxForwardBackoffElectionTimeouts = 8;

/**
 * How long a forward answered 'busy' waits before it is sent again: one to two heartbeat
 * intervals after the first answer, twice as long after each further one in a row, up to four to
 * eight election timeouts (the cap of unanswered forwards), drawn from the engine's random source
 * between half and all of the ceiling. A leader answers 'busy' for as long as its disk lags
 * (leader-proposals.ts admissionFailure), and each pending forward used to re-send its whole
 * command every heartbeat interval meanwhile, about 20 times a second each, adding load to the
 * leader exactly while it was overloaded (a review of the session's fixes, 2026-12-07). The
 * random part keeps forwards refused together from all coming back together. The count starts
 * over when the forward goes to another leader, and a forward that is appended is done.
 */
function busyRetryDelayMs(core: CoreState<ProposalForwardingHost>, busyAnswers: number): number {
  const { heartbeatIntervalMs, electionTimeoutMaxMs } = core.config;
  // The exponent is capped only so that 2 ** n stays finite; the cap on the delay binds far sooner.
  const ceilingMs = Math.min(heartbeatIntervalMs * 2 ** Math.min(busyAnswers, 30), maxForwardBackoffElectionTimeouts * electionTimeoutMaxMs);
  const draw = core.random();
  const fraction = draw >= 0 && draw < 1 ? draw : 0;
  return ceilingMs * (0.5 + fraction / 2);
}

export function sendForward(core: CoreState<ProposalForwardingHost>, forward: PendingForward): void {
  const leader = forwardingTarget(core);
  if (leader === null) {
    forward.sentTo = null;
    return;
  }
  core.forwards.correlate(forward, core.nextCorrelationId++);
  const maxRetryAfterMs = maxForwardBackoffElectionTimeouts * core.config.electionTimeoutMaxMs;
  forward.retryAfterMs = forward.sentTo === leader ? Math.min(2 * forward.retryAfterMs, maxRetryAfterMs) : core.config.electionTimeoutMaxMs;
  // Another leader's 'busy' says nothing of this one's load.
  if (forward.sentTo !== leader) forward.busyAnswers = 0;
  forward.sentTo = leader;
  forward.sentAt = core.now;
  forward.commitIndexNeeded = null;
  // Our commit index: what proves to the leader that this incarnation is not a dead one (incarnation-proof.ts).
  send(core, leader, { type: 'forwardPropose', correlationId: forward.correlationId, command: forward.command, dedupKey: forward.dedupKey, proposerCommitIndex: core.commitIndex });
}

/** Re-sends forwards that have no leader, went to an old leader, or got no answer in time. */
export function retryForwards(core: CoreState<ProposalForwardingHost>): void {
  const target = forwardingTarget(core);
  for (const read of core.pendingReads.values()) {
    const stale = read.sentTo !== target || core.now - read.sentAt >= core.config.electionTimeoutMaxMs;
    if (read.sentTo === null || stale) core.host.sendReadRequest(read);
  }
  for (const forward of core.forwards.values()) {
    if (forward.appended !== null) continue;
    const stale = forward.sentTo !== target || core.now - forward.sentAt >= forward.retryAfterMs;
    const proven = forward.commitIndexNeeded !== null && core.commitIndex >= forward.commitIndexNeeded;
    if (forward.sentTo === null || stale || proven) sendForward(core, forward);
  }
}

export function handleForwardResponse(core: CoreState<ProposalForwardingHost>, from: NodeId, message: ForwardProposeResponse): void {
  const forward = core.forwards.findByCorrelation(message.correlationId);
  // A nonce is honoured only from the peer it was sent to (SPEC "Untrusted peers").
  if (forward === undefined || forward.sentTo !== from || forward.appended !== null) return;
  const outcome = message.outcome;
  switch (outcome.type) {
    case 'appended': {
      const verdict = forwardAnswerVerdict(core, from, forward, outcome.index, outcome.term);
      if (verdict === 'ignore') return;
      if (typeof verdict === 'string' && verdict !== 'accept') return refuse(core, from, verdict, 0);
      // Shown (or vouched for) to be this request's entry behind our snapshot, where the log cannot give it back.
      const settled = typeof verdict === 'string' ? null : verdict.committedAt;
      forward.appended = settled ?? { index: outcome.index, term: outcome.term };
      // Accepted by the leader: the proposer reports it as a leader's own proposals are, so
      // proposeAccepted comes with every proposal, whichever role this node holds.
      if (core.reportAcceptance) core.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: forward.appended.index });
      if (settled !== null) return settleCommittedBehindFloor(core, forward.proposalId, settled.index, settled.term, forward.command, forward.dedupKey);
      const item: AwaitedProposal = { proposalId: forward.proposalId, term: outcome.term, local: false };
      // Already outlived (a later term committed below it while the answer travelled): the
      // sweep for this committed term is past, so it is settled here, or it would wait forever.
      if (outcome.index > core.commitIndex && outcome.term < (core.log.termAt(core.commitIndex) ?? 0)) return core.host.settleLost(item);
      core.host.awaitExisting(outcome.index, item);
      return;
    }
    case 'notLeader':
      if (core.leaderId === from) core.leaderId = null;
      // Still the leader this node knows of in its term (pinned, and this node hears no leader
      // frames: forwardingTarget): asked again after the backoff. Cleared, it was asked on every
      // tick, since nothing else will name a new leader to a node no leader replicates to.
      if (forwardingTarget(core) !== from) forward.sentTo = null;
      return;
    case 'busy': {
      // Sent again once busyRetryDelayMs has passed (sentAt is set back so that retryForwards
      // finds it due then). A busy leader answered at once, so this says nothing about lost
      // frames: the wait for an answer to the re-send starts over at an election timeout.
      forward.busyAnswers += 1;
      forward.retryAfterMs = core.config.electionTimeoutMaxMs;
      forward.sentAt = core.now - forward.retryAfterMs + busyRetryDelayMs(core, forward.busyAnswers);
      return;
    }
    case 'unproven': {
      // The leader's log names another auto id of our node last, and our commit index when we
      // sent this did not show we started after it (incarnation-proof.ts). We are live, so we
      // will know that much committed soon (the index is in the leader's log): sent again then,
      // at once if we already do (retryForwards checks on every tick while forwards wait), or
      // after an election timeout as any unanswered forward, which covers a leader that falls
      // before committing it. A dead incarnation's straggler draws this answer too, and it goes
      // nowhere: correlation ids are drawn afresh by each incarnation.
      if (!isValidCounter(outcome.commitIndexNeeded)) return refuse(core, from, 'outOfRange', 0);
      forward.retryAfterMs = core.config.electionTimeoutMaxMs;
      forward.sentAt = core.now;
      forward.commitIndexNeeded = outcome.commitIndexNeeded;
      if (core.commitIndex >= outcome.commitIndexNeeded) sendForward(core, forward);
      return;
    }
    default:
      assertUnreachable(outcome);
  }
}

/**
 * Whether a leader's "appended at (index, term)" is taken (SPEC "Untrusted peers"); 'ignore'
 * sets it aside silently and the forward is sent again later (safe: the same dedup key).
 * - No entry of this node ever lands above maxLogIndex, so waiting on one there would hang.
 * - A leader's log holds every entry committed here, so it appends past them: an index at or
 *   below them names some other, committed entry, whose term would match and report this
 *   proposal committed as that entry. The exception is checked against this node's own log:
 *   an honest leader's dedup cache names the committed entry of a request id a caller
 *   re-proposed (SPEC's exactly-once recipe, replayed after a crash), and when the entry this
 *   node holds there carries the same term and the same dedup key, it is this proposal's entry:
 *   taken. Set aside, it was forwarded again to the same answer forever. Behind this node's
 *   snapshot the check is against the keys it compacted away (compacted-keys.ts): shown there,
 *   or the request remembered at another entry (settled there), or disproved (set aside); when
 *   that part of the log is not remembered (it restarted since, or installed a snapshot over a
 *   gap), the answer of the leader pinned for the current term is taken: nothing
 *   here can show it wrong, and that leader is trusted with the log itself (SPEC checks what
 *   the recipient can check), unless it names a term above the snapshot's. Set aside, the
 *   request would be forwarded again to the same answer until its caller gave up, where a
 *   leader that did not remember the key used to append a copy.
 * - An answer above that is awaited like any other; if a snapshot installed meanwhile covers
 *   it, the wait settles by what can be shown there (settleAwaited: the snapshot's term, or
 *   the keys remembered at the install), never by the answer alone: the entry it names may
 *   have been overwritten since it was sent.
 * - A term newer than this node's, or its own term from anyone but the leader pinned for it
 *   (a leader re-elected in a term not heard of here yet), cannot be checked: set aside. An
 *   older term can be honest (a leader's dedup cache answers with an entry it appended while
 *   leading an earlier term). So the term of an answer taken is older than this node's, or
 *   that of the leader answering, and the wait on it ends once a leader of a later term
 *   commits anything (settleOutlived): only the answering leader, while it still leads, can
 *   hold it up, and it could as well withhold an honest entry. A bound on the index relative
 *   to the leader's commit index would add nothing to that, and has no sound value: this node
 *   may lag the leader's log by any number of entries (a newcomer catching up on a snapshot
 *   while its user writes), and a refused honest answer is retried to the same answer.
 */
function forwardAnswerVerdict(core: CoreState<ProposalForwardingHost>, from: NodeId, forward: PendingForward, index: number, term: number): 'accept' | 'ignore' | RefusalReason | { readonly committedAt: CachedAppend } {
  if (!isValidCounter(index) || !isValidCounter(term) || index === 0 || index > maxLogIndex) return 'outOfRange';
  if (index <= forward.committedBefore) {
    if (holdsForwardedEntry(core, forward, index, term)) return 'accept';
    if (index > core.log.floorIndex) return 'ignore';
    const check = checkCompacted(core, forward.dedupKey, forward.command, index, term);
    switch (check.type) {
      case 'shown':
        return { committedAt: { index, term } };
      case 'elsewhere':
        return { committedAt: check.entry }; // where the request first took effect
      case 'disproved':
        return 'ignore';
      case 'unknown': {
        const fromCurrentLeader = core.pinnedLeader?.term === core.currentTerm && core.pinnedLeader.leaderId === from;
        // Terms never decrease along a log: an entry behind the snapshot has at most its term.
        const floorTerm = core.log.termAt(core.log.floorIndex) ?? 0;
        return fromCurrentLeader && term <= floorTerm ? { committedAt: { index, term } } : 'ignore';
      }
      default:
        return assertUnreachable(check);
    }
  }
  const fromPinnedLeader = core.pinnedLeader?.term === term && core.pinnedLeader.leaderId === from;
  if (term > core.currentTerm || (term === core.currentTerm && !fromPinnedLeader)) return 'ignore';
  return 'accept';
}

/**
 * Whether this node's log holds, at (index, term), an entry under the forward's own dedup key:
 * the answer to a request re-proposed after it committed (a durable id replayed), which a
 * leader answers with the entry it inherited. Keys are unique per client and request (SPEC
 * "Exactly-once"), so that entry is this request's, and it is committed here: it settles at
 * once.
 */
function holdsForwardedEntry(core: CoreState<ProposalForwardingHost>, forward: PendingForward, index: number, term: number): boolean {
  const entry = core.log.entryAt(index);
  return forward.dedupKey !== null && entry?.term === term && carriesKey(entry, forward.dedupKey);
}

/** A new leader takes over its own pending forwards: they are in its log or get appended. */
export function adoptForwardsAsLeader(core: CoreState<ProposalForwardingHost>): void {
  for (const forward of core.forwards.values()) {
    const appended = forward.appended;
    if (appended !== null && core.log.termAt(appended.index) === appended.term) {
      core.awaited.remove(forward.proposalId);
      core.awaited.add(appended.index, { proposalId: forward.proposalId, term: appended.term, local: true });
      continue;
    }
    if (appended !== null) core.awaited.remove(forward.proposalId);
    // Appended by an earlier leader whose answer never came: our log holds it (see rememberInheritedDedupKeys).
    const inherited = core.host.cachedEntryFor(forward.dedupKey, forward.command);
    if (inherited !== null) {
      if (core.reportAcceptance && appended === null) core.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: inherited.index });
      if (inherited.index <= core.log.floorIndex) {
        settleCommittedBehindFloor(core, forward.proposalId, inherited.index, inherited.term, forward.command, forward.dedupKey);
        continue;
      }
      core.host.awaitExisting(inherited.index, { proposalId: forward.proposalId, term: inherited.term, local: true });
      continue;
    }
    const entry = appendAsLeader(core, forward.command, forward.dedupKey);
    // Remembered as a forward from a follower is: the application may propose the request again
    // (its call timed out) while this node leads, and must then wait on this entry.
    if (forward.dedupKey !== null) core.host.rememberDedup(forward.dedupKey, entry);
    // First accepted now (one held through a transfer, or never answered): reported once.
    if (core.reportAcceptance && appended === null) core.outcomes.push({ type: 'accepted', proposalId: forward.proposalId, index: entry.index });
    core.awaited.add(entry.index, { proposalId: forward.proposalId, term: entry.term, local: true });
  }
  core.forwards.clear();
}
