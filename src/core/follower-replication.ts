// Replication, follower side (§5.3): a leader's entries are appended once the consistency check
// passes, and the answer names the match index, or where the logs diverge.
import { appendBatchRefusal } from './append-batch-check.ts';
import { emitTrace, refuse } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { answerAppendEntries } from './held-answers.ts';
import { mergeEntries } from './log-writes.ts';
import type { AppendEntries, AppendEntriesResponse } from './messages.ts';
import type { NodeId } from './types.ts';

export function handleAppendEntries(core: CoreState, from: NodeId, message: AppendEntries): void {
  const refusal = appendBatchRefusal(message);
  if (refusal !== null) {
    refuse(core, from, refusal, message.term);
    return;
  }
  const reply = (response: Omit<AppendEntriesResponse, 'type' | 'term' | 'readRound'>): void => {
    answerAppendEntries(core, from, { type: 'appendEntriesResponse', term: core.currentTerm, readRound: message.readRound, ...response }, true);
  };
  let prevIndex = message.prevLogIndex;
  let entries = message.entries;
  // Entries at or below our commit index are already known to match: skip past them.
  if (prevIndex < core.commitIndex) {
    const skip = Math.min(entries.length, core.commitIndex - prevIndex);
    entries = entries.slice(skip);
    prevIndex += skip;
    if (prevIndex < core.commitIndex) {
      // Everything it carries is committed here. What is also on disk can be vouched for at
      // once (see answerAtOnce); the rest waits for the writes in flight.
      const durable = Math.min(core.commitIndex, core.persistedIndex);
      if (durable >= prevIndex && answerAtOnce(core, from, message, durable)) return;
      reply({ success: true, matchIndex: core.commitIndex, conflictIndex: 0, conflictTerm: 0 });
      return;
    }
  }
  const localPrevTerm = core.log.termAt(prevIndex);
  const expectedPrevTerm = prevIndex === message.prevLogIndex ? message.prevLogTerm : entryTermAt(message, prevIndex);
  if (localPrevTerm !== expectedPrevTerm) {
    emitTrace(core, { type: 'appendEntriesRejected', from, conflictIndex: prevIndex });
    reply(conflictHint(core, prevIndex));
    return;
  }
  mergeEntries(core, entries);
  const lastNewIndex = prevIndex + entries.length;
  const newCommit = Math.min(message.leaderCommit, lastNewIndex);
  if (newCommit > core.commitIndex) {
    core.commitIndex = newCommit;
    emitTrace(core, { type: 'advanceCommitIndex', commitIndex: newCommit });
  }
  emitTrace(core, { type: 'appendEntriesAccepted', from, matchIndex: lastNewIndex });
  if (entries.length === 0 && lastNewIndex <= core.persistedIndex && answerAtOnce(core, from, message, lastNewIndex)) return;
  reply({ success: true, matchIndex: lastNewIndex, conflictIndex: 0, conflictTerm: 0 });
}

/**
 * A heartbeat that vouches only for entries already on disk is answered at once, not after the
 * writes in flight: CheckQuorum counts these answers, and while a slow disk held them back
 * (strict IndexedDB under load takes 100 ms and more per write) leaders stepped down. Not while
 * the term, the vote or the leader pin are still to be written: an answer speaks for those too.
 */
function answerAtOnce(core: CoreState, to: NodeId, message: AppendEntries, matchIndex: number): boolean {
  if (core.hardStateDirty || core.leaderPinDirty || core.newestHardStateWrite > core.writesPersisted) return false;
  answerAppendEntries(core, to, { type: 'appendEntriesResponse', term: core.currentTerm, readRound: message.readRound, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 }, false);
  return true;
}

function conflictHint(core: CoreState, prevIndex: number): { success: false; matchIndex: number; conflictIndex: number; conflictTerm: number } {
  if (prevIndex > core.log.lastIndex) {
    return { success: false, matchIndex: 0, conflictIndex: core.log.lastIndex + 1, conflictTerm: 0 };
  }
  const conflictTerm = core.log.termAt(prevIndex) ?? 0;
  const firstOfTerm = Math.max(core.log.firstIndexOfTerm(conflictTerm, prevIndex), core.commitIndex + 1);
  return { success: false, matchIndex: 0, conflictIndex: firstOfTerm, conflictTerm };
}

function entryTermAt(message: AppendEntries, index: number): number | undefined {
  const entry = message.entries[index - message.prevLogIndex - 1];
  return entry?.term;
}
