// The `log` store as segments: each record holds a run of contiguous entries keyed by its first
// index. These functions run INSIDE a caller's transaction and await only that transaction's own
// requests (awaiting anything else would let the transaction commit early).
import type { IDBPObjectStore } from 'idb';
import { decodeLogEntries, encodeLogEntries } from '../../codec/records.ts';
import type { LogEntry } from '../../core/types.ts';
import { storageFailure } from '../storage-failure.ts';
import { describeStoredValue, isSegmentRecord, type RaftDatabaseSchema, type SegmentRecord } from './schema.ts';

type LogStore = IDBPObjectStore<RaftDatabaseSchema, ('state' | 'log')[], 'log', 'readwrite'>;
type ReadableLogStore = IDBPObjectStore<RaftDatabaseSchema, ('state' | 'log')[], 'log', 'readonly' | 'readwrite'>;

/** Bounds one record: the codec decodes at most 100,000 entries per record, and large values cost
 * a copy on every rewrite, so a big batch is stored as several segments. */
export const segmentLimits = { maxEntries: 4_096, maxBytes: 4 * 1024 * 1024 } as const;

/** Splits entries into segment-sized runs, keeping each run contiguous. */
export function splitIntoSegments(entries: readonly LogEntry[]): LogEntry[][] {
  const runs: LogEntry[][] = [];
  let run: LogEntry[] = [];
  let runBytes = 0;
  for (const entry of entries) {
    const bytes = entry.command.length + 32;
    if (run.length > 0 && (run.length >= segmentLimits.maxEntries || runBytes + bytes > segmentLimits.maxBytes)) {
      runs.push(run);
      run = [];
      runBytes = 0;
    }
    run.push(entry);
    runBytes += bytes;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

export function encodeSegment(entries: readonly LogEntry[]): SegmentRecord {
  const last = entries[entries.length - 1];
  if (last === undefined) throw new Error('a segment holds at least one entry');
  return { lastIndex: last.index, entries: encodeLogEntries(entries) };
}

/** A value read from the log store, refused as corrupt unless it is a segment. */
function segmentRecord(key: number, value: unknown): SegmentRecord {
  if (isSegmentRecord(value)) return value;
  throw storageFailure('corruptRecord', `reading the log segment at index ${key}`, new Error(`it holds ${describeStoredValue(value)}, not a segment`));
}

export function decodeSegment(key: number, value: SegmentRecord): LogEntry[] {
  const record = segmentRecord(key, value);
  const decoded = decodeLogEntries(record.entries);
  if (!decoded.ok) throw storageFailure('corruptRecord', `reading the log segment at index ${key}`, new Error(`${decoded.reason}${decoded.detail === undefined ? '' : `: ${decoded.detail}`}`));
  const first = decoded.value[0];
  const last = decoded.value[decoded.value.length - 1];
  if (first?.index !== key || last?.index !== record.lastIndex) {
    throw storageFailure('corruptRecord', `reading the log segment at index ${key}`, new Error(`it holds ${first?.index ?? 'nothing'}..${last?.index ?? 'nothing'}, its key says ${key}..${record.lastIndex}`));
  }
  return decoded.value;
}

/** Issues the puts for new entries (not awaited: the transaction's completion is the commit). */
export function putEntries(store: LogStore, entries: readonly LogEntry[]): void {
  for (const run of splitIntoSegments(entries)) {
    const first = run[0];
    if (first !== undefined) issued(store.put(encodeSegment(run), first.index));
  }
}

/** The segment that starts at or before `index`, if any (it may end before `index`). */
async function segmentAtOrBefore(store: ReadableLogStore, index: number): Promise<{ key: number; record: SegmentRecord } | null> {
  const cursor = await store.openCursor(IDBKeyRange.upperBound(index), 'prev');
  return cursor === null ? null : { key: cursor.key, record: segmentRecord(cursor.key, cursor.value) };
}

/** Removes every entry at or above `index`; a segment that straddles it is rewritten shorter. */
export async function truncateSegments(store: LogStore, index: number): Promise<void> {
  const straddling = index > 1 ? await segmentAtOrBefore(store, index - 1) : null;
  issued(store.delete(IDBKeyRange.lowerBound(index)));
  if (straddling !== null && straddling.record.lastIndex >= index) {
    const kept = decodeSegment(straddling.key, straddling.record).filter((entry) => entry.index < index);
    issued(store.put(encodeSegment(kept), straddling.key));
  }
}

/** Removes every entry at or below `throughIndex`; a straddling segment is rewritten from throughIndex + 1. */
export async function discardSegments(store: LogStore, throughIndex: number): Promise<void> {
  const straddling = await segmentAtOrBefore(store, throughIndex);
  issued(store.delete(IDBKeyRange.upperBound(throughIndex)));
  if (straddling !== null && straddling.record.lastIndex > throughIndex) {
    const kept = decodeSegment(straddling.key, straddling.record).filter((entry) => entry.index > throughIndex);
    issued(store.put(encodeSegment(kept), throughIndex + 1));
  }
}

/** Every stored entry at or above `fromIndex`, in order. */
export async function readSegments(store: ReadableLogStore, fromIndex: number): Promise<LogEntry[]> {
  const containing = await segmentAtOrBefore(store, fromIndex);
  const startKey = containing !== null && containing.record.lastIndex >= fromIndex ? containing.key : fromIndex;
  const [keys, records] = await Promise.all([store.getAllKeys(IDBKeyRange.lowerBound(startKey)), store.getAll(IDBKeyRange.lowerBound(startKey))]);
  const entries: LogEntry[] = [];
  records.forEach((record, position) => {
    const key = keys[position];
    if (key === undefined) return;
    for (const entry of decodeSegment(key, record)) if (entry.index >= fromIndex) entries.push(entry);
  });
  return entries;
}

/** The last stored index, or null for an empty log. */
export async function lastStoredIndex(store: ReadableLogStore): Promise<number | null> {
  const cursor = await store.openCursor(null, 'prev');
  return cursor === null ? null : segmentRecord(cursor.key, cursor.value).lastIndex;
}

/**
 * Marks a request whose outcome the transaction reports: requests are issued without awaiting
 * each one (the commit is awaited as a whole), and when the transaction aborts every such
 * request rejects too, which must not surface as an unhandled rejection.
 */
export function issued(request: Promise<unknown>): void {
  request.catch(() => undefined);
}
