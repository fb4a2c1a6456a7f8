// Found by a review of the lock lease (2026-12-07): FileRaftStorage confirms its lock only before an operation starts. A snapshot (up to
// 4 GiB) or a journal rewrite takes long; a lock found lost meanwhile (the renewal saw it taken
// over: storage.failure is already set) does not stop the operation, which goes on to rename its
// file over the one the lock's new owner wrote in the directory it now holds.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';
import type * as FileChunks from './file-chunks.ts';

let duringWrite: (() => Promise<void>) | null = null;

vi.mock('./file-chunks.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof FileChunks>();
  return {
    ...actual,
    writeWhole: async (handle: FileHandle, bytes: Uint8Array): Promise<void> => {
      const hook = duringWrite;
      duringWrite = null;
      if (hook !== null) await hook();
      return actual.writeWhole(handle, bytes);
    },
  };
});

const freshDirectory = temporaryDirectories('raftmesh-review-lost-mid-');
const newOwnerLock = `4242\nlease-expiry-ms 15000\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55`;
const newOwnerSnapshot = 'the new owner’s snapshot';

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Opens a storage on a fresh directory whose next file write (in the middle of a snapshot) first
 * has the lock taken over, the new owner writes `newOwnerFile` holding `newOwnerText`, and this
 * process's renewal finds the lock another's and fails the storage.
 */
async function openLosingTheLockMidWrite(newOwnerFile: string, newOwnerText: string): Promise<{ directory: string; storage: FileRaftStorage }> {
  const directory = freshDirectory();
  const options: InternalFileStorageOptions = { fsync: false, leaseTiming: { renewMs: 10, expiryMs: 100, now: () => performance.now() } };
  const storage = await FileRaftStorage.open(directory, options);
  duringWrite = async () => {
    unlinkSync(join(directory, 'lock'));
    writeFileSync(join(directory, 'lock'), newOwnerLock);
    writeFileSync(join(directory, newOwnerFile), newOwnerText);
    await until(() => storage.failure.value !== null);
  };
  return { directory, storage };
}

describe('a lock lost while a snapshot is being written', () => {
  it('does not replace the new owner’s snapshot once the lock is known lost', async () => {
    // While the (large) snapshot is written, the lock is taken over (this process was frozen, or
    // its disk away, past the lease) and the new owner writes a snapshot of its own.
    const { directory, storage } = await openLosingTheLockMidWrite('snapshot', newOwnerSnapshot);
    const saved = storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, new Uint8Array(64));
    const outcome = await saved.then(
      () => 'resolved',
      (error: { reason?: string }) => `rejected ${error.reason ?? ''}`,
    );
    expect(storage.failure.value?.reason).toBe('inUse');
    await storage.close();
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(newOwnerLock);
    expect({ outcome, snapshot: readFileSync(join(directory, 'snapshot'), 'utf8') }).toEqual({ outcome: 'rejected inUse', snapshot: newOwnerSnapshot });
  });
});

// A holder which lost its lock in the middle of replacing a file writes into and removes only a
// temporary file of its own: with one fixed name (`snapshot.tmp`), the new owner's temporary file
// of the same snapshot was the same file, which the old holder wrote into, then removed when its
// rename was refused (the new owner's rename failed, or renamed mixed bytes).
const newOwnerTemporary = 'the new owner’s snapshot, half written';

describe('a lock lost while a snapshot’s temporary file is written', () => {
  it('neither writes into nor removes the temporary file the new owner is writing', async () => {
    // This process stalls with its temporary file open; the lock is taken over, and the new owner
    // starts a snapshot of its own (a build of before 2026-12-07's second session names its
    // temporary file `snapshot.tmp`, as this one did).
    const { directory, storage } = await openLosingTheLockMidWrite('snapshot.tmp', newOwnerTemporary);
    await expect(storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, new Uint8Array(64).fill(7))).rejects.toMatchObject({ reason: 'inUse' });
    await storage.close();
    expect(readFileSync(join(directory, 'snapshot.tmp'), 'utf8')).toBe(newOwnerTemporary);
  });
});
