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
// committed log's entry at that index for good. A key keeps the first index it committed at (a
// copy committed later, where no member remembered the original, is the one the session table
// skips). Each record carries a digest of its command: a request is only taken for a compacted
// entry whose command it repeats, since an answer rebuilds the entry from the request's command
// (the log no longer holds it), and a key reused for another command must not report that
// command committed.
import type { CompactedEntry, CoreState } from './core-state.ts';
import { compactedKeysSize } from './core-state.ts';
import type { DedupKey, LogEntry } from './types.ts';

/**
 * Remembers the keys of this node's entries through `committedThrough` before the log drops
 * them through `newFloor`. The caller vouches that they are committed: through the applied index
 * when the application compacts, through the commit index (or a snapshot's index its log
 * matches) at an install. A bounded scan of the newest, once per compaction.
 */
export function rememberCompactedKeys(core: CoreState, committedThrough: number, newFloor: number): void {
  const last = Math.min(committedThrough, core.log.lastIndex);
  const first = Math.max(core.log.floorIndex + 1, last - compactedKeysSize + 1);
  for (let index = first; index <= last; index += 1) {
    const entry = core.log.entryAt(index);
    if (entry?.dedupKey === undefined || core.compactedKeys.get(entry.dedupKey) !== undefined) continue;
    core.compactedKeys.remember(entry.dedupKey, { index, term: entry.term, commandDigest: commandDigest(entry.command) });
  }
  // Coverage runs without a gap up to the new floor: a capped scan or entries never seen here
  // (an install past the commit index over a log that does not match) start it again above them.
  const contiguous = first === core.log.floorIndex + 1 && last === newFloor && core.compactedKeysCoverFrom <= first;
  if (!contiguous) core.compactedKeysCoverFrom = last === newFloor ? first : newFloor + 1;
  // Keys that fell out of the bounded cache uncover what is older than the oldest kept.
  const oldest = core.compactedKeys.oldestValue;
  if (oldest !== undefined && core.compactedKeys.size >= compactedKeysSize) core.compactedKeysCoverFrom = Math.max(core.compactedKeysCoverFrom, oldest.index);
}

/** The committed entry behind this node's floor that a request (its key and command) took effect at, if remembered. */
export function compactedEntryFor(core: CoreState, key: DedupKey | null, command: Uint8Array): CompactedEntry | null {
  if (key === null) return null;
  const compacted = core.compactedKeys.get(key);
  return compacted !== undefined && compacted.commandDigest === commandDigest(command) ? compacted : null;
}

/**
 * What this node can tell of "the request took effect at (index, behind the floor)":
 * - 'shown': it remembers the request at that entry;
 * - 'elsewhere': it remembers the request committed at another entry (returned);
 * - 'disproved': it remembers every key behind the floor from there on, and not this request's
 *   (or the key under another command);
 * - 'unknown': it never held that part of the log, or forgot it (restarted, installed over a gap).
 */
export type CompactedCheck = { readonly type: 'shown' | 'disproved' | 'unknown' } | { readonly type: 'elsewhere'; readonly entry: CompactedEntry };

export function checkCompacted(core: CoreState, key: DedupKey | null, command: Uint8Array, index: number, term: number): CompactedCheck {
  const remembered = key === null ? undefined : core.compactedKeys.get(key);
  if (remembered !== undefined && remembered.commandDigest === commandDigest(command)) {
    return remembered.index === index && remembered.term === term ? { type: 'shown' } : { type: 'elsewhere', entry: remembered };
  }
  if (remembered !== undefined) return { type: 'disproved' };
  return index >= core.compactedKeysCoverFrom ? { type: 'disproved' } : { type: 'unknown' };
}

/**
 * Settles a proposal whose entry is committed behind this node's snapshot: the entry is rebuilt
 * from the proposal's own command and key (a retry carries the command it was first proposed
 * with, and a remembered entry matched its digest), since the log no longer holds it.
 */
export function settleCommittedBehindFloor(core: CoreState, proposalId: number, index: number, term: number, command: Uint8Array, key: DedupKey | null): void {
  const entry: LogEntry = key === null ? { index, term, command, isNoOp: false } : { index, term, command, isNoOp: false, dedupKey: key };
  core.forwards.delete(proposalId);
  core.outcomes.push({ type: 'committed', proposalId, entry });
}

/** FNV-1a, 32 bits: a check against a key reused for another command, not against an adversary. */
function commandDigest(command: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < command.length; position += 1) hash = Math.imul(hash ^ (command[position] as number), 0x01000193);
  return hash >>> 0;
}
