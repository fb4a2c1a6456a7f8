// Storage failures mapped to RaftStorageError with a reason a program can act on, shared by the
// IndexedDB and file storages. The browser reports IndexedDB failures as DOMExceptions (or an
// aborted transaction's `error`); what the user can do differs: free space, close an old tab, reload.
import { RaftStorageError, type StorageFailureReason } from '../core/errors.ts';

const reasonsByName: Readonly<Record<string, StorageFailureReason>> = {
  QuotaExceededError: 'quotaExceeded',
  VersionError: 'versionTooNew',
  AbortError: 'transactionAborted',
  InvalidStateError: 'closed',
  TransactionInactiveError: 'transactionAborted',
};

const advice: Readonly<Record<StorageFailureReason, string>> = {
  quotaExceeded: 'the browser refused to store more data (storage quota exceeded); free space or clear old data',
  upgradeBlocked: 'another tab holds an older version of this database open; close or reload it',
  versionTooNew: 'the database was written by a newer version of raftmesh; this version cannot read it',
  databaseDeleted: 'the database was deleted or replaced while the node was using it',
  transactionAborted: 'the transaction was aborted, nothing of it was written',
  corruptRecord: 'a stored record could not be decoded',
  dataLost: 'the stored data was lost (deleted by the browser); this id must not run again',
  closed: 'the storage is closed',
  inUse: 'another process holds this storage open',
  wrongOwner: 'this storage belongs to another node id',
  notFound: 'there is no storage here, and none was to be created',
  diskFull: 'the disk is full (ENOSPC); free space, then restart the node',
  unknown: 'IndexedDB failed',
};

/** `text`: the adapter's own words where the reason's advice (written for IndexedDB) would mislead. */
export function storageFailure(reason: StorageFailureReason, operation: string, cause?: unknown, adapter = 'IndexedDbRaftStorage', text = advice[reason]): RaftStorageError {
  const detail = cause instanceof Error && cause.message.length > 0 ? ` (${cause.name}: ${cause.message})` : '';
  return new RaftStorageError(`${adapter} ${operation}: ${text}${detail}`, { cause, reason });
}

/** Classifies whatever a failed request or transaction threw. */
export function mapIndexedDbError(error: unknown, operation: string): RaftStorageError {
  if (error instanceof RaftStorageError) return error;
  const name = error instanceof Error || (typeof DOMException !== 'undefined' && error instanceof DOMException) ? (error as Error).name : '';
  // A quota failure often surfaces as an AbortError on the transaction with the real cause inside.
  const inner = (error as { cause?: unknown } | null)?.cause;
  const innerName = inner instanceof Error ? inner.name : '';
  const reason = reasonsByName[innerName === 'QuotaExceededError' ? innerName : name] ?? 'unknown';
  return storageFailure(reason, operation, error);
}
