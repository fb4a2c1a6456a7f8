// What the log holds, kept in memory so that an append can be validated before its transaction
// starts (and without a read inside it). The same rules as InMemoryRaftStorage: appends are
// contiguous after the last entry, or, on an empty log, start right after the stored snapshot.
// Also the checks every storage makes of a call before it writes anything: a caller's mistake
// (an index that is not one, a term, entry or snapshot meta no stored record could carry back)
// is a RangeError that changes nothing and leaves the storage usable.
import { codecLimits } from '../codec/limits.ts';
import { clientId, isValidCounter, nodeId, validateClusterConfig, type ClusterConfig, type ConfigPayload, type LogEntry, type SnapshotMeta } from '../core/types.ts';
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
 * Refuses entries a stored record could not carry back, before anything is written: the record
 * codec's reader (codec/records.ts) refuses them, so a durable storage that wrote one acknowledged
 * it and then failed its next open as corrupt (a review found IndexedDB doing so with a doubled
 * voter, an over-long client id and an oversize command), or its encoder threw inside the write,
 * failing the whole storage over a caller's mistake. Every storage applies these rules, the one in
 * memory too, so a node behaves alike on each. The engine never makes such an entry (its ids,
 * request ids, configurations and command sizes are validated where they come in).
 */
export function requireStorableEntries(adapter: string, entries: readonly LogEntry[]): void {
  // A run of one client's entries checks its id once (the driver's batches are such runs).
  let checkedClientId: string | null = null;
  for (const entry of entries) {
    if (!Number.isSafeInteger(entry.index) || entry.index < 1) refuseEntry(adapter, entry, 'has an index that is not a safe positive integer (the largest is 2^53-1)');
    if (!isValidCounter(entry.term)) refuseEntry(adapter, entry, `has term ${String(entry.term)}, not a safe non-negative integer`);
    if (entry.command.length > codecLimits.maxCommandBytes) refuseEntry(adapter, entry, `has a command of ${entry.command.length} bytes, more than the ${codecLimits.maxCommandBytes} a log entry may hold`);
    if (entry.config !== undefined) requireStorableConfig(entry.config, (what) => refuseEntry(adapter, entry, what));
    const key = entry.dedupKey;
    if (key === undefined) continue;
    if (!isValidCounter(key.requestId)) refuseEntry(adapter, entry, `has a dedup key whose request id ${String(key.requestId)} is not a safe non-negative integer`);
    if (key.clientId !== checkedClientId) {
      try {
        clientId(key.clientId);
      } catch (error) {
        refuseEntry(adapter, entry, `has a dedup key whose client id cannot be stored (${(error as Error).message})`);
      }
      checkedClientId = key.clientId;
    }
  }
}

function refuseEntry(adapter: string, entry: LogEntry, what: string): never {
  throw new RangeError(`${adapter} append: entry ${String(entry.index)} ${what}`);
}

/**
 * Refuses a snapshot meta a stored record could not carry back (the same rules as for entries):
 * a configuration the reader refuses made the next open fail on the snapshot.
 */
export function requireStorableSnapshotMeta(adapter: string, meta: SnapshotMeta): void {
  const refuse = (what: string): never => {
    throw new RangeError(`${adapter} saveSnapshot: the snapshot meta ${what}`);
  };
  if (!isValidCounter(meta.lastIncludedIndex)) refuse(`has index ${String(meta.lastIncludedIndex)}, not a safe non-negative integer`);
  if (!isValidCounter(meta.lastIncludedTerm)) refuse(`has term ${String(meta.lastIncludedTerm)}, not a safe non-negative integer`);
  if (meta.config !== undefined) requireStorableConfig(meta.config, refuse);
}

/** A configuration payload as the reader accepts it: each half valid by validateClusterConfig. */
function requireStorableConfig(config: ConfigPayload, refuse: (what: string) => never): void {
  if (typeof config !== 'object' || config === null) refuse(`has a configuration that is ${config === null ? 'null' : typeof config}, not { old, new }`);
  for (const [half, members] of [['old', config.old], ['new', config.new]] as const) {
    if (half === 'old' && members === null) continue;
    try {
      validateClusterConfig(members as ClusterConfig);
    } catch (error) {
      refuse(`has a configuration whose ${half} half is invalid: ${(error as Error).message}`);
    }
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
  // The ids too, as the reader checks them: the file journal stored a vote for '' and then
  // refused its own record at the next open (the review of storages that found the entries' case).
  for (const [what, id] of [['vote', state.hardState?.votedFor ?? null], ['leader pin', state.leaderForTerm?.leaderId ?? null]] as const) {
    if (id === null) continue;
    try {
      nodeId(id);
    } catch (error) {
      throw new RangeError(`${adapter} ${operation}: the ${what} names an id that cannot be stored (${(error as Error).message})`);
    }
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
