// Where /proc cannot be read (macOS, Windows, a /proc mounted with hidepid), the lock cannot name
// the owner's boot and start time, nor its PID namespace: it holds the pid alone (and its token)
// and is judged by the pid, as before. readFile and readlink are made to fail for /proc as they do
// there; everything else is the real file system.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileRaftStorage } from './file-storage.ts';
import type * as FileSystem from 'node:fs/promises';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FileSystem>();
  return {
    ...actual,
    readFile: async (...args: Parameters<typeof actual.readFile>): Promise<unknown> => {
      const [path] = args;
      if (typeof path === 'string' && path.startsWith('/proc/')) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return actual.readFile(...args);
    },
    readlink: async (...args: Parameters<typeof actual.readlink>): Promise<unknown> => {
      const [path] = args;
      if (typeof path === 'string' && path.startsWith('/proc/')) throw Object.assign(new Error(`ENOENT: no such file or directory, readlink '${path}'`), { code: 'ENOENT' });
      return actual.readlink(...args);
    },
  };
});

const directory = mkdtempSync(join(tmpdir(), 'raftmesh-lock-without-proc-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the data directory lock without /proc', () => {
  it('holds the pid alone, and judges a recorded boot and start time it cannot check by the pid', async () => {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toMatch(new RegExp(`^${process.pid}\ntoken [0-9a-f-]{36}$`));
    await storage.close();
    // Another boot than any: with /proc it would be stale; without, the live pid keeps it.
    writeFileSync(join(directory, 'lock'), `${process.ppid}\nboot 00000000-0000-0000-0000-000000000000\nstart 1`);
    await expect(FileRaftStorage.open(directory, { fsync: false })).rejects.toMatchObject({ reason: 'inUse' });
  });
});
