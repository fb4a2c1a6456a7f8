// The lock made of IndexedDB version changes (version-lock.ts), on fake-indexeddb: every
// connection is another contender here, as every tab and worker is in a browser
// (database-lock.browser.test.ts runs it across a worker and a page in Chromium).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { acquireVersionLock, type VersionLock } from './version-lock.ts';

let count = 0;
const uniqueName = (label: string): string => `version-lock-${label}-${Date.now()}-${(count += 1)}`;

describe('acquireVersionLock', () => {
  it('contenders that start together hold it one at a time, and each gets it once the one before lets go', async () => {
    const name = uniqueName('together');
    let holders = 0;
    let mostAtOnce = 0;
    const served: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, contender) => {
        const lock = await acquireVersionLock(indexedDB, name, 10_000);
        expect(lock).not.toBeNull();
        holders += 1;
        mostAtOnce = Math.max(mostAtOnce, holders);
        served.push(contender);
        await new Promise((resolve) => setTimeout(resolve, 5));
        holders -= 1;
        lock?.release();
      }),
    );
    expect(mostAtOnce).toBe(1);
    expect([...served].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a contender that gave up is never granted it later: the holder that follows is the next one still waiting', async () => {
    const name = uniqueName('gave-up');
    const first = (await acquireVersionLock(indexedDB, name, 0)) as VersionLock;
    expect(first).not.toBeNull();
    expect(await acquireVersionLock(indexedDB, name, 30)).toBeNull();
    const waiting = acquireVersionLock(indexedDB, name, 10_000);
    first.release();
    const next = await waiting;
    expect(next).not.toBeNull();
    expect(await acquireVersionLock(indexedDB, name, 0)).toBeNull();
    next?.release();
    // The one that gave up left a request behind: had its upgrade gone through when the first
    // let go, it would hold the lock for nobody, and this would find it taken.
    const last = await acquireVersionLock(indexedDB, name, 0);
    expect(last).not.toBeNull();
    last?.release();
  });

  it('a zero bound gives up at once when a holder is connected', async () => {
    const name = uniqueName('zero');
    const held = await acquireVersionLock(indexedDB, name, 0);
    const started = performance.now();
    expect(await acquireVersionLock(indexedDB, name, 0)).toBeNull();
    expect(performance.now() - started).toBeLessThan(500);
    held?.release();
  });

  it('release is idempotent, and the lock is free again after it', async () => {
    const name = uniqueName('release');
    const held = await acquireVersionLock(indexedDB, name, 0);
    held?.release();
    held?.release();
    const again = await acquireVersionLock(indexedDB, name, 1_000);
    expect(again).not.toBeNull();
    again?.release();
  });
});
