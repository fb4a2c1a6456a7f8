// A witness hands its entries to a voter that is behind it (CatchUpEntries). A witness never
// leads, so it never replicates; when the voters that may lead all lack entries that only a
// witness and absent members hold, the witness denies every campaign (logNotUpToDate) and
// nobody can lead until an absent member returns: in a room of two tabs and a witness, the
// leading tab closing while the other was one entry behind stalled the room for good (found by
// the simulator with witnesses, 5-node seed 6 with two witnesses). Here the witness sends the
// campaigning voter the entries it lacks, and that voter can then win the witness's vote.
//
// Why it is safe (docs/spec-readings.md, the row on witnesses): the receiver takes the
// entries only when the batch's last entry is more up to date than its own last entry (§5.4.1's
// order). A catch-up can truncate a committed entry, but only on a node that was not in the
// entry's commit quorum: every member of that quorum holds an entry of the commit's term or later
// (the leader's entry that carried the commit), and a log at least as up to date as that holds the
// committed entry too (the argument of Leader Completeness, which only needs the logs to be
// prefixes of leaders' logs, which copies of a leader's entries are), so no batch is ahead of
// theirs and the quorum's copies stay (a review's repro: a voter one term behind lost a committed
// entry to a witness's batch, and got it back from the next leader). What it leaves is no less up
// to date than what was there,
// and the receiver adopts the batch's last term, as a follower adopts its leader's, so its next
// term is above every entry it holds. It ends any campaign under way, since the batch may change
// the configuration the campaign's votes are counted against; it grants no vote (a newer term
// clears the old one, as any term adoption does) and pins no leader: it is still to win an
// election. Leaders never take one (their logs are append-only), nor does a node that hears a
// live leader (that leader brings it up to date).
import { appendBatchRefusal } from './append-batch-check.ts';
import { emitTrace, refuse, send } from './core-output.ts';
import { type CoreState, frameOverheadBytes } from './core-state.ts';
import { batchEnd } from './entry-size.ts';
import { mergeEntries } from './log-writes.ts';
import type { CatchUpIgnoredReason } from './events.ts';
import { compareLogEnds } from './log-order.ts';
import { isVoter } from './membership-state.ts';
import type { CatchUpEntries, RequestVote } from './messages.ts';
import type { NodeId, StepDownReason } from './types.ts';

/** What catch-up needs of the rest of the engine (raft-core.ts wires it). */
export interface CatchUpHost {
  becomeFollower(term: number, leader: NodeId | null, reason: StepDownReason | 'electionLost'): void;
}

/** Whether a leader frame was accepted within the shortest election timeout. */
function hearsLiveLeader(core: CoreState<CatchUpHost>): boolean {
  return core.role === 'leader' || (core.leaderId !== null && core.now - core.lastLeaderContact < core.config.electionTimeoutMinMs);
}

/**
 * Witness side: a voter of our configuration asked for a (pre-)vote with a log behind ours, and
 * we know no live leader. Send it what follows the newest point where our logs may agree, one
 * batch (the replication bound) at most once per shortest election timeout per voter: its next
 * campaign asks again, and a voter flooding requests gets no more than that.
 */
export function offerCatchUp(core: CoreState<CatchUpHost>, to: NodeId, request: RequestVote): void {
  if (!core.config.witness || hearsLiveLeader(core)) return;
  const behind = compareLogEnds(request.lastLogTerm, request.lastLogIndex, core.log.lastTerm, core.log.lastIndex) < 0;
  if (!behind) return;
  const previous = core.catchUpOffers.get(to);
  if (previous !== undefined && core.now - previous.at < core.config.electionTimeoutMinMs) return;
  const newest = newestPossibleMatch(core, request);
  if (newest === null) return; // compacted away: the voter needs a snapshot, which only a leader streams
  // The voter asks again with the same log: our last batch was lost, or did not start on its log
  // (it holds entries of a term we lack there), which it does not tell us. Try one term further
  // back than last time, but only with a batch that can still reach past its log (a batch it
  // must ignore teaches nothing); otherwise start at the newest possible match again, so a lost
  // frame is simply sent again and the voter is never left without an offer.
  let batch: { readonly start: number; readonly lastIndex: number } | null = null;
  if (previous !== undefined && previous.lastLogIndex === request.lastLogIndex && previous.lastLogTerm === request.lastLogTerm && previous.prevLogIndex <= newest) {
    const earlier = oneTermBack(core, previous.prevLogIndex);
    const earlierEnd = earlier === null ? 0 : batchEnd(core.log, earlier, frameOverheadBytes, core.replicationBatchBytes);
    if (earlier !== null && endsPast(core, earlierEnd, request)) batch = { start: earlier, lastIndex: earlierEnd };
  }
  const { start, lastIndex } = batch ?? { start: newest, lastIndex: batchEnd(core.log, newest, frameOverheadBytes, core.replicationBatchBytes) };
  for (const voter of core.catchUpOffers.keys()) if (!isVoter(core, voter)) core.catchUpOffers.delete(voter);
  core.catchUpOffers.set(to, { at: core.now, lastLogIndex: request.lastLogIndex, lastLogTerm: request.lastLogTerm, prevLogIndex: start });
  const entries = core.log.slice(start + 1, lastIndex);
  send(core, to, { type: 'catchUpEntries', term: core.currentTerm, prevLogIndex: start, prevLogTerm: core.log.termAt(start) as number, entries });
  emitTrace(core, { type: 'catchUpSent', to, prevLogIndex: start, count: entries.length });
}

/**
 * Our newest index whose term is no newer than the voter's last term, at or below its last
 * index: every entry of its log is at most that term, so any match lies there or below. Term by
 * term, so a long log costs one step per term. Null when that point is compacted away.
 */
function newestPossibleMatch(core: CoreState, request: RequestVote): number | null {
  let index = Math.min(request.lastLogIndex, core.log.lastIndex);
  let term = core.log.termAt(index);
  while (term !== undefined && term > request.lastLogTerm && index > core.log.floorIndex) {
    index = core.log.firstIndexOfTerm(term, index) - 1;
    term = core.log.termAt(index);
  }
  return term === undefined || term > request.lastLogTerm ? null : index;
}

/** The last index of the term before the one `index` is in, or null at the snapshot floor. */
function oneTermBack(core: CoreState, index: number): number | null {
  const term = core.log.termAt(index);
  if (term === undefined || index <= core.log.floorIndex) return null;
  return core.log.firstIndexOfTerm(term, index) - 1;
}

/** Whether a batch ending at `lastIndex` of our log is strictly more up to date than the voter's log. */
function endsPast(core: CoreState, lastIndex: number, request: RequestVote): boolean {
  const lastTerm = core.log.termAt(lastIndex) ?? 0;
  return compareLogEnds(lastTerm, lastIndex, request.lastLogTerm, request.lastLogIndex) > 0;
}

/** Receiving side: take a witness's entries if they leave this log more up to date than it was. */
export function handleCatchUpEntries(core: CoreState<CatchUpHost>, from: NodeId, message: CatchUpEntries): void {
  if (!isVoter(core, from)) {
    refuse(core, from, 'senderNotVoter', message.term);
    return;
  }
  const refusal = appendBatchRefusal(message);
  if (refusal !== null) {
    refuse(core, from, refusal, message.term);
    return;
  }
  const ignore = (reason: CatchUpIgnoredReason): void => emitTrace(core, { type: 'catchUpIgnored', from, reason });
  if (hearsLiveLeader(core)) return ignore('leaderKnown');
  const last = message.entries[message.entries.length - 1];
  const ahead = last !== undefined && compareLogEnds(last.term, last.index, core.log.lastTerm, core.log.lastIndex) > 0;
  if (!ahead) return ignore('notBehind');
  // Entries at or below our commit index are committed, so they match: skip past them.
  let prevIndex = message.prevLogIndex;
  let entries = message.entries;
  if (prevIndex < core.commitIndex) {
    const skip = core.commitIndex - prevIndex;
    entries = entries.slice(skip);
    prevIndex += skip;
  }
  const expectedPrevTerm = prevIndex === message.prevLogIndex ? message.prevLogTerm : message.entries[prevIndex - message.prevLogIndex - 1]?.term;
  if (core.log.termAt(prevIndex) !== expectedPrevTerm) return ignore('logsDiverge');
  // As a follower takes its leader's term: this node's next campaign must be for a term above
  // every entry it holds, or its own entries would follow newer ones. A campaign under way ends
  // either way: the batch may change the configuration its votes are counted against (a
  // candidate whose configuration shrank mid-election won a term another node led, found by a
  // review: src/core/witness-catch-up-campaign.test.ts), and entries of its own term show that
  // someone already leads it.
  if (last.term > core.currentTerm) core.host.becomeFollower(last.term, null, 'higherTermObserved');
  else if (core.role === 'candidate' || core.preCandidate) core.host.becomeFollower(core.currentTerm, null, 'electionLost');
  mergeEntries(core, entries);
  emitTrace(core, { type: 'catchUpAccepted', from, lastIndex: core.log.lastIndex });
}
