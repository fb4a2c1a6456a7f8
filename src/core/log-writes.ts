// Changes to what this node must write: log entries appended or truncated (the configuration
// follows the log), the term and vote, and the leader pinned for the term.
import { assert } from './assert.ts';
import type { CoreState } from './core-state.ts';
import { emitTrace } from './core-output.ts';
import { adoptMembership, findLatestConfigEntry, latestConfigPayload } from './membership-state.ts';
import type { ConfigPayload, DedupKey, LogEntry, NodeId } from './types.ts';

export function appendToLog(core: CoreState, entry: LogEntry): void {
  core.log.append(entry);
  core.unwrittenEntries.push(entry);
  if (entry.config !== undefined) {
    core.configEntryIndex = entry.index;
    adoptMembership(core, entry.config, entry.index);
  }
}

/**
 * Merges entries that follow a matching point into the log (§5.3): an entry already held with the
 * same term is kept, a conflicting one is cut with everything after it, a new one is appended.
 */
export function mergeEntries(core: CoreState, entries: readonly LogEntry[]): void {
  for (const entry of entries) {
    const localTerm = core.log.termAt(entry.index);
    if (localTerm === entry.term) continue;
    if (localTerm !== undefined) truncateLog(core, entry.index);
    appendToLog(core, entry);
  }
}

export function truncateLog(core: CoreState, fromIndex: number): void {
  assert(fromIndex > core.commitIndex, `truncation at ${fromIndex} would remove committed entries (commit ${core.commitIndex})`);
  const hadConfig = core.configEntryIndex >= fromIndex;
  core.log.truncateFrom(fromIndex);
  core.persistedIndex = Math.min(core.persistedIndex, fromIndex - 1);
  // Unwritten entries at or past the cut never reach storage; the rest get truncated there.
  core.unwrittenEntries = core.unwrittenEntries.filter((entry) => entry.index < fromIndex);
  core.pendingTruncateFrom = core.pendingTruncateFrom === null ? fromIndex : Math.min(core.pendingTruncateFrom, fromIndex);
  if (hadConfig) {
    core.configEntryIndex = findLatestConfigEntry(core);
    adoptMembership(core, latestConfigPayload(core), fromIndex - 1);
  }
}

export function appendAsLeader(core: CoreState, command: Uint8Array, dedupKey: DedupKey | null, isNoOp = false): LogEntry {
  const index = core.log.lastIndex + 1;
  const term = core.currentTerm;
  const entry: LogEntry = dedupKey === null ? { index, term, command, isNoOp } : { index, term, command, isNoOp, dedupKey };
  appendToLog(core, entry);
  // Every keyed entry a leader appends passes here: its own, forwarded and adopted proposals.
  if (dedupKey !== null) core.lastAutoEntries.note(dedupKey, index);
  emitTrace(core, { type: 'clientRequest', index: entry.index });
  return entry;
}

export function appendConfig(core: CoreState, payload: ConfigPayload): LogEntry {
  const entry: LogEntry = { index: core.log.lastIndex + 1, term: core.currentTerm, command: new Uint8Array(0), isNoOp: false, config: payload };
  appendToLog(core, entry);
  emitTrace(core, { type: 'clientRequest', index: entry.index });
  return entry;
}

export function setTerm(core: CoreState, term: number, votedFor: NodeId | null): void {
  if (term === core.currentTerm && votedFor === core.votedFor) return;
  core.currentTerm = term;
  core.votedFor = votedFor;
  core.hardStateDirty = true;
}

export function pinLeader(core: CoreState, leaderId: NodeId): void {
  core.pinnedLeader = { term: core.currentTerm, leaderId };
  core.leaderPinDirty = true;
}
