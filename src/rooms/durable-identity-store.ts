// Where a browser tab keeps its identity in a room (its node id, the id's claim and its bootstrap
// configuration: room-identity.ts): IndexedDB, one small database for every room and tab slot,
// written with strict durability, so a set() resolves once the value is on disk (where the
// browser honours strict durability, as Chromium does).
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
// Chromium says so only to the first open after the loss (its `dataLoss`), which in a tab is this
// database's, read before any node's: the mark it leaves here (`dataLostKey`) makes an earlier
// version's value lost too, instead of moved over, since its id's database went with the rest.
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
   * else null; handed over once.
   */
  lostValue(key: string): string | null;
}

// The raw IndexedDB API, not idb: a page whose engine runs in a worker carries no IndexedDB
// library (bench/bundle-size.test.ts), and three requests need none.

/**
 * The reserved key of the mark that Chromium reported the site's IndexedDB lost (an open's
 * `dataLoss`, which only the first open after the loss hears: with a tab's identity read first,
 * that is this database's). While it is there, values of earlier versions in localStorage are
 * taken as lost, never moved over: their ids' databases went with the rest.
 */
export const dataLostKey = 'raftmesh:identity:data-lost';

/** The open connection, shared by every store of this page; reopened after the browser or another tab closed it. */
let connection: Promise<IDBDatabase> | null = null;

function openIdentityDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    // No version: a later build may upgrade the database, and this one must still open it.
    const request = indexedDB.open(identityDatabaseName);
    request.onupgradeneeded = (event) => {
      const upgrade = request.transaction;
      if (!request.result.objectStoreNames.contains(storeName)) request.result.createObjectStore(storeName);
      // Chromium's word that it deleted the site's databases as corrupt (no other browser says it).
      const dataLoss = (event as IDBVersionChangeEvent & { dataLoss?: string }).dataLoss;
      if (upgrade !== null && dataLoss !== undefined && dataLoss !== 'none') upgrade.objectStore(storeName).put(dataLoss, dataLostKey);
    };
    request.onsuccess = () => {
      const database = request.result;
      const current = connection;
      // Another tab deleting or upgrading it must not wait on this page: let go, reopen on next use.
      const forget = (): void => {
        if (connection === current) connection = null;
      };
      database.onversionchange = () => {
        database.close();
        forget();
      };
      database.onclose = forget;
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
      throw new Error(
        `the tab's room identity is kept in IndexedDB (database ${JSON.stringify(identityDatabaseName)}), which could not be opened: ${error instanceof Error ? error.message : String(error)}. Where a browser refuses IndexedDB for good, give joinRoom an identityStore of your own (defaultKeyValueStore() keeps it in localStorage, one identity for all of the profile's tabs)`,
        { cause: error },
      );
    });
  return connection;
}

/**
 * Runs `body` on the identity database, once more on a fresh connection if the one it had was
 * closed meanwhile (another tab deleted or upgraded the database, or the browser closed it).
 */
async function onDatabase<T>(opening: Promise<IDBDatabase>, body: (database: IDBDatabase) => Promise<T>): Promise<T> {
  try {
    return await body(await opening);
  } catch (error) {
    if (!(error instanceof DOMException && error.name === 'InvalidStateError')) throw error;
    connection = null;
    const reopening = identityDatabase();
    if (reopening === null) throw error;
    return body(await reopening);
  }
}

/** The values under `keys`, read in one transaction. */
function readValues(database: IDBDatabase, keys: readonly string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(storeName, 'readonly');
    const store = transaction.objectStore(storeName);
    const requests = keys.map((key) => store.get(key));
    transaction.oncomplete = () => resolve(requests.map((request) => request.result as unknown));
    transaction.onabort = () => reject(transaction.error ?? new Error('the read failed'));
  });
}

/**
 * One change in a strict transaction, committed at once; resolves once the browser reports it
 * durable (on disk where the browser honours `durability: 'strict'`, as Chromium does).
 */
function writeDurably(database: IDBDatabase, change: (store: IDBObjectStore) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(storeName, 'readwrite', { durability: 'strict' });
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => reject(transaction.error ?? new Error('the write was aborted'));
    change(transaction.objectStore(storeName));
    // Where commit() is missing (Safari before 15, Firefox before 74) the transaction commits itself.
    if (typeof transaction.commit === 'function') transaction.commit();
  });
}

/**
 * A store whose keys are `prefix` + key in the identity database, copied to `local`
 * (localStorage) as the header says, which it uses alone where there is no IndexedDB. Its calls
 * run one at a time, in order: a read racing a write to the same key could take the copy the write
 * just made for a value the database lost.
 */
export function durableIdentityStore(prefix: string, local: LegacyValues | null): DurableIdentityStore {
  const lost = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation, operation);
    queue = result.catch(() => undefined);
    return result;
  };
  const copyKey = (key: string): string => identityCopyKey(prefix + key);

  const get = async (key: string): Promise<string | null> => {
    const opening = identityDatabase();
    if (opening === null) return local?.getItem(prefix + key) ?? null;
    const [stored, mark] = await onDatabase(opening, (database) => readValues(database, [prefix + key, dataLostKey]));
    const dataLost = mark !== undefined;
    const earlier = local?.getItem(prefix + key) ?? null;
    if (typeof stored === 'string') {
      // A move over that a crash cut short left the earlier value behind: finish it, so the value
      // cannot come back from there if the database is ever lost.
      if (earlier !== null && local !== null) {
        local.setItem(copyKey(key), stored);
        local.removeItem(prefix + key);
      }
      return stored;
    }
    if (local === null) return null;
    const copy = local.getItem(copyKey(key));
    if (copy !== null || (earlier !== null && dataLost)) {
      // In the database once (its copy says so), or an earlier version's value after the browser
      // deleted the site's databases: lost with them. Said once, never used.
      lost.set(key, copy ?? (earlier as string));
      local.removeItem(copyKey(key));
      local.removeItem(prefix + key);
      return null;
    }
    if (earlier === null) return null;
    await onDatabase(opening, (database) => writeDurably(database, (store) => store.put(earlier, prefix + key)));
    local.setItem(copyKey(key), earlier);
    local.removeItem(prefix + key);
    return earlier;
  };

  return {
    get: (key) => inTurn(() => get(key)),
    set: (key, value) =>
      inTurn(async () => {
        const opening = identityDatabase();
        if (opening === null) return local?.setItem(prefix + key, value);
        await onDatabase(opening, (database) => writeDurably(database, (store) => store.put(value, prefix + key)));
        local?.setItem(copyKey(key), value);
        local?.removeItem(prefix + key);
      }),
    delete: (key) =>
      inTurn(async () => {
        const opening = identityDatabase();
        if (opening !== null) await onDatabase(opening, (database) => writeDurably(database, (store) => store.delete(prefix + key)));
        local?.removeItem(copyKey(key));
        local?.removeItem(prefix + key);
      }),
    lostValue(key) {
      // Handed over once: a store used for another join must not report the same loss again.
      const value = lost.get(key) ?? null;
      lost.delete(key);
      return value;
    },
  };
}
