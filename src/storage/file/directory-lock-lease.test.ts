// The holder's side of the lock's lease (directory-lease.ts): it rewrites its lock while open, a
// lock found taken over or removed fails the storage (RaftStorage.failure, so the node stops), a
// write after a freeze longer than the lease confirms the lock before it writes, and close clears
// the timer. Short intervals here; the clock is injected where a freeze is simulated.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../core/types.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import type { LeaseTiming } from './directory-lease.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-lock-lease-');
const quickLease: LeaseTiming = { renewMs: 20, expiryMs: 200, now: () => performance.now() };
const entry = (index: number): LogEntry => ({ index, term: 1, command: new Uint8Array([index]), isNoOp: false });
const newOwner = `4242\nlease-expiry-ms 15000\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55`;

function open(directory: string, leaseTiming: LeaseTiming): Promise<FileRaftStorage> {
  const options: InternalFileStorageOptions = { fsync: false, leaseTiming };
  return FileRaftStorage.open(directory, options);
}

/** As a taker does: the old lock removed, a new file (another inode) linked in its place. */
function takeOverBehindItsBack(directory: string): void {
  unlinkSync(join(directory, 'lock'));
  writeFileSync(join(directory, 'lock'), newOwner);
}

/** Sets the lock's modification time `seconds` back, as if its lease had stood unrenewed that long. */
function backdateLock(directory: string, seconds: number): number {
  const past = Date.now() / 1000 - seconds;
  utimesSync(join(directory, 'lock'), past, past);
  return past * 1000;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the lease on the data directory lock, held', () => {
  it('renews the lease while open: the lock keeps its bytes, and its modification time moves on', async () => {
    const directory = freshDirectory();
    const storage = await open(directory, quickLease);
    const text = readFileSync(join(directory, 'lock'), 'utf8');
    expect(text).toMatch(/\nlease-expiry-ms 200\ntoken /);
    const past = backdateLock(directory, 60);
    await until(() => statSync(join(directory, 'lock')).mtimeMs > past + 30_000);
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(text);
    await storage.close();
  });

  it('fails its storage at the next renewal once the lock was taken over, refuses writes, and leaves the new owner’s lock on close', async () => {
    const directory = freshDirectory();
    const storage = await open(directory, quickLease);
    await storage.appendEntries([entry(1)]);
    takeOverBehindItsBack(directory);
    await until(() => storage.failure.value !== null);
    expect(storage.failure.value).toMatchObject({ reason: 'inUse', message: expect.stringMatching(/lock .* now names another owner .*no longer holds/) });
    await expect(storage.appendEntries([entry(2)])).rejects.toMatchObject({ reason: 'inUse' });
    await storage.close();
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(newOwner);
  });

  it('fails its storage when its lock was removed, and does not put it back', async () => {
    const directory = freshDirectory();
    const storage = await open(directory, quickLease);
    unlinkSync(join(directory, 'lock'));
    await until(() => storage.failure.value !== null);
    expect(storage.failure.value).toMatchObject({ reason: 'inUse', message: expect.stringMatching(/was removed/) });
    await storage.close();
    expect(() => statSync(join(directory, 'lock'))).toThrow(/ENOENT/);
  });

  it('refuses a write after a freeze longer than the lease, before writing anything, once the lock was taken over meanwhile', async () => {
    const directory = freshDirectory();
    let nowMs = 0;
    // Renewals far apart: only the freeze check below can find the takeover.
    const storage = await open(directory, { renewMs: 60_000, expiryMs: 180_000, now: () => nowMs });
    await storage.appendEntries([entry(1)]);
    const journalBytes = statSync(join(directory, 'journal.v2')).size;
    takeOverBehindItsBack(directory);
    nowMs += 200_000; // frozen (SIGSTOP, a paused container) past the lease
    await expect(storage.appendEntries([entry(2)])).rejects.toMatchObject({ reason: 'inUse', message: expect.stringMatching(/now names another owner/) });
    expect(statSync(join(directory, 'journal.v2')).size).toBe(journalBytes);
    expect(storage.failure.value?.reason).toBe('inUse');
    await storage.close();
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(newOwner);
  });

  it('after a freeze, confirms and renews a lock that is still its own, and writes', async () => {
    const directory = freshDirectory();
    let nowMs = 0;
    const storage = await open(directory, { renewMs: 60_000, expiryMs: 180_000, now: () => nowMs });
    const past = backdateLock(directory, 60);
    nowMs += 200_000;
    await storage.appendEntries([entry(1)]);
    expect(statSync(join(directory, 'lock')).mtimeMs).toBeGreaterThan(past + 30_000);
    expect(storage.failure.value).toBeNull();
    await storage.close();
  });

  it('after the machine slept (the monotonic clock stood still, the wall clock moved on), confirms the lock before it writes', async () => {
    // Linux's monotonic clock leaves out a suspend; a taker on another host saw the lease run out.
    const directory = freshDirectory();
    let wallClockMs = Date.now();
    const storage = await open(directory, { renewMs: 60_000, expiryMs: 180_000, now: () => 0, wallClockNow: () => wallClockMs });
    await storage.appendEntries([entry(1)]);
    const journalBytes = statSync(join(directory, 'journal.v2')).size;
    takeOverBehindItsBack(directory);
    wallClockMs += 200_000;
    await expect(storage.appendEntries([entry(2)])).rejects.toMatchObject({ reason: 'inUse', message: expect.stringMatching(/now names another owner/) });
    expect(statSync(join(directory, 'journal.v2')).size).toBe(journalBytes);
    await storage.close();
  });

  it('writes without touching the lock while the lease is fresh (one clock comparison)', async () => {
    const directory = freshDirectory();
    const storage = await open(directory, { renewMs: 60_000, expiryMs: 180_000, now: () => 0 });
    const past = backdateLock(directory, 60);
    await storage.appendEntries([entry(1)]);
    expect(statSync(join(directory, 'lock')).mtimeMs).toBeLessThan(past + 1_000);
    await storage.close();
  });

  it('clears its renewal timer on close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const directory = freshDirectory();
    const storage = await open(directory, quickLease);
    expect(vi.getTimerCount()).toBe(1);
    await storage.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never keeps a process alive: one that leaves its storage open exits by itself', () => {
    const directory = freshDirectory();
    const script = `const { FileRaftStorage } = await import(${JSON.stringify(join(import.meta.dirname, 'file-storage.ts'))}); await FileRaftStorage.open(${JSON.stringify(directory)}, { fsync: false }); console.log('opened');`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stdout.trim()).toBe('opened');
    expect(run.status).toBe(0);
  });
});
