// How FileRaftStorage words a file system's refusal: the storage failure reason a node acts on
// (a full disk, a closed storage) and, where the reason's own advice would mislead, what the file
// system said in words.
import type { RaftStorageError, StorageFailureReason } from '../../core/errors.ts';
import { mapIndexedDbError, storageFailure } from '../storage-failure.ts';

const reasonsByCode: Readonly<Record<string, StorageFailureReason>> = { ENOSPC: 'diskFull', EDQUOT: 'diskFull', EROFS: 'closed', EACCES: 'closed', EPERM: 'closed' };

/** What the file system said, in words, where the reason's own advice would mislead ('closed' for a permission). */
const adviceByCode: Readonly<Record<string, string>> = {
  EACCES: 'permission denied: this process may not write the data directory (check its owner and mode)',
  EPERM: 'operation not permitted on the data directory (check its owner, mode and attributes)',
  EROFS: 'the data directory is on a read-only file system',
};

export function fileFailure(error: unknown, operation: string): RaftStorageError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason = code === undefined ? undefined : reasonsByCode[code];
  if (code !== undefined && reason !== undefined) return storageFailure(reason, operation, error, 'FileRaftStorage', adviceByCode[code]);
  const mapped = mapIndexedDbError(error, operation);
  // 'unknown' here is the file system's failure, not IndexedDB's (the cause names it).
  return mapped.reason === 'unknown' ? storageFailure('unknown', operation, error, 'FileRaftStorage', 'the file system refused an operation') : mapped;
}

/** What every call after close() is refused with (and a storage closed before any failure). */
export const closedFailure = (): RaftStorageError => storageFailure('closed', 'closed by its owner', undefined, 'FileRaftStorage');
