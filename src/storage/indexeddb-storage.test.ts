// IndexedDB behaviour in Node, on fake-indexeddb (the same file runs in Chromium as
// indexeddb-storage.browser.test.ts), plus what only fake-indexeddb can stage.
import 'fake-indexeddb/auto';
import { forceCloseDatabase } from 'fake-indexeddb';
import { unwrap, type IDBPDatabase } from 'idb';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { nodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { describeIndexedDbBehaviour } from './indexeddb-storage.behaviour.test-support.ts';
import { IndexedDbRaftStorage } from './indexeddb-storage.ts';
import { makeEntries } from './storage-conformance.ts';

describeIndexedDbBehaviour();

/**
 * Runs `body` while every put fails inside IndexedDB with a DOMException named `name`, the way a
 * browser that checks quota per request (not only at commit) refuses one: the request fails, and
 * its error event aborts the transaction. fake-indexeddb (the global IDBObjectStore here) runs a
 * put as an operation of its raw store, bound when put() is called, so that operation is swapped
 * for the call.
 */
async function withPutsFailing<T>(name: string, body: () => Promise<T>): Promise<T> {
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
  try {
    return await body();
  } finally {
    IDBObjectStore.prototype.put = put;
  }
}

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
