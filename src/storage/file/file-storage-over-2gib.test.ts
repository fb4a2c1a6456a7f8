// A journal or a snapshot over 2 GiB must reopen: a peer that never compacts (an edge peer without
// --app) keeps its whole log in the journal, and a snapshot may be up to 4 GiB. FileRaftStorage
// used to read each whole at open, which Node refuses past 2 GiB (ERR_FS_FILE_TOO_LARGE): the peer
// could no longer restart and its acknowledged data could not be read (the snapshot's case found
// by an outside review, 2026-12-07). Writing 2 GiB in a test is too slow for the suite, so readFile
// answers for these files as Node does for such a file; everything else is the real file system.
// (Checked by hand on a real 2.2 GiB journal: README changelog, 2026-12-02 midday; and on a sparse
// snapshot file of 2 GiB + 4 KiB, reopened with its state whole: 23 s on a busy 2-core machine.)
// The bounded reads and writes below the open are file-chunks.test.ts's.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { makeEntries } from '../storage-conformance.ts';
import { journalFileName } from './journal-format.ts';
import { FileRaftStorage } from './file-storage.ts';
import type * as FileSystem from 'node:fs/promises';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FileSystem>();
  return {
    ...actual,
    readFile: async (...args: Parameters<typeof actual.readFile>): Promise<unknown> => {
      const [path] = args;
      // A file that is there (one that is not is ENOENT, as ever), as Node answers for one over 2 GiB.
      if (typeof path === 'string' && (basename(path) === journalFileName || basename(path) === 'snapshot') && existsSync(path)) {
        throw Object.assign(new RangeError('File size (2359296000) is greater than 2 GiB'), { code: 'ERR_FS_FILE_TOO_LARGE' });
      }
      return actual.readFile(...args);
    },
  };
});

const directory = mkdtempSync(join(tmpdir(), 'raftmesh-over-2gib-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('FileRaftStorage with a journal or a snapshot Node will not read whole', () => {
  it('reopens it: the journal is read in chunks, never whole', async () => {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveTermAndVotedFor(2, null);
    await storage.appendEntries(makeEntries(1, 50, 2, 1_000));
    await storage.close();
    const reopened = await FileRaftStorage.open(directory, { fsync: false });
    expect(await reopened.term()).toBe(2);
    expect((await reopened.entries()).map((entry) => entry.command)).toEqual(makeEntries(1, 50, 2, 1_000).map((entry) => entry.command));
    await reopened.close();
  });

  it('reopens a snapshot: the snapshot file is read and checksummed in pieces, never whole', async () => {
    const state = Uint8Array.from({ length: 100_000 }, (_, position) => (position * 7) % 251);
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveSnapshot({ lastIncludedIndex: 60, lastIncludedTerm: 2 }, state);
    await storage.close();
    const reopened = await FileRaftStorage.open(directory, { fsync: false });
    const snapshot = await reopened.loadSnapshot();
    await reopened.close();
    expect(snapshot?.meta).toEqual({ lastIncludedIndex: 60, lastIncludedTerm: 2 });
    expect(snapshot?.state).toEqual(state);
  });
});
