// The tab's identity slot at the edges of leave() (from an outside review, 2026-12-07): an aborted
// join waiting for a slot on its way back, a node whose close() fails, leave() twice with an abort.
// The tab: slot-tab.test-support.ts, on fake-indexeddb without Web Locks.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createSlotTab as createTab, useFakeLocalStorage } from './slot-tab.test-support.ts';

useFakeLocalStorage();

/** How `promise` settles within `ms` of real time: 'resolved', 'rejected' or 'pending'. */
function outcomeWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  return Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), late]).finally(() => clearTimeout(timer));
}

describe('the tab slot given back at leave(), at the edges', () => {
  it('an aborted join that waits for a slot still being released rejects at once, not after ownReleaseWaitMs (10 s)', async () => {
    const tab = createTab(55_001);
    const first = await tab.settle(tab.join());
    // The previous room's leave hangs (its storage never closes): its slot is announced, never released.
    tab.knobs.hangStorageClose = true;
    void first.leave();
    const controller = new AbortController();
    const joining = tab.join(controller.signal);
    joining.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new DOMException('unmounted', 'AbortError'));
    // Before the fix the claim waited on the released slot with a plain timer and looked at the signal only after it.
    expect(await outcomeWithin(joining, 2_000)).toBe('rejected');
  }, 20_000);

  it('a leave() whose node.close() rejects still closes its storage before the slot goes back: the next join, on the same id, never finds it open', async () => {
    const tab = createTab(55_002);
    const first = await tab.settle(tab.join());
    tab.knobs.nodeCloseRejects = true;
    await expect(tab.settle(first.leave())).rejects.toThrow('node.close() failed');
    tab.knobs.nodeCloseRejects = false;
    const again = await tab.settle(tab.join());
    expect(again.id).toBe(first.id);
    // Before the fix the old storage was never closed (leaveRoom stopped at node.close()), yet the slot went back.
    expect(tab.openedWhileInUse).toEqual([]);
    await tab.settle(again.leave());
  });

  it('leave() twice at once, then an abort of the same room\'s signal, gives the slot back once; the next join is the same id on a closed storage', async () => {
    const tab = createTab(55_003);
    const controller = new AbortController();
    const first = await tab.settle(tab.join(controller.signal));
    const leaves = Promise.all([first.leave(), first.leave()]);
    controller.abort(new DOMException('unmounted', 'AbortError'));
    const again = tab.join();
    await tab.settle(leaves);
    const joined = await tab.settle(again);
    expect(joined.id).toBe(first.id);
    expect(tab.openedWhileInUse).toEqual([]);
    await tab.settle(joined.leave());
  });
});
