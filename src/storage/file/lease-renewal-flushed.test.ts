// Found by a review of the lock lease (2026-12-07): the lease renewal rewrites the lock's bytes through its handle but never flushes them.
// On NFS (which directory-lease.ts names as a target: "the file system's own clock (an NFS
// server's, say)") a write stays in the client's page cache until writeback (dirty_expire, 30 s by
// default) or an fsync/close; the server's modification time, which another host judges the lease
// by, then stands still for longer than the 15 s lease while the holder runs, and a live holder's
// lock is taken over: two writers on one journal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { holdLease } from './directory-lease.ts';

const made: string[] = [];
afterEach(() => {
  for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('the lease renewal reaches the file system', () => {
  it('flushes each renewal (fsync/fdatasync), so that the modification time another host judges by moves on', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'raftmesh-review-renewal-'));
    made.push(directory);
    const path = join(directory, 'lock');
    const text = '1234\nlease-expiry-ms 200\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55';
    writeFileSync(path, text);
    const calls: string[] = [];
    const handle = {
      write: async (bytes: Uint8Array) => {
        calls.push('write');
        return { bytesWritten: bytes.length, buffer: bytes };
      },
      sync: async () => void calls.push('sync'),
      datasync: async () => void calls.push('datasync'),
    } as unknown as FileHandle;
    const lease = holdLease(path, text, handle, { renewMs: 10, expiryMs: 100, now: () => performance.now() }, (why) => new RaftStorageError(why, { reason: 'inUse' }));
    const deadline = Date.now() + 2_000;
    while (calls.filter((call) => call === 'write').length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await lease.stop();
    expect(lease.lost.value).toBeNull();
    expect(calls.filter((call) => call === 'write').length).toBeGreaterThanOrEqual(3);
    expect(calls.some((call) => call === 'sync' || call === 'datasync')).toBe(true);
  });
});
