// One live IndexedDbRaftStorage per database in Node, on fake-indexeddb: there are no Web Locks
// here, so these run the fallback made of IndexedDB version changes (the same cases run on Web
// Locks in database-lock.browser.test.ts), plus the fallback's own queue and the bound's
// validation.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { acquireDatabaseLock, defaultLockTimeoutMs, validateLockTimeout } from './database-lock.ts';
import { describeSingleOwner } from './database-lock.behaviour.test-support.ts';

describeSingleOwner();

const reasonOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'acquired',
    (error: unknown) => (error instanceof RaftStorageError ? error.reason : String(error)),
  );

describe('the version-change fallback (no Web Locks)', () => {
  it('is what runs here: this runtime has no navigator.locks', () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
  });

  it('hands the lock to waiters first come, first served; one that timed out is skipped, never granted later', async () => {
    const first = await acquireDatabaseLock('queue', 0);
    const timedOut = reasonOf(acquireDatabaseLock('queue', 20));
    const granted: string[] = [];
    const second = acquireDatabaseLock('queue', 5_000).then((lock) => (granted.push('second'), lock));
    const third = acquireDatabaseLock('queue', 5_000).then((lock) => (granted.push('third'), lock));
    expect(await timedOut).toBe('inUse');
    first.release();
    first.release(); // idempotent: a second release must not hand the lock to a second waiter
    const secondLock = await second;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(granted).toEqual(['second']);
    secondLock.release();
    (await third).release();
    expect(granted).toEqual(['second', 'third']);
    (await acquireDatabaseLock('queue', 0)).release(); // nothing left holding it
  });

  it('a zero bound refuses at once when held', async () => {
    const held = await acquireDatabaseLock('zero', 0);
    const started = performance.now();
    expect(await reasonOf(acquireDatabaseLock('zero', 0))).toBe('inUse');
    expect(performance.now() - started).toBeLessThan(50);
    held.release();
  });
});

describe('lockTimeoutMs validation', () => {
  it('defaults to 5 s and accepts integers from 0 to one hour', () => {
    expect(validateLockTimeout(undefined)).toBe(defaultLockTimeoutMs);
    expect(defaultLockTimeoutMs).toBe(5_000);
    expect(validateLockTimeout(0)).toBe(0);
    expect(validateLockTimeout(3_600_000)).toBe(3_600_000);
  });

  it('refuses anything else with a RangeError that names the option and the value', () => {
    for (const invalid of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 3_600_001, '5000' as unknown as number, null as unknown as number]) {
      expect(() => validateLockTimeout(invalid)).toThrow(RangeError);
    }
    expect(() => validateLockTimeout(-1)).toThrow('IndexedDbRaftStorage lockTimeoutMs must be an integer number of ms from 0 to 3600000, got -1');
  });
});
