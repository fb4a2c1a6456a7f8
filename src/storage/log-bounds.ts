// What the log holds, kept in memory so that an append can be validated before its transaction
// starts (and without a read inside it). The same rules as InMemoryRaftStorage: appends are
// contiguous after the last entry, or, on an empty log, start right after the stored snapshot.
import { isValidCounter, type LogEntry } from '../core/types.ts';
import type { StorageBatch } from './raft-storage.ts';

export interface LogBounds {
  /** The first index the log holds (or would hold): moved by a prefix discard. */
  readonly firstIndex: number;
  /** firstIndex - 1 when the log is empty. */
  readonly lastIndex: number;
  /** The stored snapshot's last included index, or null. */
  readonly snapshotIndex: number | null;
}

export const isEmpty = (bounds: LogBounds): boolean => bounds.lastIndex < bounds.firstIndex;

/**
 * Refuses an index argument that is not an integer (NaN, a fraction, an infinity) before anything
 * changes. Below or beyond the log is fine (each method says what it means there), but NaN
 * compares false with everything: in memory it would slip past every bound check and wreck the
 * log's offsets, and IndexedDB rejects it as a key only inside the transaction, failing the
 * whole storage for a caller's mistake.
 */
export function requireIndexArgument(adapter: string, operation: string, index: number): void {
  if (!Number.isSafeInteger(index)) throw new RangeError(`${adapter} ${operation}: the index must be a safe integer, got ${String(index)}`);
}

/**
 * Refuses entries whose term is not a safe non-negative integer, before anything is written. A
 * stored log with such a term could never be restored (restore refuses it as corrupt), and the
 * IndexedDB codec would throw inside the transaction, failing the whole storage.
 */
export function requireEntryTerms(adapter: string, entries: readonly LogEntry[]): void {
  for (const entry of entries) {
    if (!isValidCounter(entry.term)) throw new RangeError(`${adapter} append: entry ${entry.index} has term ${String(entry.term)}, not a safe non-negative integer`);
  }
}

/**
 * Refuses a hard state or leader pin whose term is not a safe non-negative integer, before
 * anything is written: restore would refuse such a term as corrupt, and the file journal's
 * encoder threw inside the write, failing the storage for good over a caller's mistake.
 */
export function requireStateTerms(adapter: string, operation: string, state: { readonly hardState?: StorageBatch['hardState']; readonly leaderForTerm?: StorageBatch['leaderForTerm'] | null }): void {
  for (const [what, term] of [['term', state.hardState?.term], ['leader pin term', state.leaderForTerm?.term]] as const) {
    if (term !== undefined && !isValidCounter(term)) throw new RangeError(`${adapter} ${operation}: the ${what} must be a safe non-negative integer, got ${String(term)}`);
  }
}

/** Where an append of `entries` starts; throws (a caller bug, nothing written) on a gap or overlap. */
export function appendStart(bounds: LogBounds, entries: readonly LogEntry[]): number {
  const first = entries[0];
  if (first === undefined) return bounds.lastIndex + 1;
  const afterSnapshot = bounds.snapshotIndex === null ? null : bounds.snapshotIndex + 1;
  const start = isEmpty(bounds) && first.index === afterSnapshot ? afterSnapshot : bounds.lastIndex + 1;
  entries.forEach((entry, position) => {
    if (entry.index !== start + position) {
      throw new Error(`append expected index ${start + position}, got ${entry.index} (appends must be contiguous after index ${bounds.lastIndex})`);
    }
  });
  return start;
}

export function afterAppend(bounds: LogBounds, start: number, count: number): LogBounds {
  if (count === 0) return bounds;
  const firstIndex = isEmpty(bounds) ? start : bounds.firstIndex;
  return { ...bounds, firstIndex, lastIndex: start + count - 1 };
}

export function afterTruncate(bounds: LogBounds, index: number): LogBounds {
  if (index > bounds.lastIndex) return bounds;
  return { ...bounds, lastIndex: Math.max(bounds.firstIndex - 1, index - 1) };
}

export function afterDiscard(bounds: LogBounds, throughIndex: number): LogBounds {
  if (throughIndex < bounds.firstIndex) return bounds;
  return { ...bounds, firstIndex: throughIndex + 1, lastIndex: Math.max(bounds.lastIndex, throughIndex) };
}

/**
 * Refuses a commit index that is not a safe non-negative integer, before anything is written:
 * restore would refuse it as corrupt, and the journal's varint cannot carry it.
 */
export function requireCommitIndex(adapter: string, operation: string, index: number | undefined): void {
  if (index !== undefined && !isValidCounter(index)) throw new RangeError(`${adapter} ${operation}: the commit index must be a safe non-negative integer, got ${String(index)}`);
}
