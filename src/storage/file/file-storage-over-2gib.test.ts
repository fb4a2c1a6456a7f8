// A journal over 2 GiB must reopen: a peer that never compacts (an edge peer without --app) keeps
// its whole log there, and FileRaftStorage used to read the journal whole at open, which Node
// refuses past 2 GiB (ERR_FS_FILE_TOO_LARGE): the peer could no longer restart and its
// acknowledged data could not be read. Writing 2 GiB in a test is too slow for the suite, so
// readFile answers for the journal as Node does for such a file; everything else is the real file
// system. (Checked by hand on a real 2.2 GiB journal: README changelog, 2026-12-02 midday.)
import { mkdtempSync, rmSync } from 'node:fs';
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
      if (typeof path === 'string' && basename(path) === journalFileName) {
        throw Object.assign(new RangeError('File size (2359296000) is greater than 2 GiB'), { code: 'ERR_FS_FILE_TOO_LARGE' });
      }
      return actual.readFile(...args);
    },
  };
});

const directory = mkdtempSync(join(tmpdir(), 'raftmesh-over-2gib-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('FileRaftStorage with a journal Node will not read whole', () => {
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
});
