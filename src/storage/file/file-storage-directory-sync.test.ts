// A directory's entry lives in its parent and is durable only once the parent is fsynced (POSIX;
// btrfs, ext4 without a journal). FileRaftStorage.open created its directory and fsynced the files
// and renames inside it, never the parent holding the new directory's entry: a power loss after
// the first acknowledged write could lose the directory itself, and every entry, term and vote in
// it (an outside review). Each directory fsync is recorded here (open's handle wrapped); the file
// system is the real one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as FileSystem from 'node:fs/promises';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage } from './file-storage.ts';
import { directoriesSynced, forgetDirectorySyncs } from './directory-syncs.test-support.ts';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { recordingDirectorySyncs } = await import('./directory-syncs.test-support.ts');
  return recordingDirectorySyncs(await importOriginal<typeof FileSystem>());
});

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  forgetDirectorySyncs();
});
const freshRoot = (): string => {
  const root = mkdtempSync(join(tmpdir(), 'raftmesh-directory-sync-'));
  roots.push(root);
  return root;
};

describe('FileRaftStorage and the directories it creates', () => {
  it('fsyncs the parent of each directory it created, every missing level, before the open resolves', async () => {
    const root = freshRoot();
    const directory = join(root, 'data', 'raft-node');
    const storage = await FileRaftStorage.open(directory);
    const syncedByOpen = [...directoriesSynced];
    await storage.saveTermAndVotedFor(3, null);
    await storage.appendEntries(makeEntries(1, 2, 3));
    await storage.close();
    expect(syncedByOpen).toEqual(expect.arrayContaining([resolve(root), resolve(root, 'data'), resolve(directory)]));
  });

  it('fsyncs no parent of a directory that was there already, nor any with fsync off', async () => {
    const root = freshRoot();
    const storage = await FileRaftStorage.open(root);
    await storage.close();
    expect(directoriesSynced).not.toContain(resolve(root, '..'));
    forgetDirectorySyncs();
    const unsynced = await FileRaftStorage.open(join(root, 'new'), { fsync: false });
    await unsynced.close();
    expect(directoriesSynced).toEqual([]);
  });
});
