// Completing proposals: an awaited entry that becomes applicable commits the proposal if its term
// matches, and one outlived by a later term's commit is lost (forwarded again, or failed).
import { checkCompacted, settleCommittedBehindFloor } from './compacted-keys.ts';
import { applicableIndex, type CoreState, type PendingForward } from './core-state.ts';
import type { AwaitedProposal } from './proposal-waiters.ts';

/** What completing proposals needs of the rest of the engine (raft-core.ts wires it). */
export interface ProposalCompletionHost {
  sendForward(forward: PendingForward): void;
}

/** Waits on an entry already in the log; one at or below the applicable index settles at once. */
export function awaitExisting(core: CoreState<ProposalCompletionHost>, index: number, item: AwaitedProposal): void {
  core.awaited.add(index, item);
  if (index <= core.awaited.scannedThrough) checkAwaitedAt(core, index);
}

/** Completes proposals whose index is now applicable: committed if the term matches, else retried. */
export function resolveAwaited(core: CoreState<ProposalCompletionHost>): void {
  for (const group of core.awaited.takeApplicable(applicableIndex(core))) settleAwaited(core, group.index, group.waiting);
  settleOutlived(core);
}

/**
 * Settles, as lost, proposals waiting above the commit index for an entry of a term older than
 * the committed entry's there: such an entry (i, T) can never commit, and in an idle cluster
 * nothing else would ever reach index i to show it. Proof: say the committed entry is (c, t')
 * with c < i and t' > T, committed in term U1, and (i, T) were committed in term U2. Every
 * leader of a term after a commit holds the committed entry (Leader Completeness), and a leader
 * never drops entries during its term, so the leader of max(U1, U2) holds both (i, T) and
 * (c, t'); but terms never decrease along a log, so the entry at c < i has term at most T.
 *
 * Only the committed prefix is used. An uncommitted entry (j, t') with j <= i and t' > T, even
 * one the current leader sent, proves nothing: the leader of t' may fall before committing it,
 * and a node holding (i, T) may win the next term (voters with shorter logs elect it; the node
 * holding (j, t') is outvoted) and commit (i, T) after all. Forwarding again then would append
 * the command twice; exactly-once would still hold (the application's ClientSessionTable
 * applies it once), but the proposal would report the duplicate's index.
 *
 * Checked when the committed term rises (once per leader change) and, for an answer arriving
 * later, when it arrives (handleForwardResponse). Local proposals are never outlived while
 * this node leads (its log holds them); after a step-down they have already failed.
 */
function settleOutlived(core: CoreState<ProposalCompletionHost>): void {
  const committedTerm = core.log.termAt(core.commitIndex) ?? 0;
  if (committedTerm <= core.outlivedCheckedTerm) return;
  core.outlivedCheckedTerm = committedTerm;
  for (const group of core.awaited.takeOutlived(core.commitIndex, committedTerm)) {
    for (const item of group.waiting) settleLost(core, item);
  }
}

function checkAwaitedAt(core: CoreState<ProposalCompletionHost>, index: number): void {
  if (index > applicableIndex(core)) return;
  const waiting = core.awaited.take(index);
  if (waiting !== undefined) settleAwaited(core, index, waiting);
}

function settleAwaited(core: CoreState<ProposalCompletionHost>, index: number, waiting: readonly AwaitedProposal[]): void {
  const entry = core.log.entryAt(index);
  for (const item of waiting) {
    if (entry !== undefined && entry.term === item.term) {
      core.forwards.delete(item.proposalId);
      core.outcomes.push({ type: 'committed', proposalId: item.proposalId, entry });
      continue;
    }
    const forward = core.forwards.get(item.proposalId);
    if (forward !== undefined && entry === undefined && index <= core.log.floorIndex) {
      // The entry is behind a snapshot this node installed (its own compaction waits for
      // pending forwards), and forwarding again would get the same answer forever. The
      // snapshot's last entry is committed, and when its term is the one the leader appended
      // this proposal in, the same leader made both entries: a leader never changes an entry
      // of its own log, so its log held this one at `index` when it made the snapshot's last
      // entry, and by Log Matching at the snapshot's index the committed log holds it too (at
      // the snapshot's own index, the same index and term). So the proposal committed, and its
      // entry is rebuilt from the forward. That is the common case: a follower that fell behind
      // its leader's compaction under load, with no leader change. Keys this node remembers
      // from the entries it compacted (at the install, those through its commit index) settle
      // it too, where they show the request.
      const check = checkCompacted(core, forward.dedupKey, forward.command, index, item.term);
      if (check.type === 'elsewhere') settleCommittedBehindFloor(core, item.proposalId, check.entry.index, check.entry.term, forward.command, forward.dedupKey);
      else if (check.type === 'shown' || core.log.termAt(core.log.floorIndex) === item.term) settleCommittedBehindFloor(core, item.proposalId, index, item.term, forward.command, forward.dedupKey);
      else forwardAfresh(core, forward);
      continue;
    }
    settleLost(core, item);
  }
}

/**
 * A snapshot of a later term says nothing about which entry committed at the index a leader
 * named, and this node's log can no longer show it. Until 2026-12-02 the proposal failed with
 * leadershipLost there (outcome unknown); a caller retrying under an auto id would then mint a
 * new key and could apply the command twice. Instead the request is forwarded again as if made
 * now: the leader answers with the entry it holds under the key (dedup cache or compacted keys),
 * now at or below the commit index, where the answer is checked against what this node
 * remembers or, where it remembers nothing, taken from the current leader
 * (forwardAnswerVerdict); or it appends the command, above the commit index.
 */
function forwardAfresh(core: CoreState<ProposalCompletionHost>, forward: PendingForward): void {
  forward.committedBefore = core.commitIndex;
  forward.appended = null;
  core.host.sendForward(forward);
}

/** A proposal whose entry is lost to a leader change. */
export function settleLost(core: CoreState<ProposalCompletionHost>, item: AwaitedProposal): void {
  const forward = core.forwards.get(item.proposalId);
  if (forward !== undefined) {
    // Forward again under the same dedup key (safe to retry).
    forward.appended = null;
    core.host.sendForward(forward);
  } else {
    core.outcomes.push({ type: 'failed', proposalId: item.proposalId, failure: 'leadershipLost' });
  }
}
