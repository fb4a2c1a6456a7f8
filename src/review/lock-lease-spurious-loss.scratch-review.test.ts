// Review (2026-12-07) of the lock lease (directory-lease.ts), 13fc6e7 especially: a live holder
// whose lock nobody touched is failed, for good, by its own clocks.
//
// 1. confirmHeld(): after its renewal has SUCCEEDED (the lock written, flushed and read back as
//    this process's), it measures the time since that renewal's start once more and throws
//    "could not be confirmed after a stall" when it exceeds confirmAfterMs (2 renewals, 4 s by
//    default). A renewal whose flush took longer than that (a busy SD card or NFS server), or a
//    wall-clock step forward while it was in flight (13fc6e7 now counts the wall clock), fails the
//    write; FileRaftStorage.run() then fails the storage for good (the node stops), with a message
//    saying the process "no longer holds" the directory. The lock is still its own, freshly
//    renewed: renewing once more would do (a real sleep in that window is caught by that renewal).
// 2. renewOnce(): a renewal that fails once (a transient EIO, which the code says "is tried again
//    at the next interval") sets `lost` for good when the wall clock was stepped forward by a lease
//    since the last renewal (NTP's first sync on an RTC-less edge device), although the lease was
//    renewed one interval ago on the monotonic clock and the next renewal succeeds. 13fc6e7's own
//    comment promises "one set forward costs one early confirmation".
import { readFileSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { LogEntry } from '../core/types.ts';
import { acquireDirectoryLock } from '../storage/file/directory-lock.ts';
import type { LeaseTiming } from '../storage/file/directory-lease.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from '../storage/file/file-storage.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-lease-');
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

describe('the lease does not fail a holder whose lock is still its own (review)', () => {
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
