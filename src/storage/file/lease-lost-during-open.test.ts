// Found by a review of the lock lease (2026-12-07): FileRaftStorage subscribes to its lock's `lost` only in its constructor, after the
// snapshot has been read. A lock lost while the snapshot is read (up to 4 GiB: seconds to minutes;
// a renewal then finds the lock removed or taken over) is never reported: open resolves, and
// `storage.failure` stays null, so createRaftNode's failedBeforeStart check and its subscription
// both miss it; the node starts on a directory another process now owns.
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { StoredSnapshot } from '../../core/types.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';
import type * as SnapshotFile from './snapshot-file.ts';

let duringSnapshotRead: ((directory: string) => Promise<void>) | null = null;

vi.mock('./snapshot-file.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof SnapshotFile>();
  return {
    ...actual,
    readSnapshotFile: async (directory: string): Promise<StoredSnapshot | null> => {
      if (duringSnapshotRead !== null) await duringSnapshotRead(directory);
      return actual.readSnapshotFile(directory);
    },
  };
});

const freshDirectory = temporaryDirectories('raftmesh-review-lost-open-');

describe('a lock lost while FileRaftStorage.open reads the snapshot', () => {
  it('is reported: open refuses, or the opened storage says it failed', async () => {
    const directory = freshDirectory();
    // The lock is removed (as a taker does, before linking its own) while the snapshot is read,
    // which takes a few renewals (a large snapshot).
    duringSnapshotRead = async (dir) => {
      unlinkSync(join(dir, 'lock'));
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    const options: InternalFileStorageOptions = { fsync: false, leaseTiming: { renewMs: 10, expiryMs: 100, now: () => performance.now() } };
    let outcome: string;
    try {
      const storage = await FileRaftStorage.open(directory, options);
      outcome = storage.failure.value === null ? 'opened, failure null' : `opened, failure ${storage.failure.value.reason}`;
      await storage.close();
    } catch (error) {
      outcome = `refused ${(error as { reason?: string }).reason ?? String(error)}`;
    } finally {
      duringSnapshotRead = null;
    }
    expect(outcome).toMatch(/inUse/);
  });
});
