// The tab identity store on Chromium's own IndexedDB and localStorage (its logic, on
// fake-indexeddb, is in tab-identity.test.ts): a value set is in the database and copied once it
// is there, an earlier version's value moves over, a value the database lost is reported, and
// claimTabIdentity hands two tabs' slots stores of their own.
import { describe, expect, it } from 'vitest';
import { durableIdentityStore, identityCopyKey } from './durable-identity-store.ts';
import { deleteValue, storedValue } from './identity-database.test-support.ts';
import { claimTabIdentity } from './tab-identity.ts';

let count = 0;
const uniqueKey = (label: string): string => `browser-${label}-${Date.now()}-${(count += 1)}`;

describe('durableIdentityStore on Chromium', () => {
  it('set: the value is in the database when set() resolves, then copied to localStorage; get reads the database', async () => {
    const key = uniqueKey('set');
    const store = durableIdentityStore('', localStorage);
    await store.set(key, 'peer-one');
    expect(await storedValue(key)).toBe('peer-one');
    expect(localStorage.getItem(identityCopyKey(key))).toBe('peer-one');
    localStorage.setItem(identityCopyKey(key), 'peer-stale');
    expect(await durableIdentityStore('', localStorage).get(key)).toBe('peer-one');
    await store.delete(key);
    expect(await storedValue(key)).toBeUndefined();
    expect(localStorage.getItem(identityCopyKey(key))).toBeNull();
  });

  it('an earlier version\'s value in localStorage moves over on its first read', async () => {
    const key = uniqueKey('legacy');
    localStorage.setItem(key, 'peer-earlier');
    const store = durableIdentityStore('', localStorage);
    expect(await store.get(key)).toBe('peer-earlier');
    expect(await storedValue(key)).toBe('peer-earlier');
    expect(localStorage.getItem(key)).toBeNull();
    await store.delete(key);
  });

  it('a value the database lost reads as absent, and lostValue names it', async () => {
    const key = uniqueKey('lost');
    await durableIdentityStore('', localStorage).set(key, 'peer-lost');
    await deleteValue(key);
    const store = durableIdentityStore('', localStorage);
    expect(await store.get(key)).toBeNull();
    expect(store.lostValue(key)).toBe('peer-lost');
    expect(localStorage.getItem(identityCopyKey(key))).toBeNull();
  });

  it('claimTabIdentity gives two slots of one page stores of their own (Web Locks)', async () => {
    const room = uniqueKey('slots');
    const first = await claimTabIdentity(room);
    const second = await claimTabIdentity(room);
    expect(second.slot).toBe(first.slot + 1);
    await first.store.set('node-id', 'peer-a');
    await second.store.set('node-id', 'peer-b');
    expect(await first.store.get('node-id')).toBe('peer-a');
    expect(await second.store.get('node-id')).toBe('peer-b');
  });
});
