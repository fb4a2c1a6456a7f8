// Removing a FileRaftStorage directory for good (an edge peer's id given up by joinRoom). A plain
// recursive removal deleted the journal of whatever node ran there: another raftmesh-peer started
// on the same data directory, or a storage of this process not yet closed. The removal takes the
// directory's lock first, the one FileRaftStorage.open takes (directory-lock.ts), so a live owner
// refuses it (reason 'inUse') as it refuses a second open.
//
// Under the lock the directory is renamed aside, in one step, and only then removed: an open that
// comes after the lock is let go finds no directory (and starts an empty storage, as for a new id),
// never one half removed, and a crash mid-removal leaves the aside copy, not a torn storage. That
// copy is removed by the next removal of the same directory.
import { rename, rm } from 'node:fs/promises';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.ts';

/**
 * Where a directory goes while it is removed: beside it, `%removing` appended. An edge peer's
 * directories escape every `%` of an id as `%25` (raftDirectoryOf), so `%r` is never part of one.
 */
export function removalPathOf(directory: string): string {
  return `${directory}%removing`;
}

/**
 * Removes `directory` and everything in it, holding its lock: refused (a RaftStorageError, reason
 * 'inUse', led by `label`) while a FileRaftStorage is open on it in this or another process. A
 * directory that does not exist is nothing to remove.
 */
export async function removeStorageDirectory(directory: string, label: string): Promise<void> {
  const aside = removalPathOf(directory);
  let lock: DirectoryLock;
  try {
    lock = await acquireDirectoryLock(directory, label);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Gone already (or renamed aside by a removal that crashed before it finished).
    await rm(aside, { recursive: true, force: true });
    return;
  }
  try {
    await rm(aside, { recursive: true, force: true });
    await rename(directory, aside);
  } finally {
    // The lock file went aside with the directory: release() finds none at the old path, and
    // removes nothing a newer owner made there.
    await lock.release();
  }
  await rm(aside, { recursive: true, force: true });
}
