// Guards that a holder whose lock is still its own is not failed by its own clocks or a slow disk
// (a review of the lease, 2026-12-07): a confirmation's renewal that succeeded but took longer than
// two renewals (a slow fdatasync), or during which the wall clock stepped forward, used to fail
// the write, and with it the storage for good, saying the process no longer held the directory;
// and one failed renewal right after a wall-clock step forward lost the lock for good.
import { readFileSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { LogEntry } from '../../core/types.ts';
import { acquireDirectoryLock } from './directory-lock.ts';
import type { LeaseTiming } from './directory-lease.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-lease-own-clocks-');
const entry = (index: number): LogEntry => ({ index, term: 1, command: new Uint8Array([index]), isNoOp: false });

let datasyncSpy: MockInstance | null = null;
afterEach(() => {
  datasyncSpy?.mockRestore();
  datasyncSpy = null;
  vi.useRealTimers();
});

/** Runs `during` inside the next FileHandle.datasync (the lease renewal's flush), `times` times. */
async function duringNextDatasync(during: () => void | Promise<never>, times = 1): Promise<() => number> {
  const probe = await openFile(join(freshDirectory(), 'probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.datasync;
  let left = times;
  let calls = 0;
  datasyncSpy = vi.spyOn(prototype, 'datasync').mockImplementation(async function (this: FileHandle) {
    calls += 1;
    if (left > 0) {
      left -= 1;
      await during();
    }
    return original.call(this);
  });
  return () => calls;
}

function openStorage(directory: string, leaseTiming: LeaseTiming): Promise<FileRaftStorage> {
  const options: InternalFileStorageOptions = { fsync: false, leaseTiming };
  return FileRaftStorage.open(directory, options);
}

describe('the lease does not fail a holder whose lock is still its own', () => {
  it('a confirmation whose renewal flush took longer than two renewals (a slow disk) renews again instead of failing the storage', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // no timer renewal: only the confirmation renews
    const directory = freshDirectory();
    let monotonicMs = 0;
    const wallMs = Date.now();
    const storage = await openStorage(directory, { renewMs: 2_000, expiryMs: 15_000, now: () => monotonicMs, wallClockNow: () => wallMs });
    const lockText = readFileSync(join(directory, 'lock'), 'utf8');
    monotonicMs = 4_500; // a write 4.5 s after the last renewal (the event loop was busy): it confirms
    await duringNextDatasync(() => void (monotonicMs += 4_500)); // the renewal's fdatasync takes 4.5 s
    const write = await storage.appendEntries([entry(1)]).then(
      () => 'written',
      (error: unknown) => (error as Error).message,
    );
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(lockText); // still this process's lock, renewed
    expect(write).toBe('written');
    await storage.close();
  });

  it('a wall-clock step forward during a confirmation’s renewal costs another renewal, not the storage', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const directory = freshDirectory();
    let monotonicMs = 0;
    let wallMs = Date.now();
    const storage = await openStorage(directory, { renewMs: 2_000, expiryMs: 15_000, now: () => monotonicMs, wallClockNow: () => wallMs });
    const lockText = readFileSync(join(directory, 'lock'), 'utf8');
    monotonicMs = 4_500; // a write 4.5 s after the last renewal: it confirms
    await duringNextDatasync(() => void (wallMs += 60_000)); // NTP steps the clock a minute forward meanwhile
    const write = await storage.appendEntries([entry(1)]).then(
      () => 'written',
      (error: unknown) => (error as Error).message,
    );
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(lockText);
    expect(write).toBe('written');
    expect(storage.failure.value).toBeNull();
    await storage.close();
  });

  it('still fails the write when no renewal is timely within a lease (every flush slower than two renewals)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const directory = freshDirectory();
    let monotonicMs = 0;
    const wallMs = Date.now();
    const storage = await openStorage(directory, { renewMs: 2_000, expiryMs: 15_000, now: () => monotonicMs, wallClockNow: () => wallMs });
    monotonicMs = 4_500;
    const calls = await duringNextDatasync(() => void (monotonicMs += 4_500), 100);
    await expect(storage.appendEntries([entry(1)])).rejects.toMatchObject({ reason: 'inUse', message: expect.stringMatching(/could not be confirmed after a stall/) });
    expect(calls()).toBeLessThanOrEqual(4); // bounded: a lease's worth of renewals, not one per flush for good
    await storage.close();
  });

  it('one failed renewal right after a wall-clock step forward does not lose a lock renewed one interval ago', async () => {
    const directory = freshDirectory();
    let wallMs = Date.now();
    // The monotonic clock says the last renewal was just now (a step, not a sleep).
    const lock = await acquireDirectoryLock(directory, 'FileRaftStorage', { renewMs: 20, expiryMs: 200, now: () => 0, wallClockNow: () => wallMs });
    const lockText = readFileSync(join(directory, 'lock'), 'utf8');
    wallMs += 3_600_000; // NTP's first sync on a device without a real-time clock
    const calls = await duringNextDatasync(() => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    const deadline = Date.now() + 5_000;
    while (calls() < 3 && lock.lost.value === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    // Renewals go on (once failed, then succeeded): the lock is its own, and nobody could have judged it expired.
    expect(calls()).toBeGreaterThanOrEqual(1);
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(lockText);
    expect(lock.lost.value?.message ?? null).toBeNull();
    await lock.release();
  });
});
