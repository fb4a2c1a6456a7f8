// Overlapping writes on Chromium's real IndexedDB, with a real quota failure: the storage runs in
// a storage bucket opened with a small quota (the Storage Buckets API), and Chromium refuses a
// write that would exceed it when the transaction commits (the transaction aborts with
// QuotaExceededError), as it does when an origin runs out of space.
//
// The storage opens its database through the global `indexedDB` (idb's openDB), so the tests
// point that global at the bucket's factory while they run: nothing in the storage is replaced.
// (DevTools' Storage.overrideQuotaForOrigin was tried first: Chromium 156 reports the override
// to DevTools but IndexedDB in a Playwright context commits past it.)
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { restoreState } from '../../driver/restore.ts';
import { IndexedDbRaftStorage } from '../indexeddb-storage.ts';
import { makeEntries } from '../storage-conformance.ts';
import { describeOverlappingWrites, recordingTransactions, type QuotaStage } from './overlapping-writes.behaviour.test-support.ts';

interface StorageBucket {
  readonly indexedDB: IDBFactory;
  estimate(): Promise<StorageEstimate>;
}
interface StorageBucketManager {
  open(name: string, options?: { quota?: number }): Promise<StorageBucket>;
  delete(name: string): Promise<void>;
}

const bucketQuotaBytes = 1024 * 1024;
let buckets = 0;

function storageBuckets(): StorageBucketManager {
  const manager = (navigator as { storageBuckets?: StorageBucketManager }).storageBuckets;
  if (manager === undefined) throw new Error('this browser has no Storage Buckets API (navigator.storageBuckets)');
  return manager;
}

/** Runs `body` with the global `indexedDB` being `factory`, and puts the page's own back after. */
async function withIndexedDb<T>(factory: IDBFactory, body: () => Promise<T>): Promise<T> {
  const own = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
  Object.defineProperty(globalThis, 'indexedDB', { configurable: true, enumerable: true, get: () => factory });
  try {
    return await body();
  } finally {
    if (own === undefined) delete (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    else Object.defineProperty(globalThis, 'indexedDB', own);
  }
}

const bucketQuota: QuotaStage = {
  label: `Chromium, a storage bucket with a ${bucketQuotaBytes / 1024} KiB quota`,
  async within(body) {
    const name = `raftmesh-quota-${Date.now()}-${(buckets += 1)}`;
    const bucket = await storageBuckets().open(name, { quota: bucketQuotaBytes });
    try {
      return await withIndexedDb(bucket.indexedDB, body);
    } finally {
      await storageBuckets().delete(name);
    }
  },
  // Two such commands exceed the bucket's quota by themselves; the small writes around them fit.
  refusedCommandBytes: 600 * 1024,
  refusing: (issue) => issue(),
  report(scene, events) {
    // eslint-disable-next-line no-console -- the order Chromium reported is this test's second output (the fix relies on it)
    console.log(`Chromium's events, ${scene}: ${events.join(', ')}`);
  },
};

describeOverlappingWrites(bucketQuota);

describe('IndexedDbRaftStorage: what Chromium does with a quota check', () => {
  // Chromium judges quota twice: a dry run as each put arrives (it warms a cache of the bucket's
  // free space) and the real check when the transaction commits. When a put too big for the
  // cache arrives, Chromium asks the quota manager again, and checks made while it waits are
  // judged in arrival order with one flag: the dry run's refusal refuses every check queued after
  // it. So a small write asking to commit just after a later write's oversized put reached the
  // browser is refused for quota too (Chromium 156 here, every run). Whichever way the browser
  // decides, what lands must be a prefix of what was written, and nothing after a refused write
  // may resolve.
  it("a small write whose commit Chromium hears of after a later write's oversized put: both refused (or the small one lands), never a gap", async () => {
    await bucketQuota.within(async () => {
      const name = `quota-dry-run-${Date.now()}`;
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(1, null);
      await storage.appendEntries(makeEntries(1, 6, 1));
      const { result: settled, events } = await recordingTransactions(() =>
        Promise.allSettled([
          storage.writeBatch({ hardState: { term: 2, votedFor: null }, entries: makeEntries(7, 7, 2), commitIndex: 3 }),
          storage.appendEntries(makeEntries(8, 9, 2, bucketQuota.refusedCommandBytes)),
          storage.appendEntries(makeEntries(10, 10, 2)),
        ]),
      );
      bucketQuota.report?.('a small write, an oversized one issued before the small one committed, and one after', events);
      const outcomes = settled.map((result) => (result.status === 'fulfilled' ? 'acknowledged' : result.reason instanceof RaftStorageError ? result.reason.reason : String(result.reason)));
      const smallLanded = outcomes[0] === 'acknowledged';
      expect(outcomes, events.join(', ')).toEqual([smallLanded ? 'acknowledged' : 'quotaExceeded', 'quotaExceeded', 'quotaExceeded']);
      expect(events.filter((event) => event.endsWith(' complete')), events.join(', ')).toEqual(smallLanded ? ['#1 complete'] : []);
      const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
      const stored = (await reopened.entries()).map((entry) => entry.index);
      expect([stored, await reopened.term(), await reopened.commitIndex()]).toEqual(smallLanded ? [[1, 2, 3, 4, 5, 6, 7], 2, 3] : [[1, 2, 3, 4, 5, 6], 1, 0]);
      await restoreState(reopened);
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    });
  });
});

describe('the quota stage itself', () => {
  it('a bucket opened with a quota reports it, and the global indexedDB is the page’s own again afterwards', async () => {
    const pageFactory = indexedDB;
    let inside: IDBFactory | null = null;
    await bucketQuota.within(async () => {
      inside = indexedDB;
    });
    expect(inside).not.toBe(pageFactory);
    expect(indexedDB).toBe(pageFactory);
    const name = `raftmesh-quota-estimate-${Date.now()}`;
    const bucket = await storageBuckets().open(name, { quota: bucketQuotaBytes });
    expect((await bucket.estimate()).quota).toBe(bucketQuotaBytes);
    await storageBuckets().delete(name);
  });
});
