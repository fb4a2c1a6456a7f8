// joinRoom with the browser tab's default identity store (a slot of tab-identity.ts, here on
// fake-indexeddb without Web Locks: the IndexedDB-lock fallback), joining, leaving and joining
// again in one tab. The slot used to be held for the tab's life: each join after a leave took the
// next slot, under a fresh id without the previous one's log, and the 65th join failed. Now it goes
// back when the room is left, or the join fails or is aborted, and the next join in the tab takes
// it again: the same id, with its log. A lone peer on the simulated network, virtual clock; each
// id's storage in memory, kept across joins as an IndexedDB database would be.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createSlotTab as createTab, useFakeLocalStorage } from './slot-tab.test-support.ts';

useFakeLocalStorage();

describe('joinRoom gives the tab\'s identity slot back', () => {
  it('leave, then join again in the same tab: the same id, with its log (the counter goes on from 2, not back to 1)', async () => {
    const tab = createTab(5_501);
    const first = await tab.settle(tab.join());
    expect(await tab.bump(first)).toBe(1);
    expect(await tab.bump(first)).toBe(2);
    await tab.settle(first.leave());
    const again = await tab.settle(tab.join());
    expect(again.id).toBe(first.id);
    expect(await tab.bump(again)).toBe(3);
    await tab.settle(again.leave());
  });

  it('a join started while the previous room is still leaving (not awaited, as an effect cleanup does) waits for the slot: the same id, never its storage while the old node has it', async () => {
    const tab = createTab(5_502);
    const first = await tab.settle(tab.join());
    expect(await tab.bump(first)).toBe(1);
    const leaving = first.leave();
    const again = await tab.settle(tab.join());
    await tab.settle(leaving);
    expect(again.id).toBe(first.id);
    expect(tab.openedWhileInUse).toEqual([]);
    expect(await tab.bump(again)).toBe(2);
    await tab.settle(again.leave());
  });

  it('a join aborted after it took its slot gives it back: the next join runs under that slot\'s id, and 66 aborted joins in one tab never run out of slots', async () => {
    const tab = createTab(5_503);
    const first = await tab.settle(tab.join());
    const firstId = first.id;
    await tab.settle(first.leave());
    for (let attempt = 0; attempt < 66; attempt += 1) {
      const controller = new AbortController();
      const joining = tab.join(controller.signal);
      // Aborted in discovery, once the slot is taken and the id read.
      await tab.clock.advance(50);
      controller.abort(new DOMException('the page left', 'AbortError'));
      await expect(tab.settle(joining)).rejects.toThrow('the page left');
    }
    const again = await tab.settle(tab.join());
    expect(again.id).toBe(firstId);
    await tab.settle(again.leave());
  });

  it('two joins at once, the first aborted at once (React StrictMode\'s join, abort, join): the second takes the first\'s slot and id', async () => {
    const tab = createTab(5_504);
    const before = await tab.settle(tab.join());
    const id = before.id;
    await tab.settle(before.leave());
    const controller = new AbortController();
    const aborted = tab.join(controller.signal);
    controller.abort(new DOMException('unmounted', 'AbortError'));
    const second = tab.join();
    await expect(tab.settle(aborted)).rejects.toThrow('unmounted');
    const joined = await tab.settle(second);
    expect(joined.id).toBe(id);
    await tab.settle(joined.leave());
  });
});
