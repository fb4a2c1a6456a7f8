// The dedup keys of committed entries this node compacted away (SPEC "Exactly-once"). A request
// retried after its entry committed (its answer lost to a crash, a closed page, a call timed
// out) is recognised by the entry its key is under: a leader answers the retry with that entry,
// and the proposer checks the answer against its own log. Once the entry is behind a snapshot,
// neither can see it, and the leader appended the command a second time: harmless for the state
// (the application's ClientSessionTable skips the copy), but the proposer was acknowledged with
// the skipped copy's index. In the browser fault campaign, which compacts every 150 entries while
// retries come seconds later, that was the common case. So a node remembers the keys of the
// newest entries it compacts, in memory (a restarted node knows only its log; see
// forwardAnswerVerdict for what a proposer does then).
//
// Only committed entries are remembered, so an entry found here needs no term check: it is the
// committed log's entry at that index for good.
import type { CoreState } from './core-state.ts';
import { compactedKeysSize } from './core-state.ts';
import type { CachedAppend } from './dedup-key-cache.ts';
import type { DedupKey, LogEntry } from './types.ts';

/**
 * Remembers the keys of this node's entries through `throughIndex` before the log drops them.
 * The caller vouches that they are committed: through the applied index when the application
 * compacts, through the commit index (or a snapshot's index its log matches) at an install.
 * A bounded scan of the newest, once per compaction.
 */
export function rememberCompactedKeys(core: CoreState, throughIndex: number): void {
  const last = Math.min(throughIndex, core.log.lastIndex);
  const first = Math.max(core.log.floorIndex + 1, last - compactedKeysSize + 1);
  for (let index = first; index <= last; index += 1) {
    const entry = core.log.entryAt(index);
    if (entry?.dedupKey !== undefined) core.compactedKeys.remember(entry.dedupKey, index, entry.term);
  }
}

/** The committed entry behind this node's floor that a request's key is under, if remembered. */
export function compactedEntryFor(core: CoreState, key: DedupKey | null): CachedAppend | null {
  if (key === null) return null;
  return core.compactedKeys.get(key) ?? null;
}

/** Whether this node compacted away the committed entry (index, term) under this key. */
export function compactedUnderKey(core: CoreState, key: DedupKey | null, index: number, term: number): boolean {
  const compacted = compactedEntryFor(core, key);
  return compacted !== null && compacted.index === index && compacted.term === term;
}

/**
 * Settles a proposal whose entry is committed behind this node's snapshot: the entry is rebuilt
 * from the proposal's own command and key (a retry carries the command it was first proposed
 * with), since the log no longer holds it.
 */
export function settleCommittedBehindFloor(core: CoreState, proposalId: number, index: number, term: number, command: Uint8Array, key: DedupKey | null): void {
  const entry: LogEntry = key === null ? { index, term, command, isNoOp: false } : { index, term, command, isNoOp: false, dedupKey: key };
  core.forwards.delete(proposalId);
  core.outcomes.push({ type: 'committed', proposalId, entry });
}
