// Where a browser tab keeps its identity in a room (its node id, the id's claim and its bootstrap
// configuration: room-identity.ts): IndexedDB, one small database for every room and tab slot,
// written with strict durability, so a set() resolves once the value is on disk.
//
// Why not localStorage alone, the store until 2026-12-06: Chromium writes localStorage to disk
// in batches, seconds after the call, and a browser killed in between comes back with the values
// before. joinRoom gives an id up (its storage lost, a wedge, removed while away) by saving a
// fresh id and then deleting the old id's database; killed three seconds later, a tab of the CI's
// rooms campaign came back under the id before, whose database was gone (e2e/room-chaos.spec.ts,
// seed 46). An id back on empty storage may vote again in a term it voted in; the room refuses it
// while it lists the id as a voter, but not once the id was removed. Saved here, the fresh id is
// on disk before the old database is deleted, as joinRoom's order means it to be.
//
// localStorage holds two other things, never read over the database:
// - under the key itself, a value an earlier version saved there, moved into the database on its
//   first read (and removed);
// - under `raftmesh:identity-copy:` and the key, a copy of each value, written once the database
//   holds it. A copy whose value the database no longer holds went with the origin's IndexedDB:
//   Chromium deletes all of an origin's databases at once when it finds their LevelDB log torn
//   after a crash, the nodes' databases with this one. The read says there is no value (the tab
//   takes a fresh identity, never the lost one), and `lostValue` names what was lost, so joinRoom
//   can say so (a `storageLost` event), as it does when a node's database alone is lost.
//
// Where there is no IndexedDB at all the store keeps to localStorage, as before: the nodes'
// databases cannot be in IndexedDB there either. Where IndexedDB exists but refuses to open, the
// store's calls fail (and the join with them) rather than fall back: the values saved in the
// database would not be found, and the tab would take a new identity for a passing failure.
import type { KeyValueStore } from './room-identity.ts';

export const identityDatabaseName = 'raftmesh-identity';
const storeName = 'values';

/** The localStorage key of the copy of `key` (the store's prefix included). */
export const identityCopyKey = (key: string): string => `raftmesh:identity-copy:${key}`;

/** What the store needs of localStorage. */
export interface LegacyValues {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface DurableIdentityStore extends KeyValueStore {
  /**
   * The value of `key` that a get() found lost with the origin's IndexedDB (then read as absent),
   * else null.
   */
  lostValue(key: string): string | null;
}

// The raw IndexedDB API, not idb: a page whose engine runs in a worker carries no IndexedDB
// library (bench/bundle-size.test.ts), and three requests need none.

/** The open connection, shared by every store of this page; reopened after the browser or another tab closed it. */
let connection: Promise<IDBDatabase> | null = null;

function openIdentityDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(identityDatabaseName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(storeName);
    request.onsuccess = () => {
      const database = request.result;
      // Another tab deleting or upgrading it must not wait on this page: let go, reopen on next use.
      database.onversionchange = () => {
        database.close();
        connection = null;
      };
      database.onclose = () => {
        connection = null;
      };
      resolve(database);
    };
    request.onerror = () => reject(request.error ?? new Error('the open failed'));
  });
}

/** The identity database, or null where this context has no IndexedDB. */
function identityDatabase(): Promise<IDBDatabase> | null {
  if ((globalThis as { indexedDB?: unknown }).indexedDB === undefined) return null;
  // On a promise: indexedDB.open itself may throw (a SecurityError in an opaque origin).
  connection ??= Promise.resolve()
    .then(openIdentityDatabase)
    .catch((error: unknown) => {
      // Not cached: a later call may open it (a passing failure).
      connection = null;
      throw new Error(`the tab's room identity is kept in IndexedDB (database ${JSON.stringify(identityDatabaseName)}), which could not be opened: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
  return connection;
}

function readValue(database: IDBDatabase, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = database.transaction(storeName, 'readonly').objectStore(storeName).get(key);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('the read failed'));
  });
}

/** One change in a strict transaction, committed at once; resolves once it is on disk. */
function writeDurably(database: IDBDatabase, change: (store: IDBObjectStore) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(storeName, 'readwrite', { durability: 'strict' });
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => reject(transaction.error ?? new Error('the write was aborted'));
    change(transaction.objectStore(storeName));
    transaction.commit();
  });
}

/**
 * A store whose keys are `prefix` + key in the identity database, copied to `local`
 * (localStorage) as the header says, which it uses alone where there is no IndexedDB.
 */
export function durableIdentityStore(prefix: string, local: LegacyValues | null): DurableIdentityStore {
  const lost = new Map<string, string>();
  return {
    async get(key) {
      const opening = identityDatabase();
      if (opening === null) return local?.getItem(prefix + key) ?? null;
      const database = await opening;
      const stored = await readValue(database, prefix + key);
      if (typeof stored === 'string') return stored;
      if (local === null) return null;
      const copy = local.getItem(identityCopyKey(prefix + key));
      if (copy !== null) {
        // In the database once, gone now: lost with the origin's IndexedDB. Said once, never used.
        lost.set(key, copy);
        local.removeItem(identityCopyKey(prefix + key));
        return null;
      }
      const earlier = local.getItem(prefix + key);
      if (earlier === null) return null;
      await writeDurably(database, (store) => store.put(earlier, prefix + key));
      local.setItem(identityCopyKey(prefix + key), earlier);
      local.removeItem(prefix + key);
      return earlier;
    },
    async set(key, value) {
      const opening = identityDatabase();
      if (opening === null) return local?.setItem(prefix + key, value);
      await writeDurably(await opening, (store) => store.put(value, prefix + key));
      local?.setItem(identityCopyKey(prefix + key), value);
      local?.removeItem(prefix + key);
    },
    async delete(key) {
      const opening = identityDatabase();
      if (opening !== null) await writeDurably(await opening, (store) => store.delete(prefix + key));
      local?.removeItem(identityCopyKey(prefix + key));
      local?.removeItem(prefix + key);
    },
    lostValue(key) {
      return lost.get(key) ?? null;
    },
  };
}
