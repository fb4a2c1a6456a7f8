// Tab slots where there are no Web Locks (an insecure context, and Node here): the slots are
// IndexedDB version locks, which every tab sees, so two tabs of one profile still take two slots.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canClaimTabSlots, claimTabIdentity } from './tab-identity.ts';

describe('claimTabIdentity without Web Locks', () => {
  const values = new Map<string, string>();
  beforeEach(() => {
    values.clear();
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: (key: string) => values.get(key) ?? null,
      setItem: (key: string, value: string) => void values.set(key, value),
      removeItem: (key: string) => void values.delete(key),
    };
  });
  afterEach(() => {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });

  it('runs without Web Locks here, on IndexedDB', () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
    expect(canClaimTabSlots()).toBe(true);
  });

  it('gives two tabs of one profile two slots, each with keys of its own (one slot for all made them one member)', async () => {
    const room = `slots-${Date.now()}`;
    const first = await claimTabIdentity(room);
    const second = await claimTabIdentity(room);
    expect([first.slot, second.slot]).toEqual([0, 1]);
    first.store.set('node-id', 'peer-a');
    second.store.set('node-id', 'peer-b');
    expect(first.store.get('node-id')).toBe('peer-a');
    expect(second.store.get('node-id')).toBe('peer-b');
  });
});
