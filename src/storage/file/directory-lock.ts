// One process per data directory: two writers appending to one journal would interleave records
// and corrupt it. The lock file holds the owner's pid; a lock left by a dead process (SIGKILL, a
// crash) is taken over, a live owner's is refused with a clear error.
import { open, readFile, realpath, unlink } from 'node:fs/promises';
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
  const release = await takeLockFile(directory, path);
  heldHere.add(path);
  return async () => {
    heldHere.delete(path);
    await release();
  };
}

async function takeLockFile(directory: string, path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
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
