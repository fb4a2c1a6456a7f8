// The version-change lock in Chromium, where every connection is a contender as every tab's is:
// contenders asking with a zero bound at the same moment (tabs claiming their slots at once) must
// leave the lock to exactly one of them. A contender learning the version holds a connection for a
// moment, which the others' upgrade requests see as blocking; had each taken that for a holder,
// all could give up a free lock, and every tab would skip its slot.
import { describe, expect, it } from 'vitest';
import { acquireVersionLock } from './version-lock.ts';

let count = 0;
const uniqueName = (label: string): string => `version-lock-browser-${label}-${Date.now()}-${(count += 1)}`;

describe('acquireVersionLock in Chromium', () => {
  it('of five zero-bound contenders at once, exactly one takes a free lock, new or released, in each of 20 locks', async () => {
    // The 20 locks run side by side: a loser queued behind another loser's pending request hears
    // no `blocked` and waits out the zero bound's second, which would make rounds in turn slow.
    const winners = await Promise.all(
      Array.from({ length: 20 }, async (_, round) => {
        const name = uniqueName(`race-${round}`);
        if (round % 2 === 1) (await acquireVersionLock(indexedDB, name, 0))?.release();
        const locks = await Promise.all(Array.from({ length: 5 }, () => acquireVersionLock(indexedDB, name, 0)));
        for (const lock of locks) lock?.release();
        return locks.filter((lock) => lock !== null).length;
      }),
    );
    expect(winners).toEqual(Array.from({ length: 20 }, () => 1));
  });
});
