// IndexedDbRaftStorage: a node's term, vote, leader pin, log and snapshot in IndexedDB (via idb),
// so a reloaded or crashed tab comes back with everything it acknowledged.
//
// Every method is one readwrite transaction; writeBatch (the driver's path) puts a whole step's
// hard state, truncation and new entries in ONE transaction and resolves only when it completes,
// with durability 'strict' by default: the browser reports completion after the data reached the
// disk. 'relaxed' completes once the data is handed to the OS: it survives a tab or browser crash
// but not a power loss or an OS crash, and is measurably faster (see the README).
//
// Failures: any failed transaction (quota, an abort, a deleted database) makes the storage
// refuse every later call with the same RaftStorageError, because its view of the log may no
// longer match the disk; the driver then stops the node loudly. Reopening reads the truth back.
// Writes issued after the failed one, while it was still in flight, reject with its failure and
// none of them lands (write() says how), so what is on disk is always a log without gaps.
//
// One owner: open() holds the database's lock (indexeddb/database-lock.ts) until the storage
// closes or fails, so no two live storages (in two tabs, a tab and a worker, or one page) run a
// node on one database; destroy() takes the same lock, so it never deletes a live storage's database.
import { copyBytes } from '../core/bytes.ts';
import { deleteDB, openDB } from 'idb';
import { decodeSnapshotMeta, encodeSnapshotMeta } from '../codec/records.ts';
import type { RaftStorageError } from '../core/errors.ts';
import { createWatchable, type Watchable, type WritableWatchable } from '../core/observable.ts';
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';
import { storageFailure, mapIndexedDbError } from './storage-failure.ts';
import { afterAppend, afterDiscard, afterTruncate, appendStart, requireCommitIndex, requireIndexArgument, requireStateTerms, requireStorableEntries, requireStorableSnapshotMeta, type LogBounds } from './log-bounds.ts';
import { discardSegments, issued, lastStoredIndex, putEntries, readSegments, truncateSegments } from './indexeddb/log-segments.ts';
import { acquireDatabaseLock, deleteLockDatabase, validateLockTimeout, type DatabaseLock } from './indexeddb/database-lock.ts';
import { databaseName, describeStoredValue, isDataLostRecord, isHardStateRecord, isLeaderRecord, isSnapshotRecord, reportedDataLoss, schemaVersion, upgradeSchema, type HardStateRecord, type LeaderRecord, type RaftDatabase, type RaftDatabaseSchema, type SnapshotRecord } from './indexeddb/schema.ts';
import { closeLeavingNothing } from './close-storage.ts';
import type { RaftStorage, StorageBatch } from './raft-storage.ts';
import type { IDBPTransaction } from 'idb';

export type IndexedDbDurability = 'strict' | 'relaxed';

export interface IndexedDbStorageOptions {
  /** Default 'strict' (survives an OS crash); 'relaxed' survives a tab or browser crash only. */
  readonly durability?: IndexedDbDurability;
  /** How long open() waits for another tab to release an older version before failing. Default 10 s. */
  readonly upgradeBlockedTimeoutMs?: number;
  /**
   * How long open() waits for another storage on this database (in any tab or worker of the
   * origin, or this page) to close before failing with reason 'inUse'. Default 5 s: enough for an
   * owner that is closing (a reload, a terminated worker, close() just called) to let go.
   * An integer from 0 to 3,600,000; 0 means "only if free this instant", which can refuse a
   * storage closed a moment ago in this very page (the browser releases a lock asynchronously).
   */
  readonly lockTimeoutMs?: number;
  /**
   * Fault injection for tests: called after a transaction issued all its requests and before it
   * commits; throwing aborts the transaction, so tests can prove that nothing of it lands.
   */
  readonly beforeCommit?: (operation: string) => void;
}

export interface IndexedDbDestroyOptions {
  /**
   * How long destroy() waits for a storage open on the database (in any tab or worker of the
   * origin, or this page) to close before refusing with reason 'inUse'. Default 5 s, as open's
   * lockTimeoutMs: enough for a storage closed (or a worker terminated) a moment ago to let go; a
   * running node never does, so the deletion is refused rather than stopping it. An integer from 0
   * to 3,600,000.
   */
  readonly lockTimeoutMs?: number;
}

const adapterName = 'IndexedDbRaftStorage';

type WriteTransaction = IDBPTransaction<RaftDatabaseSchema, ('state' | 'log')[], 'readwrite'>;

export class IndexedDbRaftStorage implements RaftStorage {
  private readonly failed: WritableWatchable<RaftStorageError | null> = createWatchable<RaftStorageError | null>(null);
  /** Write transactions created and not yet finished: a write made while this is above 0 overlaps one. */
  private writesInFlight = 0;
  /**
   * The failure of the first write transaction that failed, set as its failure is handled (in the
   * task of its error or abort event, or at once for an abort of ours). Writes issued before it
   * was set were validated against the bounds the failed one would have left: none may land or
   * resolve after it (write()).
   */
  private failedWrite: RaftStorageError | null = null;
  /** Whether a write was ever issued: until then a database this open created holds nothing of ours. */
  private wroteAnything = false;

  private constructor(
    private readonly database: RaftDatabase,
    private readonly lock: DatabaseLock,
    private bounds: LogBounds,
    private readonly options: IndexedDbStorageOptions,
    private readonly fullName: string,
    /** The database did not exist before this open created it. */
    private readonly createdByOpen: boolean,
  ) {}

  /**
   * Opens (creating or upgrading) the database of the node called `name`, once it holds the
   * database's lock: waits up to `lockTimeoutMs` for another storage on it to close, then fails
   * with reason 'inUse'.
   */
  static async open(name: string, options: IndexedDbStorageOptions = {}): Promise<IndexedDbRaftStorage> {
    if (typeof name !== 'string' || name.length === 0) throw new RangeError('IndexedDbRaftStorage.open needs a non-empty name');
    const durability = options.durability ?? 'strict';
    if (durability !== 'strict' && durability !== 'relaxed') throw new RangeError(`IndexedDbRaftStorage durability must be 'strict' or 'relaxed', got ${String(durability)}`);
    const fullName = databaseName(name);
    validateUpgradeBlockedTimeout(options.upgradeBlockedTimeoutMs);
    requireIndexedDb('IndexedDbRaftStorage.open');
    const lock = await acquireDatabaseLock(fullName, validateLockTimeout(options.lockTimeoutMs));
    try {
      return await IndexedDbRaftStorage.openLocked(fullName, lock, options);
    } catch (error) {
      lock.release(); // the open failed: nothing holds the database, the next owner may try
      throw error;
    }
  }

  private static async openLocked(fullName: string, lock: DatabaseLock, options: IndexedDbStorageOptions): Promise<IndexedDbRaftStorage> {
    let storage: IndexedDbRaftStorage | null = null;
    // A deletion or upgrade from another tab can close the connection while the bounds are still
    // being read, before the storage exists to fail: kept here, it fails the open instead of
    // leaving a storage on a closed connection that nothing had failed (which kept the lock).
    let failedEarly: RaftStorageError | null = null;
    const fail = (failure: RaftStorageError): void => {
      if (storage === null) failedEarly ??= failure;
      else storage.failWith(failure);
    };
    let created = false;
    const database = await openRaftDatabase(fullName, schemaVersion, options.upgradeBlockedTimeoutMs ?? 10_000, {
      onCreated: () => (created = true),
      onVersionChange: (deleted) => fail(storageFailure(deleted ? 'databaseDeleted' : 'versionTooNew', deleted ? 'the database is being deleted' : 'another tab is upgrading the database')),
      onTerminated: () => fail(storageFailure('databaseDeleted', 'the browser closed the database connection')),
    });
    try {
      // A database under our name that another program made (or an old experiment left) at
      // this version has no stores of ours: said so, rather than IndexedDB's NotFoundError.
      if (!database.objectStoreNames.contains('state') || !database.objectStoreNames.contains('log')) {
        throw storageFailure('corruptRecord', 'open', undefined, adapterName, `the database ${JSON.stringify(fullName)} exists without raftmesh's stores (another program's database under this name?); delete it or choose another name`);
      }
      const bounds = await readBounds(database, fullName);
      if (failedEarly !== null) throw failedEarly;
      storage = new IndexedDbRaftStorage(database, lock, bounds, options, fullName, created);
    } catch (error) {
      database.close();
      throw mapIndexedDbError(failedEarly ?? error, 'open');
    }
    return storage;
  }

  /**
   * Deletes the database of the node called `name`, holding the database's lock (the one an open
   * storage holds) across the deletion, so no storage opens it meanwhile. Refused with reason
   * 'inUse', naming the database, while a storage has it open in any tab or worker of the origin
   * or in this page: the deletion used to close that storage under its node, which then stopped
   * (a live node's log, term and vote gone). It waits up to `lockTimeoutMs` for such a storage to
   * close first, since a storage closed (or a worker terminated) a moment ago lets go of the lock
   * asynchronously.
   */
  static async destroy(name: string, options: IndexedDbDestroyOptions = {}): Promise<void> {
    requireIndexedDb('IndexedDbRaftStorage.destroy');
    const fullName = databaseName(name);
    const lock = await acquireDatabaseLock(fullName, validateLockTimeout(options.lockTimeoutMs), 'destroy');
    await deleteHoldingLock(fullName, lock);
  }

  get durability(): IndexedDbDurability {
    return this.options.durability ?? 'strict';
  }

  /** Closes the connection and lets another storage open the database; later calls reject with reason 'closed'. Idempotent. */
  close(): void {
    this.failWith(storageFailure('closed', 'closed by its owner'));
  }

  /**
   * close(), and when this open created the database and nothing was written since, deletes it
   * before letting go of the lock (so no other storage opens it in between): for joinRoom, whose
   * join that read an id's storage and went no further left an empty database behind. An empty
   * database and none read the same; only the listing and the space differ.
   */
  async [closeLeavingNothing](): Promise<void> {
    if (!this.createdByOpen || this.wroteAnything || this.failed.value !== null) {
      this.close();
      return;
    }
    this.database.close();
    this.failed.set(storageFailure('closed', 'closed by its owner'));
    await deleteHoldingLock(this.fullName, this.lock);
  }

  /**
   * A failed storage refuses every later call, so it lets go of the database too: the node on it
   * stops, and a reopen (here or elsewhere) need not wait for an owner that can no longer write.
   * Transactions already issued still commit before any the next owner creates (IndexedDB orders
   * overlapping transactions across connections by creation).
   */
  private failWith(failure: RaftStorageError): void {
    if (this.failed.value !== null) return;
    this.database.close();
    this.lock.release();
    // Last: a listener (the node on this storage, which stops) sees a storage that let go.
    this.failed.set(failure);
  }

  /**
   * The error this storage failed with, or null while it works: set by a failed call, by close(),
   * and by what happens outside any call (another tab deleting or upgrading the database, the
   * browser closing the connection), which is why a node subscribes (RaftStorage.failure).
   */
  get failure(): Watchable<RaftStorageError | null> {
    return this.failed;
  }

  private usable(): void {
    const failure = this.failed.value;
    if (failure !== null) throw failure;
  }

  private async read<T>(operation: string, body: (transaction: IDBPTransaction<RaftDatabaseSchema, ('state' | 'log')[], 'readonly'>) => Promise<T>): Promise<T> {
    this.usable();
    try {
      return await body(this.database.transaction(['state', 'log'], 'readonly'));
    } catch (error) {
      throw mapIndexedDbError(error, operation);
    }
  }

  /**
   * One readwrite transaction: `body` issues requests (awaiting only this transaction's own), then
   * the commit is awaited. A failure aborts it (nothing of it lands) and fails the storage.
   *
   * Overlapping calls (made before an earlier write resolved): IndexedDB runs this transaction only
   * once the earlier one has finished, and commits it even when that one aborted, which left a gap
   * in the stored log and resolved the later write on a failed storage (a review found stored
   * 1,2,3,6,7 after 4,5 hit the quota). So an overlapping write does not commit at once: it issues
   * one more request, whose answer comes after the earlier transaction finished and its failure was
   * handled, and then aborts if any earlier write failed, rejecting with that write's failure. The
   * one-write-at-a-time path (the driver's) commits at once, as before.
   */
  private async write(operation: string, next: LogBounds, body: (transaction: WriteTransaction) => Promise<void> | void): Promise<void> {
    this.usable();
    this.wroteAnything = true;
    let transaction: WriteTransaction;
    try {
      transaction = this.database.transaction(['state', 'log'], 'readwrite', { durability: this.durability });
    } catch (error) {
      const failure = mapIndexedDbError(error, operation);
      this.failWith(failure);
      throw failure;
    }
    const overlapping = this.writesInFlight > 0;
    this.writesInFlight += 1;
    const done = transaction.done;
    done.catch(() => undefined); // observed below; an abort must not be reported as unhandled
    // A request that fails aborts its transaction with the request's error, but idb's `done`
    // rejects on that error event as it bubbles, before the abort records it: a bare AbortError.
    // A browser that checks quota per request refuses a put that way, and Chromium a value above
    // its one-record limit (127 MiB, "The serialized keys and/or value are too large"). Taken on
    // the event's way down (capture, before idb's listener), the request's error says why.
    let requestError: unknown = null;
    transaction.addEventListener(
      'error',
      (event) => {
        requestError ??= (event.target as IDBRequest | null)?.error ?? null;
      },
      { capture: true },
    );
    // Later calls validate against the bounds this transaction will leave (transactions on the
    // same stores commit in creation order); if it fails, the storage fails as a whole.
    this.bounds = next;
    try {
      await body(transaction);
      this.options.beforeCommit?.(operation);
      // Committed explicitly: left to auto-commit, the browser first sends each request's success
      // event to this thread and waits to hear that no more requests come, a round trip on the
      // path of every acknowledgement (0.1 ms of a 0.75–1.2 ms strict write in Chromium here).
      // Where commit() is missing (Safari before 15, Firefox before 74) it commits itself.
      if (overlapping) this.commitUnlessAnEarlierWriteFailed(transaction);
      else if (typeof transaction.commit === 'function') transaction.commit();
      await done;
      // Landed all the same after an earlier write failed (a browser that ran it before that
      // failure was handled): on disk past a gap, so never acknowledged.
      if (this.failedWrite !== null) throw this.failedWrite;
    } catch (error) {
      try {
        transaction.abort();
      } catch {
        // already finished or aborted
      }
      // An earlier write's failure is the cause (this one was aborted for it, or was validated
      // against the bounds it would have left): every write it takes down reports it.
      const failure = this.failedWrite ?? mapIndexedDbError(requestError ?? error, operation);
      this.failedWrite = failure;
      this.failWith(failure);
      throw failure;
    } finally {
      this.writesInFlight -= 1;
    }
  }

  /**
   * Commits an overlapping write's transaction once every write before it finished, unless one of
   * them failed: then it aborts, and nothing of it lands. Its requests run only after the earlier
   * transactions finished, so the answer to one more (a read of one key) comes after theirs, and
   * after their failure was handled (their error and abort events are dispatched first); while that
   * answer is handled the transaction is still active, so it can still be aborted. Chromium keeps
   * this order with a real quota failure (indexeddb/overlapping-writes.browser.test.ts).
   */
  private commitUnlessAnEarlierWriteFailed(transaction: WriteTransaction): void {
    transaction
      .objectStore('state')
      .get('logStart')
      .then(
        () => {
          try {
            if (this.failedWrite !== null) transaction.abort();
            else if (typeof transaction.commit === 'function') transaction.commit();
          } catch {
            // already finished (aborted from elsewhere): its `done` reports how
          }
        },
        () => undefined, // the transaction failed: its `done` reports why
      );
  }

  async term(): Promise<number> {
    return this.read('term', async (transaction) => storedRecord('hard state', isHardStateRecord, await transaction.objectStore('state').get('hardState'))?.term ?? 0);
  }

  async votedFor(): Promise<NodeId | null> {
    const record = await this.read('votedFor', async (transaction) => storedRecord('hard state', isHardStateRecord, await transaction.objectStore('state').get('hardState')));
    return (record?.votedFor ?? null) as NodeId | null;
  }

  async saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    requireStateTerms(adapterName, 'saveTermAndVotedFor', { hardState: { term, votedFor } });
    await this.write('saveTermAndVotedFor', this.bounds, (transaction) => {
      issued(transaction.objectStore('state').put({ term, votedFor } satisfies HardStateRecord, 'hardState'));
    });
  }

  async leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    const record = await this.read('leaderForTerm', async (transaction) => storedRecord('leader pin', isLeaderRecord, await transaction.objectStore('state').get('leaderForTerm')));
    return record === undefined ? null : { term: record.term, leaderId: record.leaderId as NodeId };
  }

  async saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    requireStateTerms(adapterName, 'saveLeaderForTerm', { leaderForTerm: { term, leaderId } });
    await this.write('saveLeaderForTerm', this.bounds, (transaction) => {
      issued(transaction.objectStore('state').put({ term, leaderId } satisfies LeaderRecord, 'leaderForTerm'));
    });
  }

  async commitIndex(): Promise<number> {
    return this.read('commitIndex', async (transaction) => ((await transaction.objectStore('state').get('commitIndex')) as number | undefined) ?? 0);
  }

  async saveCommitIndex(index: number): Promise<void> {
    await this.writeBatch({ entries: [], commitIndex: index });
  }

  async appendEntries(entries: readonly LogEntry[]): Promise<void> {
    await this.writeBatch({ entries });
  }

  async entries(fromIndex = 1): Promise<LogEntry[]> {
    requireIndexArgument(adapterName, 'entries', fromIndex);
    const from = Math.max(fromIndex, this.bounds.firstIndex);
    return this.read('entries', (transaction) => readSegments(transaction.objectStore('log'), from));
  }

  async truncateFrom(index: number): Promise<void> {
    await this.writeBatch({ entries: [], truncateFrom: index });
  }

  async saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    requireStorableSnapshotMeta(adapterName, meta);
    const record: SnapshotRecord = { meta: encodeSnapshotMeta(meta), state: copyBytes(state) };
    await this.write('saveSnapshot', { ...this.bounds, snapshotIndex: meta.lastIncludedIndex }, (transaction) => {
      issued(transaction.objectStore('state').put(record, 'snapshot'));
    });
  }

  async loadSnapshot(): Promise<StoredSnapshot | null> {
    const record = await this.read('loadSnapshot', async (transaction) => storedRecord('snapshot', isSnapshotRecord, await transaction.objectStore('state').get('snapshot')));
    if (record === undefined) return null;
    const meta = decodeSnapshotMeta(record.meta);
    if (!meta.ok) throw storageFailure('corruptRecord', 'reading the snapshot', new Error(meta.reason));
    return { meta: meta.value, state: record.state };
  }

  async discardLogPrefix(throughIndex: number): Promise<void> {
    this.usable(); // a failed storage refuses every call, one with nothing to discard too
    requireIndexArgument(adapterName, 'discardLogPrefix', throughIndex);
    const next = afterDiscard(this.bounds, throughIndex);
    if (next === this.bounds) return;
    await this.write('discardLogPrefix', next, async (transaction) => {
      await discardSegments(transaction.objectStore('log'), throughIndex);
      issued(transaction.objectStore('state').put(next.firstIndex, 'logStart'));
    });
  }

  /** One step's hard state, leader pin, truncation, new entries and commit index in ONE transaction. */
  async writeBatch(batch: StorageBatch): Promise<void> {
    this.usable();
    // Caller mistakes are refused here, before the transaction: inside it they would fail the storage.
    if (batch.truncateFrom !== undefined) requireIndexArgument(adapterName, 'truncateFrom', batch.truncateFrom);
    requireStorableEntries(adapterName, batch.entries);
    requireStateTerms(adapterName, 'writeBatch', batch);
    requireCommitIndex(adapterName, 'writeBatch', batch.commitIndex);
    const before = this.bounds;
    const cut = batch.truncateFrom === undefined ? null : Math.max(batch.truncateFrom, before.firstIndex);
    const afterCut = cut === null ? before : afterTruncate(before, cut);
    const start = appendStart(afterCut, batch.entries);
    const next = afterAppend(afterCut, start, batch.entries.length);
    await this.write('writeBatch', next, async (transaction) => {
      const state = transaction.objectStore('state');
      if (batch.hardState !== undefined) issued(state.put({ term: batch.hardState.term, votedFor: batch.hardState.votedFor } satisfies HardStateRecord, 'hardState'));
      if (batch.leaderForTerm !== undefined) issued(state.put({ ...batch.leaderForTerm } satisfies LeaderRecord, 'leaderForTerm'));
      if (cut !== null && afterCut !== before) await truncateSegments(transaction.objectStore('log'), cut);
      putEntries(transaction.objectStore('log'), batch.entries);
      if (next.firstIndex !== before.firstIndex) issued(state.put(next.firstIndex, 'logStart'));
      if (batch.commitIndex !== undefined) issued(state.put(batch.commitIndex, 'commitIndex'));
    });
  }
}

/** The refusal of a database the browser deleted as corrupt (its mark: schema.ts, DataLostRecord). */
function lostDatabase(fullName: string, record: unknown): RaftStorageError {
  const said = isDataLostRecord(record) && record.message !== '' ? ` (it said: ${JSON.stringify(record.message)})` : '';
  return storageFailure(
    'dataLost',
    'open',
    undefined,
    adapterName,
    `the browser deleted the database ${JSON.stringify(fullName)} as corrupt and made an empty one in its place${said}: this node's log, term and vote are gone, so it must not come back under its id as if it had never voted or stored anything. Remove the id from its cluster, IndexedDbRaftStorage.destroy() the name, and start a node under a fresh id (joinRoom does this by itself)`,
  );
}

/**
 * Reads what the log holds at open (its first index, last index and the snapshot's index), in one
 * transaction with the mark of a database the browser deleted, which refuses the open before
 * anything else is judged.
 */
async function readBounds(database: RaftDatabase, fullName: string): Promise<LogBounds> {
  const transaction = database.transaction(['state', 'log'], 'readonly');
  const state = transaction.objectStore('state');
  const [dataLost, logStart, last, snapshot] = await Promise.all([
    state.get('dataLost'),
    state.get('logStart') as Promise<number | undefined>,
    lastStoredIndex(transaction.objectStore('log')),
    state.get('snapshot'),
  ]);
  if (dataLost !== undefined) throw lostDatabase(fullName, dataLost);
  const firstIndex = logStart ?? 1;
  if (!Number.isSafeInteger(firstIndex) || firstIndex < 1) throw storageFailure('corruptRecord', 'reading the log start', new Error(`logStart is ${String(logStart)}, not an index`));
  // A prefix discard deletes every record below the new start in the transaction that moves it,
  // so records that all lie below the start are not ours: read past, they would vanish unseen.
  if (last !== null && last < firstIndex) throw storageFailure('corruptRecord', 'reading the log start', new Error(`logStart is ${firstIndex}, past the last stored entry ${last}`));
  let snapshotIndex: number | null = null;
  const snapshotRecord = storedRecord('snapshot', isSnapshotRecord, snapshot);
  if (snapshotRecord !== undefined) {
    const meta = decodeSnapshotMeta(snapshotRecord.meta);
    if (!meta.ok) throw storageFailure('corruptRecord', 'reading the snapshot', new Error(meta.reason));
    snapshotIndex = meta.value.lastIncludedIndex;
  }
  return { firstIndex, lastIndex: last ?? firstIndex - 1, snapshotIndex };
}

/**
 * A record of the `state` store as read: undefined when absent, refused as corrupt when it is not
 * a record of its kind (which would otherwise read as absent, or throw a TypeError).
 */
function storedRecord<T>(what: string, isRecord: (value: unknown) => value is T, value: unknown): T | undefined {
  if (value === undefined || isRecord(value)) return value;
  throw storageFailure('corruptRecord', `reading the ${what}`, new Error(`it holds ${describeStoredValue(value)}, not a ${what} record`));
}

/**
 * openDB with the failure modes mapped: a newer schema on disk is 'versionTooNew'; another tab
 * holding an older version open past `blockedTimeoutMs` is 'upgradeBlocked' (a connection that
 * opens after we gave up is closed at once); later version changes and abnormal terminations are
 * reported through the callbacks, after this connection has closed itself so it never blocks a
 * deletion or an upgrade.
 */
/** Deletes the database (and the fallback lock's own) while `lock` is held, so no storage opens it meanwhile; then lets go of the lock. */
async function deleteHoldingLock(fullName: string, lock: DatabaseLock): Promise<void> {
  try {
    await deleteDB(fullName);
  } finally {
    lock.release();
  }
  await deleteLockDatabase(fullName);
}

export async function openRaftDatabase(
  name: string,
  version: number,
  blockedTimeoutMs: number,
  events: { onVersionChange: (deleted: boolean) => void; onTerminated: () => void; onCreated?: () => void },
): Promise<RaftDatabase> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gaveUp = false;
  let database: RaftDatabase | undefined;
  let rejectBlocked: (error: Error) => void = () => undefined;
  const blocked = new Promise<never>((_, reject) => {
    rejectBlocked = reject;
  });
  const open = openDB<RaftDatabaseSchema>(name, version, {
    upgrade: (upgrading, oldVersion, _newVersion, _transaction, event) => {
      const dataLoss = reportedDataLoss(event);
      // Never "created" when the browser says it lost the database it replaces: that one held a
      // node's log and vote, and the dataLost mark written below must outlive any tidy-up
      // (closeLeavingNothing deletes only a database its open created and nothing wrote).
      if (oldVersion === 0 && dataLoss === null) events.onCreated?.();
      upgradeSchema(upgrading, oldVersion, dataLoss);
    },
    blocked: () => {
      timer ??= setTimeout(() => {
        gaveUp = true;
        rejectBlocked(storageFailure('upgradeBlocked', 'open'));
      }, blockedTimeoutMs);
    },
    blocking: (_current, next) => {
      database?.close();
      events.onVersionChange(next === null);
    },
    terminated: () => events.onTerminated(),
  });
  open.then(
    (opened) => {
      if (gaveUp) opened.close();
    },
    () => undefined,
  );
  try {
    database = await Promise.race([open, blocked]);
    return database;
  } catch (error) {
    throw mapIndexedDbError(error, 'open');
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** The longest open() waits for another tab's older version to let go: an hour, as for the lock. */
const maxUpgradeBlockedTimeoutMs = 3_600_000;

function validateUpgradeBlockedTimeout(value: number | undefined): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > maxUpgradeBlockedTimeoutMs) {
    throw new RangeError(`IndexedDbRaftStorage upgradeBlockedTimeoutMs must be an integer number of ms from 0 to ${maxUpgradeBlockedTimeoutMs}, got ${String(value)}`);
  }
}

/** Node has no IndexedDB: say which storage to use there, instead of a bare ReferenceError. */
function requireIndexedDb(caller: string): void {
  if (typeof (globalThis as { indexedDB?: unknown }).indexedDB === 'undefined') {
    throw new TypeError(`${caller}: this runtime has no IndexedDB (Node has none): use FileRaftStorage from raftmesh/node there, or InMemoryRaftStorage in tests`);
  }
}
