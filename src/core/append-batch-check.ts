// What a follower can check in an AppendEntries (or catch-up) batch before it touches its log (SPEC "Untrusted
// peers"): it stays below the index ceiling, no entry is newer than the leader sending it, and a
// log's terms never decrease. The log asserts the last rule on every append, so a batch breaking
// it must be refused here: it would otherwise throw inside the engine and stop the node.
import type { RefusalReason } from './events.ts';
import type { AppendEntries } from './messages.ts';
import { maxLogIndex } from './types.ts';

export function appendBatchRefusal(message: Pick<AppendEntries, 'term' | 'prevLogIndex' | 'prevLogTerm' | 'entries'>): RefusalReason | null {
  // A log past the index ceiling would make `index + 1` inexact (see maxLogIndex). The sum itself
  // may round, but only when it is far above the ceiling, so the comparison stays right.
  if (message.prevLogIndex + message.entries.length > maxLogIndex) return 'outOfRange';
  // The entry before the batch is prevLogTerm's (checked against the follower's own log before
  // anything is appended), so terms must not fall below it either. Terms start at 1.
  let previousTerm = Math.max(message.prevLogTerm, 1);
  for (const entry of message.entries) {
    if (entry.term > message.term) return 'entryTermAboveFrame';
    if (entry.term < previousTerm) return 'entryTermDecreasing';
    // SPEC "Exactly-once": no-op and configuration entries carry no key. One that did would reach
    // the application's session table as a command no one proposed, and restore refuses it.
    if (entry.dedupKey !== undefined && (entry.isNoOp || entry.config !== undefined)) return 'internalEntryWithKey';
    previousTerm = entry.term;
  }
  return null;
}
