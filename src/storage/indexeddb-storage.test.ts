// IndexedDB behaviour in Node, on fake-indexeddb (the same file runs in Chromium as
// indexeddb-storage.browser.test.ts), plus what only fake-indexeddb can stage.
import 'fake-indexeddb/auto';
import { forceCloseDatabase } from 'fake-indexeddb';
import { unwrap, type IDBPDatabase } from 'idb';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { nodeId, type LogEntry } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { describeIndexedDbBehaviour } from './indexeddb-storage.behaviour.test-support.ts';
import { describeOverlappingWrites } from './indexeddb/overlapping-writes.behaviour.test-support.ts';
import { IndexedDbRaftStorage } from './indexeddb-storage.ts';
import { makeEntries } from './storage-conformance.ts';

describeIndexedDbBehaviour();

/**
 * Makes every put fail inside IndexedDB with a DOMException named `name`, the way a browser that
 * checks quota per request (not only at commit) refuses one: the request fails, and its error
 * event aborts the transaction. fake-indexeddb (the global IDBObjectStore here) runs a put as an
 * operation of its raw store, bound when put() is called, so that operation is swapped for the
 * call. Returns the function that puts things back.
 */
function failPuts(name: string): () => void {
  type FakeStore = { _rawObjectStore: { storeRecord: (...args: unknown[]) => unknown } };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: FakeStore, ...args: unknown[]) {
    const raw = this._rawObjectStore;
    const storeRecord = raw.storeRecord;
    raw.storeRecord = () => {
      throw new DOMException('injected: no space left for this origin', name);
    };
    try {
      return (put as (...putArgs: unknown[]) => IDBRequest).apply(this, args);
    } finally {
      raw.storeRecord = storeRecord;
    }
  } as typeof put;
  return () => {
    IDBObjectStore.prototype.put = put;
  };
}

/** Runs `body` while every put fails (failPuts). */
async function withPutsFailing<T>(name: string, body: () => Promise<T>): Promise<T> {
  const restore = failPuts(name);
  try {
    return await body();
  } finally {
    restore();
  }
}

/** Calls `body` (which issues its puts synchronously) while every put fails, and only then. */
function withPutsFailingDuring<T>(name: string, body: () => T): T {
  const restore = failPuts(name);
  try {
    return body();
  } finally {
    restore();
  }
}

const summary = (entries: readonly LogEntry[]): string[] => entries.map((entry) => `${entry.index}@${entry.term}`);

describe('IndexedDbRaftStorage: a request that fails inside IndexedDB (fake-indexeddb)', () => {
  it('a put refused with QuotaExceededError fails the storage with reason quotaExceeded, not a bare AbortError, and a reopen reads everything written before', async () => {
    const name = `request-quota-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name);
    await storage.saveTermAndVotedFor(2, null);
    await storage.appendEntries(makeEntries(1, 3, 2));
    const refusal: unknown = await withPutsFailing('QuotaExceededError', () => storage.writeBatch({ hardState: { term: 3, votedFor: null }, entries: makeEntries(4, 5, 3) }).catch((error: unknown) => error));
    expect(refusal).toBeInstanceOf(RaftStorageError);
    expect((refusal as RaftStorageError).reason).toBe('quotaExceeded');
    expect((refusal as RaftStorageError).message).toMatch(/storage quota exceeded.*QuotaExceededError: injected: no space left/);
    // The storage refuses everything from then on, with the same reason.
    await expect(storage.term()).rejects.toMatchObject({ reason: 'quotaExceeded' });
    const reopened = await IndexedDbRaftStorage.open(name);
    expect(await reopened.term()).toBe(2);
    expect((await reopened.entries()).map((entry) => entry.index)).toEqual([1, 2, 3]);
    reopened.close();
    await IndexedDbRaftStorage.destroy(name);
  });
});

// Overlapping writes, shared with Chromium (where a storage bucket's quota refuses the write):
// here IndexedDB refuses the write's puts with QuotaExceededError, per request.
describeOverlappingWrites({
  label: 'fake-indexeddb, puts refused',
  within: (body) => body(),
  refusedCommandBytes: 0, // refused whatever its size
  refusing: (issue) => withPutsFailingDuring('QuotaExceededError', issue),
});

describe('IndexedDbRaftStorage: writes cut short', () => {
  it('a truncating write (it reads inside its transaction) in flight when close() is called either lands whole or rejects; a storage opened at once after reads what resolved', async () => {
    const name = `close-race-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name);
    await storage.saveTermAndVotedFor(1, null);
    await storage.appendEntries(makeEntries(1, 10, 1));
    const write = storage.writeBatch({ hardState: { term: 2, votedFor: nodeId('b') }, truncateFrom: 5, entries: makeEntries(5, 7, 2), commitIndex: 6 });
    storage.close();
    const outcome = await write.then(
      () => 'resolved',
      (error: unknown) => (error instanceof RaftStorageError ? error.reason : String(error)),
    );
    const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 });
    const stored = { term: await reopened.term(), log: summary(await reopened.entries()), commit: await reopened.commitIndex() };
    reopened.close();
    await IndexedDbRaftStorage.destroy(name);
    if (outcome === 'resolved') expect(stored).toEqual({ term: 2, log: ['1@1', '2@1', '3@1', '4@1', '5@2', '6@2', '7@2'], commit: 6 });
    else expect(stored).toEqual({ term: 1, log: summary(makeEntries(1, 10, 1)), commit: 0 });
  });

  it('an aborted saveSnapshot keeps the previous snapshot whole, and an aborted discard keeps the whole log', async () => {
    const name = `aborted-snapshot-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name);
    await storage.appendEntries(makeEntries(1, 10, 1));
    await storage.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 1 }, new TextEncoder().encode('three'));
    storage.close();
    for (const operation of ['saveSnapshot', 'discardLogPrefix'] as const) {
      const faulty = await IndexedDbRaftStorage.open(name, {
        beforeCommit: () => {
          throw new DOMException('injected', 'AbortError');
        },
      });
      const call = operation === 'saveSnapshot' ? faulty.saveSnapshot({ lastIncludedIndex: 8, lastIncludedTerm: 1 }, new TextEncoder().encode('eight')) : faulty.discardLogPrefix(8);
      await expect(call).rejects.toMatchObject({ reason: 'transactionAborted' });
      faulty.close();
      const again = await IndexedDbRaftStorage.open(name);
      const snapshot = await again.loadSnapshot();
      expect([snapshot?.meta.lastIncludedIndex, new TextDecoder().decode(snapshot?.state), summary(await again.entries())]).toEqual([3, 'three', summary(makeEntries(1, 10, 1))]);
      again.close();
    }
    await IndexedDbRaftStorage.destroy(name);
  });
});

describe('IndexedDbRaftStorage: another tab deletes the database while it opens (fake-indexeddb)', () => {
  it('a deletion that arrives while the open still reads the log fails the open (databaseDeleted) and frees the database, never a storage on a closed connection', async () => {
    const name = `deleted-while-opening-${Date.now()}`;
    const fullName = `raftmesh:${name}`;
    // The moment the storage's connection opens, another tab asks to delete the database: its
    // versionchange reaches the connection while the storage reads its bounds.
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (this: IDBFactory, databaseName: string, version?: number) {
      const request = version === undefined ? open.call(this, databaseName) : open.call(this, databaseName, version);
      if (databaseName === fullName) request.addEventListener('success', () => void indexedDB.deleteDatabase(fullName));
      return request;
    } as typeof open;
    let refusal: unknown;
    try {
      refusal = await IndexedDbRaftStorage.open(name).then(
        (storage) => {
          storage.close();
          return new Error('the open succeeded on a connection being deleted');
        },
        (error: unknown) => error,
      );
    } finally {
      IDBFactory.prototype.open = open;
    }
    expect(refusal).toBeInstanceOf(RaftStorageError);
    expect((refusal as RaftStorageError).reason).toBe('databaseDeleted');
    // Nothing holds the database: the next open gets it at once.
    const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 });
    expect(await reopened.term()).toBe(0);
    reopened.close();
    await IndexedDbRaftStorage.destroy(name);
  });
});

describe('IndexedDbRaftStorage: the browser closing the connection', () => {
  // The 'close' event: the browser ends a connection abnormally (site data cleared in its
  // settings, the disk gone). Only fake-indexeddb can stage it (forceCloseDatabase).
  it('fails the storage and stops its idle node at once, saying why', async () => {
    const name = `browser-closed-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name);
    const id = nodeId('solo');
    const network = createLoopbackNetwork();
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: network.transport(id), storage, raftConfig: { electionTimeoutMin: 20, electionTimeoutMax: 40, heartbeatInterval: 5 } });
    await node.awaitLeadership();
    await node.propose(new TextEncoder().encode('acknowledged'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const connection = (storage as unknown as { database: IDBPDatabase }).database;
    // fake-indexeddb's declaration asks for the class where the function takes a connection.
    forceCloseDatabase(unwrap(connection) as unknown as Parameters<typeof forceCloseDatabase>[0]);
    expect(storage.failure.value?.reason).toBe('databaseDeleted');
    const deadline = Date.now() + 5_000;
    while (node.stopped.value === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(node.stopped.value).toBeInstanceOf(RaftStorageError);
    expect((node.stopped.value as RaftStorageError).reason).toBe('databaseDeleted');
    await expect(node.readIndex()).rejects.toBeInstanceOf(RaftStorageError);
    await node.close();
    // It let go of the database: the next owner opens it at once and finds what was written.
    const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 });
    expect((await reopened.entries()).length).toBeGreaterThan(0);
    reopened.close();
    await IndexedDbRaftStorage.destroy(name);
  });
});
