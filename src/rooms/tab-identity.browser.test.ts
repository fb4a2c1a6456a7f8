// Tab slots on Chromium's Web Locks (the IndexedDB-lock fallback runs in Node:
// tab-identity.test.ts): a slot given back is free in the browser's lock manager once release()
// resolves, so the next claim in the tab takes the same slot; a claim waits for a slot this tab
// is giving back, and passes one a live join holds. Slots used to be held for the tab's life.
import { describe, expect, it } from 'vitest';
import { slotLockName } from './tab-slot-lock.ts';
import { claimTabIdentity, claimTabSlot } from './tab-identity.ts';

let count = 0;
const uniqueRoom = (label: string): string => `browser-${label}-${Date.now()}-${(count += 1)}`;

async function heldLocks(room: string): Promise<string[]> {
  const { held = [] } = await navigator.locks.query();
  return held.map((lock) => lock.name ?? '').filter((name) => name.startsWith(`raftmesh:room:${room}:`));
}

describe('tab slots on Web Locks', () => {
  it('release() frees the slot\'s Web Lock, and the next claim in the tab takes the same slot, with its values', async () => {
    const room = uniqueRoom('release');
    const first = await claimTabIdentity(room);
    await first.store.set('node-id', 'peer-kept');
    expect(await heldLocks(room)).toEqual([slotLockName(room, first.slot)]);
    await first.release();
    expect(await heldLocks(room)).toEqual([]);
    const again = await claimTabIdentity(room);
    expect(again.slot).toBe(first.slot);
    expect(await again.store.get('node-id')).toBe('peer-kept');
    await again.release();
    await again.release(); // idempotent
    expect(await heldLocks(room)).toEqual([]);
  });

  it('a claim waits for a slot this tab is giving back, and passes one a live join holds', async () => {
    const room = uniqueRoom('announced');
    const leaving = await claimTabSlot(room);
    const running = await claimTabSlot(room);
    leaving.announceRelease();
    const claim = claimTabSlot(room);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await leaving.release();
    const taken = await claim;
    expect(taken.slot).toBe(leaving.slot);
    const next = await claimTabSlot(room);
    expect(next.slot).toBe(running.slot + 1);
    await Promise.all([running.release(), taken.release(), next.release()]);
    expect(await heldLocks(room)).toEqual([]);
  });

  it('a claim aborted while it takes its Web Lock gives it back', async () => {
    const room = uniqueRoom('aborted');
    const controller = new AbortController();
    const request = navigator.locks.request.bind(navigator.locks) as (...args: unknown[]) => Promise<unknown>;
    const locks = navigator.locks as unknown as { request: (...args: unknown[]) => Promise<unknown> };
    locks.request = (...args: unknown[]) => {
      controller.abort(new DOMException('aborted while taking', 'AbortError'));
      return request(...args);
    };
    try {
      await expect(claimTabSlot(room, controller.signal)).rejects.toThrow('aborted while taking');
    } finally {
      delete (locks as { request?: unknown }).request;
    }
    expect(await heldLocks(room)).toEqual([]);
    const claimed = await claimTabSlot(room);
    expect(claimed.slot).toBe(0);
    await claimed.release();
  });
});
