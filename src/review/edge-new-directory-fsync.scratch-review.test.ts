// Review finding: FileRaftStorage.open creates its directory (makeDirectory) and fsyncs the files
// and renames inside it, but never the parent directory that holds the new directory's entry. A
// power loss after the first acknowledged write may lose the directory itself (POSIX: the entry is
// durable only once its parent directory is fsynced; btrfs, ext4 without journalling), and with it
// every acknowledged entry, term and vote. An edge peer's `raft-<id>` is created this way inside a
// data directory that was fsynced only earlier, when identity.json was saved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as FileSystem from 'node:fs/promises';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { makeEntries } from '../storage/storage-conformance.ts';

const synced: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FileSystem>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const [path] = args;
      const sync = handle.sync.bind(handle);
      Object.assign(handle, {
        sync: async () => {
          await sync();
          if (typeof path === 'string' && (await handle.stat()).isDirectory()) synced.push(resolve(path));
        },
      });
      return handle;
    },
  };
});

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  synced.length = 0;
});

describe('review: a directory FileRaftStorage creates is made durable in its parent', () => {
  it('fsyncs the parent of a directory it created before its first write resolves', async () => {
    const root = mkdtempSync(join(tmpdir(), 'raftmesh-review-dirsync-'));
    roots.push(root);
    const directory = join(root, 'raft-node');
    const storage = await FileRaftStorage.open(directory);
    await storage.saveTermAndVotedFor(3, null);
    await storage.appendEntries(makeEntries(1, 2, 3));
    await storage.close();
    expect(synced).toContain(resolve(directory));
    expect(synced, 'directories fsynced').toContain(resolve(root));
  });
});
