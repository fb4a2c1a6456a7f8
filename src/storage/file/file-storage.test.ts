// FileRaftStorage beyond the shared contract: recovery from a torn tail, refusal of a damaged
// middle, the directory lock, journal compaction and error mapping.
import { appendFileSync, readdirSync, readFileSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { InMemoryRaftStorage } from '../in-memory-storage.ts';
import { makeEntries } from '../storage-conformance.ts';
import { journalFileName } from './journal-format.ts';
import { FileRaftStorage, fileFailure } from './file-storage.ts';
import { writeJournal } from './journal-file.test-support.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-file-');

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof RaftStorageError ? error.reason : String(error);
  }
}

/** Descriptors of this process open on `path` (Linux /proc). */
/**
 * Refuses to create the temporary file of each replacement of `name` (EISDIR, as a directory in
 * its place did while it had one fixed name) until the returned function is called.
 */
function refuseTemporaryFilesOf(name: string): () => void {
  const promises = createRequire(import.meta.url)('node:fs/promises') as { open: (path: string, flags?: string) => Promise<unknown> };
  const realOpen = promises.open;
  const temporary = new RegExp(`^${name.replace(/[.]/g, '\\.')}\\.[0-9a-f-]{36}\\.tmp$`);
  promises.open = async (path, flags) => {
    if (temporary.test(basename(path))) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), { code: 'EISDIR' });
    return realOpen(path, flags);
  };
  syncBuiltinESMExports();
  return () => {
    promises.open = realOpen;
    syncBuiltinESMExports();
  };
}

function descriptorsOn(path: string): number {
  const pointsAtPath = (name: string): boolean => {
    try {
      return readlinkSync(join('/proc/self/fd', name)) === path;
    } catch {
      return false; // closed meanwhile
    }
  };
  return readdirSync('/proc/self/fd').filter(pointsAtPath).length;
}

async function writeThreeBatches(directory: string): Promise<number[]> {
  const storage = await FileRaftStorage.open(directory);
  const sizes: number[] = [];
  for (const [first, last] of [[1, 10], [11, 20], [21, 30]] as const) {
    await storage.appendEntries(makeEntries(first, last, 1));
    sizes.push(statSync(join(directory, journalFileName)).size);
  }
  await storage.close();
  return sizes;
}

describe('FileRaftStorage recovery', () => {
  it('drops a torn tail (a partial last record), keeps everything before it, and appends after it', async () => {
    const directory = freshDirectory();
    const sizes = await writeThreeBatches(directory);
    truncateSync(join(directory, journalFileName), (sizes[1] ?? 0) + 13); // the third record half written
    const storage = await FileRaftStorage.open(directory);
    expect((await storage.entries()).map((entry) => entry.index)).toEqual(makeEntries(1, 20, 1).map((entry) => entry.index));
    expect(statSync(join(directory, journalFileName)).size).toBe(sizes[1]);
    await storage.appendEntries(makeEntries(21, 22, 2));
    await storage.close();
    const reopened = await FileRaftStorage.open(directory);
    expect((await reopened.entries(20)).map((entry) => `${entry.index}@${entry.term}`)).toEqual(['20@1', '21@2', '22@2']);
    await reopened.close();
  });

  it('drops a last record whose bytes are garbage (checksum fails, nothing valid after it)', async () => {
    const directory = freshDirectory();
    await writeThreeBatches(directory);
    appendFileSync(join(directory, journalFileName), new Uint8Array([40, 0, 0, 0, 1, 2, 3, 4, ...new Array(40).fill(9)]));
    const storage = await FileRaftStorage.open(directory);
    expect((await storage.entries()).length).toBe(30);
    await storage.close();
  });

  it('refuses a journal damaged in the middle with corruptRecord instead of skipping acknowledged data', async () => {
    const directory = freshDirectory();
    const sizes = await writeThreeBatches(directory);
    const path = join(directory, journalFileName);
    const bytes = readFileSync(path);
    bytes[(sizes[0] ?? 0) + 20] = (bytes[(sizes[0] ?? 0) + 20] ?? 0) ^ 0xff; // inside the second record
    writeFileSync(path, bytes);
    const opening = FileRaftStorage.open(directory);
    await expect(opening).rejects.toThrow(/damaged .* valid records follow it/);
    expect(await reasonOf(FileRaftStorage.open(directory))).toBe('corruptRecord');
  });

  it('refuses a damaged snapshot file', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, new Uint8Array(100).fill(3));
    await storage.close();
    const path = join(directory, 'snapshot');
    const bytes = readFileSync(path);
    bytes[50] = 0;
    writeFileSync(path, bytes);
    expect(await reasonOf(FileRaftStorage.open(directory))).toBe('corruptRecord');
  });
});

describe('FileRaftStorage reopens whatever its calls wrote', () => {
  /** The calls on both storages, then the file storage reopened: all three must agree. */
  async function sameAfterReopen(calls: (storage: FileRaftStorage | InMemoryRaftStorage) => Promise<void>): Promise<void> {
    const directory = freshDirectory();
    const file = await FileRaftStorage.open(directory);
    const memory = new InMemoryRaftStorage();
    await calls(file);
    await calls(memory);
    const expected = { entries: (await memory.entries()).map((entry) => entry.index), snapshot: (await memory.loadSnapshot())?.meta.lastIncludedIndex ?? null };
    expect({ entries: (await file.entries()).map((entry) => entry.index), snapshot: (await file.loadSnapshot())?.meta.lastIncludedIndex ?? null }).toEqual(expected);
    await file.close();
    // Before the fix the reopen failed with corruptRecord ("append expected index 1, got 7").
    const reopened = await FileRaftStorage.open(directory);
    expect({ entries: (await reopened.entries()).map((entry) => entry.index), snapshot: (await reopened.loadSnapshot())?.meta.lastIncludedIndex ?? null }).toEqual(expected);
    await reopened.appendEntries(makeEntries(expected.entries.at(-1)! + 1, expected.entries.at(-1)! + 1, 2));
    await reopened.close();
  }

  it('an append that started an empty log after the snapshot of its time, before a later snapshot (a crash between an install’s saveSnapshot and its discard)', async () => {
    await sameAfterReopen(async (storage) => {
      await storage.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, new Uint8Array([6]));
      await storage.appendEntries(makeEntries(7, 9, 1));
      await storage.saveSnapshot({ lastIncludedIndex: 8, lastIncludedTerm: 1 }, new Uint8Array([8]));
    });
  });

  it('the same, with the later snapshot’s discard done too', async () => {
    await sameAfterReopen(async (storage) => {
      await storage.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, new Uint8Array([6]));
      await storage.appendEntries(makeEntries(7, 9, 1));
      await storage.saveSnapshot({ lastIncludedIndex: 8, lastIncludedTerm: 1 }, new Uint8Array([8]));
      await storage.discardLogPrefix(8);
    });
  });

  it('a snapshot saved below a discarded prefix, and an append right after it', async () => {
    await sameAfterReopen(async (storage) => {
      await storage.appendEntries(makeEntries(1, 9, 1));
      await storage.discardLogPrefix(9);
      await storage.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, new Uint8Array([6]));
      await storage.appendEntries(makeEntries(7, 8, 1));
    });
  });

  it('without a snapshot on disk, an append that skips ahead is still refused (corruptRecord): no snapshot ever allowed it', async () => {
    const directory = freshDirectory();
    writeJournal(directory, [{ kind: 'batch', entries: makeEntries(1_000, 1_001, 1) }]);
    expect(await reasonOf(FileRaftStorage.open(directory))).toBe('corruptRecord');
  });

  it('a truncation or discard below the log’s start changes nothing, as in memory, and fails nothing', async () => {
    await sameAfterReopen(async (storage) => {
      await storage.appendEntries(makeEntries(1, 5, 1));
      await storage.discardLogPrefix(-1);
      await storage.truncateFrom(-1);
      await storage.appendEntries(makeEntries(1, 2, 1));
    });
  });
});

describe('FileRaftStorage ownership, compaction and failures', () => {
  it('allows one storage per directory: a second open is refused (inUse); a dead owner’s lock is taken over', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    expect(await reasonOf(FileRaftStorage.open(directory))).toBe('inUse');
    await storage.close();
    writeFileSync(join(directory, 'lock'), '999999999'); // a pid that is not running
    const again = await FileRaftStorage.open(directory);
    await again.close();
    writeFileSync(join(directory, 'lock'), String(process.ppid)); // a live process: refused
    expect(await reasonOf(FileRaftStorage.open(directory))).toBe('inUse');
  });

  it('closes the journal it opened when a later step of the open fails, so a supervisor retrying in-process piles up no descriptors', async () => {
    const directory = freshDirectory();
    // The sentinel is written by replace (a temporary file, then rename): its temporary file
    // refused fails that step (EISDIR), after journal.v2 was created (the first attempt) or read
    // (the next two) and opened.
    const allowTemporaryFiles = refuseTemporaryFilesOf('journal');
    const outcomes: string[] = [];
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const reason = await reasonOf(FileRaftStorage.open(directory, { fsync: false }));
        // Counted at once: garbage collection would close a leaked handle later.
        outcomes.push(`${reason}, ${descriptorsOn(join(directory, journalFileName))} left open`);
      }
    } finally {
      allowTemporaryFiles();
    }
    expect(outcomes).toEqual(['unknown, 0 left open', 'unknown, 0 left open', 'unknown, 0 left open']);
    const storage = await FileRaftStorage.open(directory, { fsync: false }); // the lock was released each time
    await storage.close();
  });

  it('rewrites a mostly discarded journal as its live state, atomically', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { compactAfterBytes: 64 * 1024 });
    await storage.saveTermAndVotedFor(3, null);
    for (let first = 1; first <= 2_000; first += 100) await storage.appendEntries(makeEntries(first, first + 99, 3, 200));
    const before = await storage.journalSize();
    await storage.saveSnapshot({ lastIncludedIndex: 1_990, lastIncludedTerm: 3 }, new Uint8Array(8));
    await storage.discardLogPrefix(1_990);
    const after = await storage.journalSize();
    expect(after).toBeLessThan(before / 10);
    await storage.appendEntries(makeEntries(2_001, 2_002, 4));
    await storage.close();
    const reopened = await FileRaftStorage.open(directory);
    expect(await reopened.term()).toBe(3);
    expect((await reopened.entries()).map((entry) => entry.index)).toEqual(Array.from({ length: 12 }, (_, offset) => 1_991 + offset));
    await reopened.close();
  });

  it('a rewrite that fails (the disk full, say) leaves the discard that led to it durable and resolved, and the storage working', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { compactAfterBytes: 16 * 1024 });
    for (let first = 1; first <= 400; first += 100) await storage.appendEntries(makeEntries(first, first + 99, 1, 100));
    await storage.saveSnapshot({ lastIncludedIndex: 390, lastIncludedTerm: 1 }, new Uint8Array(8));
    const journalBefore = readFileSync(join(directory, journalFileName));
    const allowTemporaryFiles = refuseTemporaryFilesOf(journalFileName); // the rewrite's temporary file cannot be created
    try {
      // Before, the discard was durable yet rejected, and the storage failed for good.
      await storage.discardLogPrefix(390);
    } finally {
      allowTemporaryFiles();
    }
    // Not rewritten: the discard appended to the journal in place.
    expect(readFileSync(join(directory, journalFileName)).subarray(0, journalBefore.length).equals(journalBefore)).toBe(true);
    await storage.appendEntries(makeEntries(401, 402, 1));
    expect((await storage.entries()).map((entry) => entry.index)).toEqual([391, 392, 393, 394, 395, 396, 397, 398, 399, 400, 401, 402]);
    await storage.close();
    const reopened = await FileRaftStorage.open(directory);
    expect((await reopened.entries()).map((entry) => entry.index)).toEqual([391, 392, 393, 394, 395, 396, 397, 398, 399, 400, 401, 402]);
    await reopened.close();
  });

  it('a rewrite whose directory fsync fails after the rename resolves the discard, then refuses every later call', async () => {
    // Past the rename, a power loss may bring the old journal back under the name: a write
    // acknowledged into the new one could vanish (a vote among them). Before, the storage went on.
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { compactAfterBytes: 16 * 1024 });
    for (let first = 1; first <= 400; first += 100) await storage.appendEntries(makeEntries(first, first + 99, 1, 100));
    await storage.saveSnapshot({ lastIncludedIndex: 390, lastIncludedTerm: 1 }, new Uint8Array(8));
    const promises = createRequire(import.meta.url)('node:fs/promises') as { open: (path: string, flags?: string) => Promise<{ sync: () => Promise<void> }> };
    const realOpen = promises.open;
    promises.open = async (path, flags) => {
      const handle = await realOpen(path, flags);
      if (path === directory && flags === 'r') handle.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      return handle;
    };
    syncBuiltinESMExports();
    try {
      await storage.discardLogPrefix(390);
    } finally {
      promises.open = realOpen;
      syncBuiltinESMExports();
    }
    expect(await reasonOf(storage.appendEntries(makeEntries(401, 402, 1)))).toBe('unknown');
    expect(await reasonOf(storage.saveTermAndVotedFor(9, null))).toBe('unknown');
    await storage.close();
    const reopened = await FileRaftStorage.open(directory);
    expect((await reopened.entries()).map((entry) => entry.index)).toEqual([391, 392, 393, 394, 395, 396, 397, 398, 399, 400]);
    await reopened.close();
  });

  it('maps a full disk to reason diskFull with a message that says what to do', () => {
    const failure = fileFailure(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'writeBatch');
    expect(failure.reason).toBe('diskFull');
    expect(failure.message).toMatch(/disk is full/);
  });

  it('after close, calls reject with reason closed', async () => {
    const storage = await FileRaftStorage.open(freshDirectory());
    await storage.close();
    await storage.close();
    expect(await reasonOf(storage.term())).toBe('closed');
  });
});
