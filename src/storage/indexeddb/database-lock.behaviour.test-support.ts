// One live IndexedDbRaftStorage per database (database-lock.ts), as seen from one page or
// process. Runs in Chromium on Web Locks and in Node on fake-indexeddb, where the version-change
// fallback is what refuses the second open.
import { deleteDB, openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { IndexedDbRaftStorage } from '../indexeddb-storage.ts';
import { databaseName } from './schema.ts';

let count = 0;
export const uniqueName = (label: string): string => `${label}-${Date.now()}-${(count += 1)}`;

export async function failureOf(promise: Promise<unknown>): Promise<RaftStorageError> {
  const outcome: unknown = await promise.then(
    (value: unknown) => {
      if (value instanceof IndexedDbRaftStorage) value.close();
      return new Error('expected a RaftStorageError, and the call succeeded');
    },
    (error: unknown) => error,
  );
  if (outcome instanceof RaftStorageError) return outcome;
  throw outcome;
}

/** Opens the database with no bound at all: resolves only if nothing holds it. */
async function expectFree(name: string): Promise<void> {
  // A released lock may take a moment to reach the browser's lock manager; a short bound covers it.
  const storage = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
  storage.close();
}

export function describeSingleOwner(): void {
  describe('IndexedDbRaftStorage: one live storage per database', () => {
    it('a second open while the first is open fails with reason inUse once lockTimeoutMs has passed, naming the database', async () => {
      const name = uniqueName('held');
      const first = await IndexedDbRaftStorage.open(name);
      const started = performance.now();
      const failure = await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 300 }));
      const waitedMs = performance.now() - started;
      expect(failure.reason).toBe('inUse');
      expect(failure.message).toContain(JSON.stringify(databaseName(name)));
      expect(failure.message).toMatch(/another tab or worker/);
      expect(waitedMs).toBeGreaterThanOrEqual(250); // it waited for the bound, it did not give up at once
      // The owner is untouched and keeps the database.
      await first.saveTermAndVotedFor(3, null);
      expect(await first.term()).toBe(3);
      expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 }))).reason).toBe('inUse');
      first.close();
      await expectFree(name);
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a waiting open succeeds as soon as the owner closes within the bound, and reads what the owner wrote', async () => {
      const name = uniqueName('handover');
      const first = await IndexedDbRaftStorage.open(name);
      await first.saveTermAndVotedFor(5, null);
      let closedAt = Number.POSITIVE_INFINITY;
      const started = performance.now();
      const second = IndexedDbRaftStorage.open(name, { lockTimeoutMs: 10_000 });
      setTimeout(() => {
        closedAt = performance.now();
        first.close();
      }, 200);
      const reopened = await second;
      const openedAt = performance.now();
      expect(openedAt).toBeGreaterThanOrEqual(closedAt); // it waited for the close...
      expect(openedAt - started).toBeLessThan(5_000); // ...and not for the bound
      expect(await reopened.term()).toBe(5);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a node restarted right after close() opens its database again with the default bound', async () => {
      const name = uniqueName('restart');
      const first = await IndexedDbRaftStorage.open(name);
      first.close();
      const second = await IndexedDbRaftStorage.open(name);
      second.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a failed open releases the lock: when opening the database fails, and when reading it fails', async () => {
      const name = uniqueName('failed-open');
      // A database written by a newer schema: the IndexedDB open itself is refused.
      (await openDB(databaseName(name), 99)).close();
      expect((await failureOf(IndexedDbRaftStorage.open(name))).reason).toBe('versionTooNew');
      expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 }))).reason).toBe('versionTooNew');
      await IndexedDbRaftStorage.destroy(name);
      // A corrupt snapshot record: the database opens, reading its bounds fails.
      (await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 })).close();
      const raw = await openDB(databaseName(name), 1);
      await raw.put('state', { meta: new Uint8Array([0xff, 0xff]), state: new Uint8Array() }, 'snapshot');
      raw.close();
      expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 }))).reason).toBe('corruptRecord');
      expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 }))).reason).toBe('corruptRecord');
      await IndexedDbRaftStorage.destroy(name);
      // Nothing was left holding it, and the lock still works.
      const owner = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
      expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 100 }))).reason).toBe('inUse');
      owner.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a storage that failed (its database deleted underneath) lets go of the database', async () => {
      const name = uniqueName('failed-storage');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(1, null);
      // Deleted by another program (or a raftmesh build whose destroy did not take the lock):
      // IndexedDbRaftStorage.destroy itself refuses an open database (the test below).
      await deleteDB(databaseName(name));
      expect((await failureOf(storage.saveTermAndVotedFor(2, null))).reason).toBe('databaseDeleted');
      await expectFree(name);
      await IndexedDbRaftStorage.destroy(name);
    });

    it('destroy refuses (inUse, naming the database) while a storage has it open, which keeps working and keeps its data; after close it deletes', async () => {
      const name = uniqueName('destroy-held');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(4, null);
      await storage.appendEntries([{ index: 1, term: 4, command: new Uint8Array([9]), isNoOp: false }]);
      for (const lockTimeoutMs of [0, 200]) {
        const failure = await failureOf(IndexedDbRaftStorage.destroy(name, { lockTimeoutMs }));
        expect(failure.reason).toBe('inUse');
        expect(failure.message).toContain(`IndexedDbRaftStorage destroy: the database ${JSON.stringify(databaseName(name))}`);
        expect(failure.message).toMatch(/close that node/);
      }
      // Untouched: not failed, its data there, and it still writes.
      expect(storage.failure.value).toBeNull();
      expect(await storage.term()).toBe(4);
      expect((await storage.entries(1)).map((entry) => [...entry.command])).toEqual([[9]]);
      await storage.saveTermAndVotedFor(5, null);
      expect(await storage.term()).toBe(5);
      storage.close();
      // Closed a moment ago: the default bound waits for the lock to come free, then deletes.
      await IndexedDbRaftStorage.destroy(name);
      const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
      expect(await reopened.term()).toBe(0);
      expect(await reopened.entries(1)).toEqual([]);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('a destroy waiting for a storage that closes within its bound deletes once it has closed', async () => {
      const name = uniqueName('destroy-waits');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(2, null);
      const destroyed = IndexedDbRaftStorage.destroy(name, { lockTimeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Still open and whole while the destroy waits.
      expect(storage.failure.value).toBeNull();
      expect(await storage.term()).toBe(2);
      storage.close();
      await destroyed;
      const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
      expect(await reopened.term()).toBe(0);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('destroy holds the lock until the deletion is done: an open meanwhile is refused, and one after finds an empty database', async () => {
      const name = uniqueName('destroy-holds');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(3, null);
      storage.close();
      // A connection outside any storage (another program's) holds the deletion up, blocked.
      const raw = await openDB(databaseName(name));
      let finished = false;
      const destroyed = IndexedDbRaftStorage.destroy(name).then(() => (finished = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(finished).toBe(false);
      expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 100 }))).reason).toBe('inUse');
      raw.close();
      await destroyed;
      const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
      expect(await reopened.term()).toBe(0);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });

    it('destroy refuses an invalid lockTimeoutMs with a RangeError', async () => {
      await expect(IndexedDbRaftStorage.destroy(uniqueName('destroy-invalid'), { lockTimeoutMs: -1 })).rejects.toThrow(RangeError);
    });

    it('databases of different nodes do not wait for each other', async () => {
      const [one, two] = [uniqueName('one'), uniqueName('two')];
      const first = await IndexedDbRaftStorage.open(one);
      const second = await IndexedDbRaftStorage.open(two, { lockTimeoutMs: 0 });
      first.close();
      second.close();
      await Promise.all([IndexedDbRaftStorage.destroy(one), IndexedDbRaftStorage.destroy(two)]);
    });

    it('refuses an invalid lockTimeoutMs with a RangeError, before taking any lock', async () => {
      const name = uniqueName('invalid-bound');
      for (const invalid of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 3_600_001, '100' as unknown as number]) {
        await expect(IndexedDbRaftStorage.open(name, { lockTimeoutMs: invalid })).rejects.toThrow(RangeError);
      }
      await expect(IndexedDbRaftStorage.open(name, { lockTimeoutMs: -1 })).rejects.toThrow(/lockTimeoutMs must be an integer number of ms from 0 to 3600000, got -1/);
      const storage = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 });
      storage.close();
      await IndexedDbRaftStorage.destroy(name);
    });
  });
}
