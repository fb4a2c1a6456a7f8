// Review finding: FileRaftStorage.open leaks the journal's file handle when a step after the
// journal was opened fails (openJournal: the sentinel's replaceFile, the removal of a migrated
// format-1 copy, the directory fsync, the size check). open() releases the lock and rethrows, but
// nothing closes `this.journal`: each failed open leaves a descriptor on journal.v2 open until
// garbage collection (Node warns, and plans to make that an error), and a supervisor that retries
// the open in-process (a full disk: the sentinel cannot be written) piles them up.
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { journalFileName } from '../storage/file/journal-format.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-fd-leak-');

/** Descriptors of this process open on `path` (Linux /proc). */
function descriptorsOn(path: string): number {
  let count = 0;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(join('/proc/self/fd', name)) === path) count += 1;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

describe('review: a failed FileRaftStorage.open closes what it opened', () => {
  it('leaves no descriptor on journal.v2 when writing the sentinel fails', async () => {
    const directory = freshDirectory();
    // The sentinel is written by replace (journal.tmp, then rename): a directory in the temporary
    // file's place makes that step fail (EISDIR), after journal.v2 was created and opened.
    mkdirSync(join(directory, 'journal.tmp'));
    const failures: string[] = [];
    const leftOpen: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await FileRaftStorage.open(directory, { fsync: false }).then(
        (storage) => storage.close(),
        (error: unknown) => void failures.push(String(error)),
      );
      leftOpen.push(descriptorsOn(join(directory, journalFileName))); // at once: garbage collection would close them later
    }
    expect(failures).toHaveLength(3);
    expect(leftOpen).toEqual([0, 0, 0]);
  });
});
