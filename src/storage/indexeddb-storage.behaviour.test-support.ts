// IndexedDB-specific behaviour beyond the shared contract: failures mapped to clear errors, a
// node that stops loudly when its storage fails, and a node that restarts from its database.
// Runs in Node on fake-indexeddb and in Chromium on real IndexedDB.
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import type { RaftMetric } from '../core/events.ts';
import { nodeId, type Committed } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { IndexedDbRaftStorage, openRaftDatabase } from './indexeddb-storage.ts';
import { mapIndexedDbError } from './storage-failure.ts';
import { databaseName } from './indexeddb/schema.ts';

let count = 0;
const uniqueName = (label: string): string => `${label}-${Date.now()}-${(count += 1)}`;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function rawOpen(name: string, version: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Deletes the node's database the way another tab would, past the storage's back. */
function deleteRaw(name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(databaseName(name));
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof RaftStorageError ? error.reason : `not a RaftStorageError: ${String(error)}`;
  }
  return 'resolved';
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A leading single node on a storage whose commits fail from loseDisk() on, and its metrics. */
async function nodeOnFailingDisk(name: string) {
  let diskGone = false;
  const storage = await IndexedDbRaftStorage.open(name, {
    beforeCommit: () => {
      if (diskGone) throw new DOMException('injected: the disk went away', 'AbortError');
    },
  });
  const metrics: RaftMetric[] = [];
  const node = await singleNode(storage, (metric) => metrics.push(metric));
  await node.awaitLeadership();
  return { node, metrics, loseDisk: () => (diskGone = true) };
}

async function singleNode(storage: IndexedDbRaftStorage, onMetric?: (metric: RaftMetric) => void) {
  const id = nodeId('solo');
  const network = createLoopbackNetwork();
  return createRaftNode({
    id,
    clusterConfig: { voters: [id] },
    transport: network.transport(id),
    storage,
    raftConfig: { electionTimeoutMin: 20, electionTimeoutMax: 40, heartbeatInterval: 5 },
    ...(onMetric === undefined ? {} : { onMetric }),
  });
}

export function describeIndexedDbBehaviour(): void {
  describe('IndexedDbRaftStorage: failures are clear errors', () => {
    it('a database deleted underneath fails later calls with reason databaseDeleted', async () => {
      const name = uniqueName('deleted');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(1, null);
      await deleteRaw(name);
      expect(await reason(storage.saveTermAndVotedFor(2, null))).toBe('databaseDeleted');
      expect(await reason(storage.term())).toBe('databaseDeleted');
    });

    it('a database written by a newer schema is refused with reason versionTooNew', async () => {
      const name = uniqueName('newer');
      (await rawOpen(databaseName(name), 99)).close();
      expect(await reason(IndexedDbRaftStorage.open(name))).toBe('versionTooNew');
      await IndexedDbRaftStorage.destroy(name);
    });

    it('an upgrade blocked by an old connection that never yields fails with reason upgradeBlocked', async () => {
      const name = databaseName(uniqueName('blocked'));
      const old = await rawOpen(name, 1); // no versionchange handler: it never closes
      const events = { onVersionChange: () => undefined, onTerminated: () => undefined };
      expect(await reason(openRaftDatabase(name, 2, 200, events))).toBe('upgradeBlocked');
      old.close();
    });

    it('says why it failed on its failure watchable: null while it works, set once by close(), by a deletion and by a failed write', async () => {
      const closedName = uniqueName('failure-closed');
      const closing = await IndexedDbRaftStorage.open(closedName);
      expect(closing.failure.value).toBeNull();
      const heard: string[] = [];
      closing.failure.subscribe((failure) => heard.push(failure?.reason ?? 'null'));
      closing.close();
      closing.close();
      expect(heard).toEqual(['closed']);
      await IndexedDbRaftStorage.destroy(closedName);

      const deletedName = uniqueName('failure-deleted');
      const deleted = await IndexedDbRaftStorage.open(deletedName);
      await deleted.saveTermAndVotedFor(1, null);
      await deleteRaw(deletedName);
      // Set by the deletion itself, before any call asks.
      expect(deleted.failure.value?.reason).toBe('databaseDeleted');

      const abortedName = uniqueName('failure-aborted');
      const aborted = await IndexedDbRaftStorage.open(abortedName, {
        beforeCommit: () => {
          throw new DOMException('injected', 'AbortError');
        },
      });
      expect(await reason(aborted.saveTermAndVotedFor(1, null))).toBe('transactionAborted');
      expect(aborted.failure.value?.reason).toBe('transactionAborted');
      await IndexedDbRaftStorage.destroy(abortedName);
    });

    it('a closed storage refuses calls with reason closed; close is idempotent', async () => {
      const name = uniqueName('closed');
      const storage = await IndexedDbRaftStorage.open(name);
      storage.close();
      storage.close();
      expect(await reason(storage.appendEntries([]))).toBe('closed');
      // Every call, one that would have nothing to do too (an empty log has no prefix to discard).
      expect(await reason(storage.discardLogPrefix(0))).toBe('closed');
      await IndexedDbRaftStorage.destroy(name);
    });

    it('maps quota and abort failures by their DOMException names', () => {
      expect(mapIndexedDbError(new DOMException('full', 'QuotaExceededError'), 'writeBatch').reason).toBe('quotaExceeded');
      expect(mapIndexedDbError(new DOMException('aborted', 'AbortError'), 'writeBatch').reason).toBe('transactionAborted');
      expect(mapIndexedDbError(new DOMException('full', 'QuotaExceededError'), 'writeBatch').message).toMatch(/quota exceeded/);
    });

    it('refuses an invalid durability setting', async () => {
      await expect(IndexedDbRaftStorage.open('x', { durability: 'eventually' as 'strict' })).rejects.toThrow(RangeError);
    });

    it('refuses an invalid upgradeBlockedTimeoutMs, as it refuses an invalid lockTimeoutMs', async () => {
      for (const upgradeBlockedTimeoutMs of [-5, 1.5, Number.NaN, 3_600_001]) {
        await expect(IndexedDbRaftStorage.open('x', { upgradeBlockedTimeoutMs })).rejects.toThrow(new RangeError(`IndexedDbRaftStorage upgradeBlockedTimeoutMs must be an integer number of ms from 0 to 3600000, got ${upgradeBlockedTimeoutMs}`));
      }
    });

    it('a database under its name without its stores is refused with reason corruptRecord, saying so', async () => {
      const name = uniqueName('foreign');
      (await rawOpen(databaseName(name), 1)).close(); // version 1, no stores: another program's database
      const refusal: unknown = await IndexedDbRaftStorage.open(name).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RaftStorageError);
      expect((refusal as RaftStorageError).reason).toBe('corruptRecord');
      expect((refusal as RaftStorageError).message).toMatch(/exists without raftmesh's stores/);
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a log start that is not an index, or lies past every stored entry, is refused with reason corruptRecord: no entry vanishes unseen', async () => {
      for (const logStart of ['6', 0, 6, 10] as const) {
        const name = uniqueName('log-start');
        const storage = await IndexedDbRaftStorage.open(name);
        await storage.saveTermAndVotedFor(2, null);
        await storage.appendEntries([1, 2, 3, 4, 5].map((index) => ({ index, term: index < 4 ? 1 : 2, command: bytes(`cmd${index}`), isNoOp: false })));
        await storage.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, bytes('state'));
        await storage.discardLogPrefix(2);
        storage.close();
        const raw = await rawOpen(databaseName(name), 1);
        await new Promise<void>((resolve, reject) => {
          const transaction = raw.transaction('state', 'readwrite');
          transaction.objectStore('state').put(logStart, 'logStart');
          transaction.oncomplete = () => resolve();
          transaction.onerror = () => reject(transaction.error);
        });
        raw.close();
        expect(await reason(IndexedDbRaftStorage.open(name))).toBe('corruptRecord');
        await IndexedDbRaftStorage.destroy(name);
      }
    });

    it('a hard state, leader pin, snapshot or log segment that is not a record of its kind is refused with reason corruptRecord, never read as term 0 or an empty log', async () => {
      const damaged: readonly { readonly store: 'state' | 'log'; readonly key: IDBValidKey; readonly value: unknown }[] = [
        { store: 'state', key: 'hardState', value: null },
        { store: 'state', key: 'hardState', value: 7 },
        { store: 'state', key: 'hardState', value: {} },
        { store: 'state', key: 'leaderForTerm', value: null },
        { store: 'state', key: 'leaderForTerm', value: { term: 1 } },
        { store: 'state', key: 'snapshot', value: null },
        { store: 'state', key: 'snapshot', value: { state: bytes('no meta') } },
        { store: 'log', key: 1, value: null },
        { store: 'log', key: 1, value: { lastIndex: 1 } },
      ];
      for (const { store, key, value } of damaged) {
        const name = uniqueName('record-shape');
        (await IndexedDbRaftStorage.open(name)).close(); // a database of ours, with nothing in it but this record
        const raw = await rawOpen(databaseName(name), 1);
        await new Promise<void>((resolve, reject) => {
          const transaction = raw.transaction(store, 'readwrite');
          transaction.objectStore(store).put(value, key);
          transaction.oncomplete = () => resolve();
          transaction.onerror = () => reject(transaction.error);
        });
        raw.close();
        // What a node's restore reads, in its order: the hard state, the pin, the snapshot, the log.
        const restored = IndexedDbRaftStorage.open(name).then(async (storage) => {
          try {
            return [await storage.term(), await storage.votedFor(), await storage.leaderForTerm(), await storage.loadSnapshot(), await storage.entries()];
          } finally {
            storage.close();
          }
        });
        expect(`${store} ${String(key)} ${JSON.stringify(value)}: ${await reason(restored)}`).toBe(`${store} ${String(key)} ${JSON.stringify(value)}: corruptRecord`);
        await IndexedDbRaftStorage.destroy(name);
      }
    });

    it('a log start just past the last entry is an empty log, not corruption (every entry discarded)', async () => {
      const name = uniqueName('all-discarded');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.appendEntries([1, 2, 3].map((index) => ({ index, term: 1, command: bytes(`cmd${index}`), isNoOp: false })));
      await storage.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 1 }, bytes('state'));
      await storage.discardLogPrefix(3);
      storage.close();
      const reopened = await IndexedDbRaftStorage.open(name);
      expect(await reopened.entries()).toEqual([]);
      await reopened.appendEntries([{ index: 4, term: 1, command: bytes('cmd4'), isNoOp: false }]);
      expect((await reopened.entries()).map((entry) => entry.index)).toEqual([4]);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });
  });

  describe('IndexedDbRaftStorage: every write commits its transaction itself', () => {
    /**
     * Records, for each commit() call, how many puts and deletes had been issued on that
     * transaction by then; a transaction left to auto-commit records nothing.
     */
    async function recordingCommits<T>(body: () => Promise<T>): Promise<{ result: T; commits: number[] }> {
      const commits: number[] = [];
      const issuedBy = new WeakMap<IDBTransaction, number>();
      const count = (transaction: IDBTransaction): void => void issuedBy.set(transaction, (issuedBy.get(transaction) ?? 0) + 1);
      const { put, delete: remove } = IDBObjectStore.prototype;
      const commit = IDBTransaction.prototype.commit;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
        count(this.transaction);
        return put.apply(this, args);
      };
      IDBObjectStore.prototype.delete = function (this: IDBObjectStore, ...args: Parameters<typeof remove>) {
        count(this.transaction);
        return remove.apply(this, args);
      };
      IDBTransaction.prototype.commit = function (this: IDBTransaction) {
        commits.push(issuedBy.get(this) ?? 0);
        commit.call(this);
      };
      try {
        return { result: await body(), commits };
      } finally {
        Object.assign(IDBObjectStore.prototype, { put, delete: remove });
        IDBTransaction.prototype.commit = commit;
      }
    }

    it('commits once every request is issued (auto-commit would wait for their answers), a truncating write too, and what it wrote reads back', async () => {
      const name = uniqueName('explicit-commit');
      const storage = await IndexedDbRaftStorage.open(name);
      const entry = (index: number, term: number) => ({ index, term, command: bytes(`e${index}`), isNoOp: false });
      const { commits } = await recordingCommits(async () => {
        await storage.writeBatch({ hardState: { term: 1, votedFor: null }, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], commitIndex: 1 });
        // The cut reads the straddling segment first: the commit comes after that read's await.
        await storage.writeBatch({ hardState: { term: 2, votedFor: null }, truncateFrom: 2, entries: [entry(2, 2)] });
      });
      // First: hard state, one segment, commit index. Second: hard state, the delete, the
      // rewritten straddling segment and the new one.
      expect(commits).toEqual([3, 4]);
      storage.close();
      const reopened = await IndexedDbRaftStorage.open(name);
      expect((await reopened.entries()).map((stored) => [stored.index, stored.term])).toEqual([
        [1, 1],
        [2, 2],
      ]);
      expect(await reopened.term()).toBe(2);
      expect(await reopened.commitIndex()).toBe(1);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a write whose beforeCommit hook throws is never committed: nothing of it lands', async () => {
      const name = uniqueName('explicit-commit-refused');
      let refuse = false;
      const storage = await IndexedDbRaftStorage.open(name, {
        beforeCommit: () => {
          if (refuse) throw new Error('injected before commit');
        },
      });
      await storage.writeBatch({ entries: [{ index: 1, term: 1, command: bytes('kept'), isNoOp: false }] });
      refuse = true;
      const { commits, result } = await recordingCommits(() => reason(storage.writeBatch({ entries: [{ index: 2, term: 1, command: bytes('lost'), isNoOp: false }] })));
      expect(result).not.toBe('resolved');
      expect(commits).toEqual([]);
      const reopened = await IndexedDbRaftStorage.open(name);
      expect((await reopened.entries()).map((stored) => stored.index)).toEqual([1]);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });
  });

  describe('a node on IndexedDbRaftStorage', () => {
    it('stops loudly when a write fails: calls reject, stopped says why, a metric reports it', async () => {
      const name = uniqueName('failing');
      const { node, metrics, loseDisk } = await nodeOnFailingDisk(name);
      const before = await Promise.allSettled(Array.from({ length: 10 }, (_, position) => node.propose(bytes(`before ${position}`))));
      expect(before.every((result) => result.status === 'fulfilled')).toBe(true);
      loseDisk();
      const after = await Promise.allSettled(Array.from({ length: 10 }, (_, position) => node.propose(bytes(`after ${position}`))));
      expect(after.every((result) => result.status === 'rejected' && result.reason instanceof RaftStorageError)).toBe(true);
      const results = [...before, ...after];
      const stoppedBy = node.stopped.value;
      expect(stoppedBy).toBeInstanceOf(RaftStorageError);
      expect((stoppedBy as RaftStorageError).reason).toBe('transactionAborted');
      expect(metrics.some((metric) => metric.type === 'storageFailed' && metric.reason === 'transactionAborted')).toBe(true);
      await expect(node.propose(bytes('after'))).rejects.toBeInstanceOf(RaftStorageError);
      await node.close();
      // Everything acknowledged before the failure is on disk.
      const acknowledged = results.filter((result) => result.status === 'fulfilled').map((result) => result.value.index);
      const reopened = await IndexedDbRaftStorage.open(name);
      const stored = new Set((await reopened.entries()).map((entry) => entry.index));
      for (const index of acknowledged) expect(stored.has(index)).toBe(true);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('stops at once, idle, when another tab deletes its database: stopped says why, reads and proposals reject, one metric', async () => {
      // Found by a review (2026-12-06): the storage failed and let go of the database at once,
      // but nothing told the node, which went on leading and serving reads until its next write.
      const name = uniqueName('deleted-under-node');
      const storage = await IndexedDbRaftStorage.open(name);
      const metrics: RaftMetric[] = [];
      const node = await singleNode(storage, (metric) => metrics.push(metric));
      await node.awaitLeadership();
      await node.propose(bytes('acknowledged'));
      // Idle long enough for the commit index to be written too: nothing left to write.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await deleteRaw(name);
      await waitUntil(() => node.stopped.value !== null);
      const stoppedBy = node.stopped.value;
      expect(stoppedBy).toBeInstanceOf(RaftStorageError);
      expect((stoppedBy as RaftStorageError).reason).toBe('databaseDeleted');
      expect((stoppedBy as RaftStorageError).message).toContain('outside any write');
      expect(metrics.filter((metric) => metric.type === 'storageFailed').map((metric) => (metric.type === 'storageFailed' ? metric.reason : null))).toEqual(['databaseDeleted']);
      await expect(node.readIndex()).rejects.toBeInstanceOf(RaftStorageError);
      await expect(node.propose(bytes('after'))).rejects.toBeInstanceOf(RaftStorageError);
      await node.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a write failing inside a transaction is reported once, by the write, not again as a failure outside it', async () => {
      const name = uniqueName('one-report');
      const { node, metrics, loseDisk } = await nodeOnFailingDisk(name);
      loseDisk();
      await expect(node.propose(bytes('lost'))).rejects.toBeInstanceOf(RaftStorageError);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((node.stopped.value as RaftStorageError).message).toContain('storage write failed');
      expect(metrics.filter((metric) => metric.type === 'storageFailed')).toHaveLength(1);
      await node.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('restarts from its database with its term and every committed entry', async () => {
      const name = uniqueName('restart');
      const firstStorage = await IndexedDbRaftStorage.open(name);
      const first = await singleNode(firstStorage);
      await first.awaitLeadership();
      const entries = await Promise.all(Array.from({ length: 50 }, (_, position) => first.propose(bytes(`entry ${position}`))));
      const term = first.term.value;
      // A node does not close the storage it was given: its owner does, which lets the database
      // open again (one live storage per database).
      await first.close();
      firstStorage.close();
      const storage = await IndexedDbRaftStorage.open(name);
      const second = await singleNode(storage);
      expect(second.term.value).toBeGreaterThanOrEqual(term);
      const replayed: Committed[] = [];
      for await (const item of second.committedFrom(1)) {
        replayed.push(item);
        if (item.type === 'entry' && item.entry.index === entries.at(-1)?.index) break;
      }
      const commands = replayed.flatMap((item) => (item.type === 'entry' ? [new TextDecoder().decode(item.entry.command)] : []));
      expect(commands).toEqual(entries.map((_, position) => `entry ${position}`));
      await second.close();
      storage.close();
      await IndexedDbRaftStorage.destroy(name);
    });
  });
}
