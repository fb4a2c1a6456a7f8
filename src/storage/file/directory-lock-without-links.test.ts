// FileRaftStorage on a file system without hard links (FAT/exFAT on a USB drive, some FUSE and SMB
// mounts): link(2) fails there with EPERM, and the lock, created by linking a file that already
// holds the pid, used to fail the open ("operation not permitted"). It falls back to an
// exclusive create. link is made to fail as vfat's does; everything else is the real file system.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileRaftStorage } from '../../node.ts';
import type * as FileSystem from 'node:fs/promises';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FileSystem>();
  return {
    ...actual,
    link: async (): Promise<void> => {
      throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM', syscall: 'link' });
    },
  };
});

const directory = mkdtempSync(join(tmpdir(), 'raftmesh-no-links-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the data directory lock without hard links', () => {
  it('opens, holds the pid in the lock, refuses a second open, leaves no temporary file, and releases on close', async () => {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    expect(readFileSync(join(directory, 'lock'), 'utf8').split('\n')[0]).toBe(String(process.pid)) // the pid first, then (Linux) boot and start time;
    expect(readdirSync(directory).filter((name) => name.startsWith('lock.'))).toEqual([]);
    await expect(FileRaftStorage.open(directory, { fsync: false })).rejects.toMatchObject({ reason: 'inUse' });
    await storage.appendEntries([{ index: 1, term: 1, command: new Uint8Array([7]), isNoOp: false }]);
    await storage.close();
    expect(readdirSync(directory)).not.toContain('lock');
    const again = await FileRaftStorage.open(directory, { fsync: false });
    expect((await again.entries()).map((entry) => entry.index)).toEqual([1]);
    await again.close();
  });
});
