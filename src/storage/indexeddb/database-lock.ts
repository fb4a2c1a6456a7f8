// One live IndexedDbRaftStorage per database. IndexedDB itself lets any number of connections
// write one database, so two nodes started on one node id (two tabs reading the same id from
// localStorage, or one page opening the storage twice) would both vote in a term and interleave
// their writes: a Raft safety violation. Before a storage opens its database it takes an
// exclusive Web Lock named after it, and holds it until the storage closes or fails.
//
// Web Locks are per origin and shared by every tab and worker of it, and the browser releases a
// context's locks when the context goes away, so a reloaded tab, a closed one and a terminated
// (crashed) worker free the database without ever calling close().
//
// The wait is bounded: the previous owner may be closing right now (a reload, a worker replaced
// after a crash, a node restarted in the same page after close()), which takes milliseconds; an
// owner that is still alive after the bound is another live node, reported as 'inUse'.
import { RaftStorageError } from '../../core/errors.ts';
import { acquireVersionLock } from './version-lock.ts';

export interface DatabaseLock {
  /** Lets the next waiter (in any tab or worker) open the database. Idempotent. */
  release(): void;
}

/**
 * Long enough for an owner that is closing to let go on a busy machine (close() and a worker's
 * termination release within milliseconds, a reload within the old page's teardown), short enough
 * that a genuine second tab learns within seconds that it cannot run this node.
 */
export const defaultLockTimeoutMs = 5_000;
const maxLockTimeoutMs = 3_600_000;

/** The lock's name: one per database, apart from every other raftmesh lock (rooms' tab slots). */
export function databaseLockName(database: string): string {
  return `raftmesh:indexeddb:${database}`;
}

export function validateLockTimeout(value: number | undefined): number {
  if (value === undefined) return defaultLockTimeoutMs;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > maxLockTimeoutMs) {
    throw new RangeError(`IndexedDbRaftStorage lockTimeoutMs must be an integer number of ms from 0 to ${maxLockTimeoutMs}, got ${String(value)}`);
  }
  return value;
}

/** Who takes the lock: a storage that opens the database, or destroy(), which deletes it. */
export type DatabaseLockPurpose = 'open' | 'destroy';

function inUse(database: string, timeoutMs: number, purpose: DatabaseLockPurpose): RaftStorageError {
  const held = `the database ${JSON.stringify(database)} is held open by another tab or worker of this origin (or another storage in this one) and was not released within ${timeoutMs} ms`;
  const advice = purpose === 'open' ? 'only one node may run on a database — close the other one first' : 'deleting it would fail that storage and stop the node running on it — close that node (or leave its room) first';
  return new RaftStorageError(`IndexedDbRaftStorage ${purpose}: ${held}; ${advice}`, { reason: 'inUse' });
}

function lockFailed(database: string, purpose: DatabaseLockPurpose, cause: unknown): RaftStorageError {
  return new RaftStorageError(`IndexedDbRaftStorage ${purpose}: could not lock the database ${JSON.stringify(database)}`, { cause, reason: 'unknown' });
}

/** The origin's Web Locks, or null where there are none (insecure contexts, Node, old runtimes). */
export function webLocks(): LockManager | null {
  const navigatorLike = (globalThis as { navigator?: { locks?: LockManager } }).navigator;
  return typeof navigatorLike?.locks?.request === 'function' ? navigatorLike.locks : null;
}

/**
 * Waits up to `timeoutMs` for the database's lock; rejects with reason 'inUse' after that, in the
 * words of `purpose` (whose call was refused, and what to do).
 */
export function acquireDatabaseLock(database: string, timeoutMs: number, purpose: DatabaseLockPurpose = 'open'): Promise<DatabaseLock> {
  const locks = webLocks();
  return locks === null ? acquireVersionChangeLock(database, timeoutMs, purpose) : acquireWebLock(locks, database, timeoutMs, purpose);
}

function acquireWebLock(locks: LockManager, database: string, timeoutMs: number, purpose: DatabaseLockPurpose): Promise<DatabaseLock> {
  return new Promise((resolve, reject) => {
    let gaveUp = false;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolveHeld) => {
      release = resolveHeld;
    });
    // A zero bound means "only if free now": ifAvailable answers at once (it cannot be combined
    // with a signal). Otherwise the abort withdraws the queued request, so the lock is never
    // granted later to an open() that has already failed.
    const controller = new AbortController();
    const timer = timeoutMs === 0 ? undefined : setTimeout(() => {
      gaveUp = true;
      controller.abort();
    }, timeoutMs);
    const options: LockOptions = timeoutMs === 0 ? { mode: 'exclusive', ifAvailable: true } : { mode: 'exclusive', signal: controller.signal };
    locks
      .request(databaseLockName(database), options, (lock) => {
        clearTimeout(timer);
        // Granted in the same instant the bound ran out: the abort came too late to withdraw the
        // request, so hand the lock straight back instead of holding it for nobody.
        if (lock === null || gaveUp) {
          reject(inUse(database, timeoutMs, purpose));
          return undefined;
        }
        resolve({ release });
        return held;
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        reject(gaveUp ? inUse(database, timeoutMs, purpose) : lockFailed(database, purpose, error));
      });
  });
}

// Without Web Locks (insecure contexts, Node on fake-indexeddb, runtimes that predate them) the
// lock is made of IndexedDB version changes (version-lock.ts), which every tab and worker of the
// origin sees as well: a plain-http page on a LAN address has IndexedDB but no Web Locks, and a
// lock of this page alone let a second tab open the same node's database.
function acquireVersionChangeLock(database: string, timeoutMs: number, purpose: DatabaseLockPurpose): Promise<DatabaseLock> {
  return acquireVersionLock(indexedDB, versionLockDatabaseName(database), timeoutMs).then(
    (lock) => {
      if (lock === null) throw inUse(database, timeoutMs, purpose);
      return lock;
    },
    (error: unknown) => {
      throw lockFailed(database, purpose, error);
    },
  );
}

/**
 * Deletes the version-change lock's database of `database`, if this runtime uses one
 * (IndexedDbRaftStorage.destroy). A deletion never takes the lock from under a holder: it waits
 * until no connection is open. destroy() does not wait with it: a holder still connected (a
 * storage opening right now) would hold destroy() up for as long as it lives, so once the browser
 * says the deletion is blocked it is left to happen when the holder lets go.
 */
export async function deleteLockDatabase(database: string): Promise<void> {
  if (webLocks() !== null) return;
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(versionLockDatabaseName(database));
    request.onsuccess = () => resolve();
    request.onblocked = () => resolve();
    request.onerror = () => reject(request.error ?? new Error('deleting the lock database failed'));
  });
}

/** The lock's own database: storage databases all start with "raftmesh:", so no storage name can take it. */
export function versionLockDatabaseName(database: string): string {
  return `raftmesh-lock:${database}`;
}
