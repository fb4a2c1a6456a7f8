// Tab slots where there are no Web Locks (an insecure context, and Node here): the slots are
// IndexedDB version locks, which every tab sees, so two tabs of one profile still take two slots.
// Each slot's values live in the identity database (durable-identity-store.ts), with localStorage
// read only for values an earlier version saved there. With Web Locks (staged), a refused lock
// request rejects the claim instead of leaving it waiting forever.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canClaimTabSlots, claimTabIdentity, claimTabSlot } from './tab-identity.ts';
import { dataLostKey, durableIdentityStore, identityCopyKey, identityDatabaseName } from './durable-identity-store.ts';
import { deleteValue, putValue, storedValue } from './identity-database.test-support.ts';

const values = new Map<string, string>();
const fakeLocalStorage = {
  getItem: (key: string) => values.get(key) ?? null,
  setItem: (key: string, value: string) => void values.set(key, value),
  removeItem: (key: string) => void values.delete(key),
};

let count = 0;
const uniqueRoom = (label: string): string => `${label}-${Date.now()}-${(count += 1)}`;

beforeEach(() => {
  values.clear();
  (globalThis as { localStorage?: unknown }).localStorage = fakeLocalStorage;
});
afterEach(() => {
  delete (globalThis as { localStorage?: unknown }).localStorage;
});

describe('claimTabIdentity without Web Locks', () => {
  it('runs without Web Locks here, on IndexedDB', () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
    expect(canClaimTabSlots()).toBe(true);
  });

  it('gives two tabs of one profile two slots, each with keys of its own (one slot for all made them one member)', async () => {
    const room = uniqueRoom('slots');
    const first = await claimTabIdentity(room);
    const second = await claimTabIdentity(room);
    expect([first.slot, second.slot]).toEqual([0, 1]);
    await first.store.set(`${room}:node-id`, 'peer-a');
    await second.store.set(`${room}:node-id`, 'peer-b');
    expect(await first.store.get(`${room}:node-id`)).toBe('peer-a');
    expect(await second.store.get(`${room}:node-id`)).toBe('peer-b');
    // Slot 0 keeps the unprefixed keys (an identity saved before slots existed is still found).
    expect(await storedValue(`${room}:node-id`)).toBe('peer-a');
    expect(await storedValue(`slot-1:${room}:node-id`)).toBe('peer-b');
  });
});

describe('giving a slot back, without Web Locks', () => {
  it('a released slot is the lowest free one again: the next claim takes it, with the values it kept (slots were held for the tab\'s life)', async () => {
    const room = uniqueRoom('release');
    const first = await claimTabIdentity(room);
    await first.store.set(`${room}:node-id`, 'peer-kept');
    await first.release();
    const again = await claimTabIdentity(room);
    expect(again.slot).toBe(first.slot);
    expect(await again.store.get(`${room}:node-id`)).toBe('peer-kept');
    await again.release();
  });

  it('a claim while this tab gives a slot back (a leave under way) waits for it; one held and not on its way back is passed by', async () => {
    const room = uniqueRoom('announced');
    const leaving = await claimTabSlot(room);
    const running = await claimTabSlot(room);
    expect([leaving.slot, running.slot]).toEqual([0, 1]);
    leaving.announceRelease();
    const claim = claimTabSlot(room);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await leaving.release();
    expect((await claim).slot).toBe(0);
    // Not announced: a live room of this tab keeps its slot, and the claim takes the next free one.
    expect((await claimTabSlot(room)).slot).toBe(2);
  });

  it('a claim aborted before it takes a slot takes none; one aborted while taking it gives it back', async () => {
    const room = uniqueRoom('aborted');
    const before = new AbortController();
    before.abort(new Error('aborted before'));
    await expect(claimTabSlot(room, before.signal)).rejects.toThrow('aborted before');
    // Aborted as the slot's lock database opens: the lock is taken, then given back.
    const during = new AbortController();
    const open = indexedDB.open.bind(indexedDB);
    indexedDB.open = (name: string, version?: number) => {
      if (name.includes(`${room}:slot:0`)) during.abort(new Error('aborted during'));
      return open(name, version);
    };
    try {
      await expect(claimTabSlot(room, during.signal)).rejects.toThrow('aborted during');
    } finally {
      indexedDB.open = open;
    }
    expect(during.signal.aborted).toBe(true);
    expect((await claimTabSlot(room)).slot).toBe(0);
  });
});

describe('claimTabIdentity with Web Locks', () => {
  it('rejects, saying why, when the Web Locks request itself rejects, rather than waiting forever', async () => {
    // navigator.locks.request rejects, e.g. with InvalidStateError in a document that is not
    // fully active, or SecurityError in an opaque origin: its callback never runs. The request's
    // promise was dropped (void), so the claim never settled (review idb52).
    const locks = { request: () => Promise.reject(new DOMException('injected: the document is not fully active', 'InvalidStateError')) };
    const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true, writable: true });
    try {
      const outcome = await Promise.race([
        claimTabIdentity(uniqueRoom('refused-lock')).then(
          () => 'claimed',
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2_000)),
      ]);
      expect(outcome).toMatch(/refused the Web Lock of slot 0 in room refused-lock-.*InvalidStateError: injected: the document is not fully active/);
    } finally {
      if (before === undefined) delete (globalThis as { navigator?: unknown }).navigator;
      else Object.defineProperty(globalThis, 'navigator', before);
    }
  });
});

describe('durableIdentityStore', () => {
  it('a value set is in the identity database once set() resolves, with a copy in localStorage that is never read over it', async () => {
    const key = uniqueRoom('set');
    values.set(`p:${key}`, 'older, saved by an earlier version');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    await store.set(key, 'peer-new');
    expect(await storedValue(`p:${key}`)).toBe('peer-new');
    expect(values.get(identityCopyKey(`p:${key}`))).toBe('peer-new');
    // The earlier version's value is gone: it can never come back over the newer one.
    expect(values.has(`p:${key}`)).toBe(false);
    // The copy lags (Chromium writes localStorage to disk seconds late): the database wins.
    values.set(identityCopyKey(`p:${key}`), 'peer-stale');
    expect(await durableIdentityStore('p:', fakeLocalStorage).get(key)).toBe('peer-new');
  });

  it('moves a value an earlier version saved in localStorage into the database on the first read, and reads it from there after', async () => {
    const key = uniqueRoom('legacy');
    values.set(`p:${key}`, 'peer-saved-before');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    expect(await store.get(key)).toBe('peer-saved-before');
    expect(await storedValue(`p:${key}`)).toBe('peer-saved-before');
    expect(values.has(`p:${key}`)).toBe(false);
    expect(values.get(identityCopyKey(`p:${key}`))).toBe('peer-saved-before');
    expect(store.lostValue(key)).toBeNull();
    expect(await store.get(key)).toBe('peer-saved-before');
  });

  it('moves each key of an earlier version on its own first read, whatever was moved or saved before it', async () => {
    const room = uniqueRoom('keys');
    values.set(`p:${room}:node-id`, 'peer-old');
    values.set(`p:${room}:bootstrap`, '{"voters":["peer-old"]}');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    expect(await store.get(`${room}:node-id`)).toBe('peer-old');
    await store.set(`${room}:claim`, 'a claim');
    expect(await store.get(`${room}:bootstrap`)).toBe('{"voters":["peer-old"]}');
    expect(store.lostValue(`${room}:bootstrap`)).toBeNull();
  });

  it('a value whose copy says it was in the database, and is gone (the browser deleted the origin\'s IndexedDB), reads as absent, and lostValue names it', async () => {
    const key = uniqueRoom('lost');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    await store.set(key, 'peer-lost');
    await deleteValue(`p:${key}`); // as the browser's deletion of every database of the origin
    expect(await store.get(key)).toBeNull();
    expect(store.lostValue(key)).toBe('peer-lost');
    // Said once: the copy is gone, so a later store does not say it again, nor ever use it.
    expect(values.has(identityCopyKey(`p:${key}`))).toBe(false);
    const later = durableIdentityStore('p:', fakeLocalStorage);
    expect(await later.get(key)).toBeNull();
    expect(later.lostValue(key)).toBeNull();
  });

  it('reads null, and no loss, where neither holds the key', async () => {
    const key = uniqueRoom('absent');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    await store.set(`${key}-other`, 'peer-other');
    expect(await store.get(key)).toBeNull();
    expect(store.lostValue(key)).toBeNull();
  });

  it('delete removes the key from the database and from localStorage: gone, not lost', async () => {
    const key = uniqueRoom('delete');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    await store.set(key, 'peer-gone');
    values.set(`p:${key}`, 'peer-older');
    await store.delete(key);
    expect(await storedValue(`p:${key}`)).toBeUndefined();
    expect(values.has(`p:${key}`)).toBe(false);
    expect(values.has(identityCopyKey(`p:${key}`))).toBe(false);
    expect(await store.get(key)).toBeNull();
    expect(store.lostValue(key)).toBeNull();
  });

  it('keeps to localStorage where there is no IndexedDB at all', async () => {
    const key = uniqueRoom('no-indexeddb');
    const indexedDb = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
    Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true, writable: true });
    try {
      const store = durableIdentityStore('p:', fakeLocalStorage);
      await store.set(key, 'peer-local');
      expect(values.get(`p:${key}`)).toBe('peer-local');
      expect(await store.get(key)).toBe('peer-local');
      await store.delete(key);
      expect(values.has(`p:${key}`)).toBe(false);
    } finally {
      if (indexedDb !== undefined) Object.defineProperty(globalThis, 'indexedDB', indexedDb);
    }
    expect(await storedValue(`p:${key}`)).toBeUndefined();
  });

  it('fails, saying why, where IndexedDB exists but will not open, rather than take a new identity from localStorage', async () => {
    vi.resetModules();
    // A module of its own: no connection opened by the tests before.
    const fresh = await import('./durable-identity-store.ts');
    const open = indexedDB.open.bind(indexedDB);
    indexedDB.open = () => {
      throw new DOMException('injected: the browser refuses IndexedDB here', 'InvalidStateError');
    };
    try {
      values.set('p:node-id', 'peer-in-local-storage');
      const store = fresh.durableIdentityStore('p:', fakeLocalStorage);
      await expect(store.get('node-id')).rejects.toThrow(/room identity is kept in IndexedDB .*could not be opened: injected: the browser refuses IndexedDB here/);
      await expect(store.set('node-id', 'peer-other')).rejects.toThrow(/could not be opened/);
      expect(values.get('p:node-id')).toBe('peer-in-local-storage');
    } finally {
      indexedDB.open = open;
    }
    // A passing failure: the next call opens it.
    expect(await fresh.durableIdentityStore('p:', fakeLocalStorage).get('node-id')).toBe('peer-in-local-storage');
  });

  it('a value in the database with an earlier version\'s value still beside it (a move cut short by a crash): the earlier one goes, the copy is written', async () => {
    const key = uniqueRoom('cut-short');
    await putValue(`p:${key}`, 'peer-moved');
    values.set(`p:${key}`, 'peer-moved');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    expect(await store.get(key)).toBe('peer-moved');
    expect(values.has(`p:${key}`)).toBe(false);
    expect(values.get(identityCopyKey(`p:${key}`))).toBe('peer-moved');
  });

  it('once the browser said it lost the site\'s databases (the mark), an earlier version\'s value is lost, not moved over', async () => {
    const key = uniqueRoom('data-lost');
    await putValue(dataLostKey, 'total');
    try {
      values.set(`p:${key}`, 'peer-of-a-lost-database');
      const store = durableIdentityStore('p:', fakeLocalStorage);
      expect(await store.get(key)).toBeNull();
      expect(store.lostValue(key)).toBe('peer-of-a-lost-database');
      // Handed over once, and gone from localStorage.
      expect(store.lostValue(key)).toBeNull();
      expect(values.has(`p:${key}`)).toBe(false);
      expect(await storedValue(`p:${key}`)).toBeUndefined();
    } finally {
      await deleteValue(dataLostKey);
    }
  });

  it('leaves the mark when the open that creates the database hears of data loss (Chromium\'s dataLoss)', async () => {
    vi.resetModules();
    const fresh = await import('./durable-identity-store.ts');
    await new Promise<void>((resolve, reject) => {
      const deleting = indexedDB.deleteDatabase(identityDatabaseName);
      deleting.onsuccess = () => resolve();
      deleting.onerror = () => reject(deleting.error);
    });
    const open = indexedDB.open.bind(indexedDB);
    // As Chromium's first open after it deleted the site's databases: upgradeneeded with dataLoss.
    indexedDB.open = (name: string, version?: number) => {
      const request = open(name, version);
      Object.defineProperty(request, 'onupgradeneeded', {
        configurable: true,
        set(handler: (event: Event) => void) {
          request.addEventListener('upgradeneeded', (event) => {
            Object.defineProperty(event, 'dataLoss', { value: 'total' });
            handler(event);
          });
        },
      });
      return request;
    };
    try {
      const key = uniqueRoom('heard');
      values.set(`p:${key}`, 'peer-before-the-loss');
      const store = fresh.durableIdentityStore('p:', fakeLocalStorage);
      expect(await store.get(key)).toBeNull();
      expect(store.lostValue(key)).toBe('peer-before-the-loss');
      expect(await storedValue(dataLostKey)).toBe('total');
    } finally {
      indexedDB.open = open;
      await deleteValue(dataLostKey);
    }
  });

  it('a read and a write of one key at once never take the write\'s copy for a loss: calls run in turn', async () => {
    const key = uniqueRoom('in-turn');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    const [read] = await Promise.all([store.get(key), store.set(key, 'peer-written')]);
    expect(read).toBeNull();
    expect(store.lostValue(key)).toBeNull();
    expect(await store.get(key)).toBe('peer-written');
  });

  it('writes in strict transactions, committed at once', async () => {
    const key = uniqueRoom('strict');
    const store = durableIdentityStore('p:', fakeLocalStorage);
    await store.get(key); // opened before the spies
    const transaction = IDBDatabase.prototype.transaction;
    const commit = IDBTransaction.prototype.commit;
    const modes: unknown[] = [];
    let commits = 0;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<typeof transaction>) {
      modes.push([args[1], args[2]?.durability]);
      return transaction.apply(this, args);
    } as typeof transaction;
    IDBTransaction.prototype.commit = function (this: IDBTransaction) {
      commits += 1;
      commit.call(this);
    };
    try {
      await store.set(key, 'peer-strict');
      await store.delete(key);
    } finally {
      IDBDatabase.prototype.transaction = transaction;
      IDBTransaction.prototype.commit = commit;
    }
    expect(modes.filter((mode) => (mode as unknown[])[0] === 'readwrite')).toEqual([
      ['readwrite', 'strict'],
      ['readwrite', 'strict'],
    ]);
    expect(commits).toBe(2);
  });
});
