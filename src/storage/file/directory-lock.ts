// One process per data directory: two writers appending to one journal would interleave records
// and corrupt it. The lock file holds the owner's pid; a lock left by a dead process (SIGKILL, a
// crash) is taken over, a live owner's is refused with a clear error.
import { randomUUID } from 'node:crypto';
import { link, open, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorageError } from '../../core/errors.ts';

const lockName = 'lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Directories this process holds: the pid in the lock file cannot tell two of our own apart. Keyed
 * by the real path: under another spelling (relative, through a symlink) the lock file would read
 * as our own pid, be taken for a stale lock of ours, and be taken over — two writers on one journal.
 */
const heldHere = new Set<string>();

export async function acquireDirectoryLock(directory: string): Promise<() => Promise<void>> {
  const path = join(await realpath(directory), lockName);
  if (heldHere.has(path)) throw new RaftStorageError(`FileRaftStorage: ${directory} is already open in this process; one storage per data directory`, { reason: 'inUse' });
  // Claimed before the first await: two opens of one directory started together in this process
  // both passed the check above while neither was recorded, and the second took the first's lock
  // file (our own pid) for a stale one.
  heldHere.add(path);
  let release: () => Promise<void>;
  try {
    release = await takeLockFile(directory, path);
  } catch (error) {
    heldHere.delete(path);
    throw error;
  }
  return async () => {
    heldHere.delete(path);
    await release();
  };
}

async function takeLockFile(directory: string, path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await createLockFile(path);
      return () => unlink(path).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        // A pid can be reused (after a reboot, in a fresh container): say how to tell, and what to do.
        throw new RaftStorageError(`FileRaftStorage: ${directory} is in use by process ${owner}; one process per data directory (if process ${owner} is not a raftmesh peer on this directory, the lock is stale: remove ${path})`, { reason: 'inUse' });
      }
      await unlink(path).catch(() => undefined); // a dead owner's lock
    }
  }
  throw new RaftStorageError(`FileRaftStorage: could not lock ${directory}`, { reason: 'unknown' });
}

/**
 * Creates the lock file with its pid already in it (written beside it, then hard-linked into place,
 * which fails if the lock exists): created empty and written after, another process starting at
 * that moment read it as garbage, took it for a stale lock and took it over.
 */
async function createLockFile(path: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(temporary, String(process.pid));
  try {
    await link(temporary, path);
  } catch (error) {
    // File systems without hard links (FAT and exFAT on a USB drive, some FUSE and SMB mounts)
    // refuse link(2): create the lock exclusively instead, as before, which leaves only the short
    // window in which it is empty.
    if (!withoutHardLinks.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(String(process.pid));
    } finally {
      await handle.close();
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** What link(2) answers where the file system has no hard links. */
const withoutHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
