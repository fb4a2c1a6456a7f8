// Overlapping writes (made before the earlier one resolved) on IndexedDbRaftStorage, when one of
// them fails. Runs in Node on fake-indexeddb (indexeddb-storage.test.ts) and in Chromium on real
// IndexedDB (overlapping-writes.browser.test.ts); each says how it makes IndexedDB refuse a write
// for quota (a QuotaStage).
//
// The driver writes one batch at a time, but the storage accepts overlapping calls, validating
// each against the bounds the earlier ones will leave. IndexedDB runs a later transaction once an
// earlier one on the same stores aborted, and commits it: before the fix the stored log read
// 1,2,3,6,7 after 4,5 hit the quota, and the later write resolved. The fix (write() in
// indexeddb-storage.ts) relies on the order in which IndexedDB reports the two transactions: the
// failed one's error or abort event before the answer to the later one's first request. These
// tests record that order, as well as what lands.
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { nodeId, type LogEntry } from '../../core/types.ts';
import { restoreState } from '../../driver/restore.ts';
import { IndexedDbRaftStorage } from '../indexeddb-storage.ts';
import { makeEntries } from '../storage-conformance.ts';

/** How a run makes IndexedDB refuse a write because the origin (or bucket) is out of space. */
export interface QuotaStage {
  /** Where the refusal comes from, for the tests' names. */
  readonly label: string;
  /** Runs `body` in an IndexedDB whose quota `refusing` can exceed (and cleans up after it). */
  within<T>(body: () => Promise<T>): Promise<T>;
  /** The size of each command in a write that must be refused (large enough to exceed the quota). */
  readonly refusedCommandBytes: number;
  /** Issues the write that `issue` starts (its requests are issued before it returns) so that IndexedDB refuses it for quota. */
  refusing<T>(issue: () => T): T;
  /** Told what IndexedDB reported to the transactions of a test, in order (recordingTransactions). */
  report?(scene: string, events: readonly string[]): void;
}

let count = 0;
const uniqueName = (label: string): string => `${label}-${Date.now()}-${(count += 1)}`;
const summary = (entries: readonly LogEntry[]): string[] => entries.map((entry) => `${entry.index}@${entry.term}`);
const outcomeOf = (settled: PromiseSettledResult<unknown>): string => (settled.status === 'fulfilled' ? 'acknowledged' : settled.reason instanceof RaftStorageError ? settled.reason.reason : String(settled.reason));

/**
 * Records, in order, what IndexedDB reports to the readwrite transactions created while `body`
 * runs, numbered from 1 in creation order: each request's answer ('#2 success'), each request
 * error ('#1 error QuotaExceededError'), and how the transaction ended ('#1 abort
 * QuotaExceededError', '#2 complete'). Listeners on the transaction in the capture phase see its
 * requests' events too, before the storage's own.
 */
export async function recordingTransactions<T>(body: () => Promise<T>): Promise<{ result: T; events: string[] }> {
  const events: string[] = [];
  let created = 0;
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<typeof transaction>) {
    const opened = transaction.apply(this, args);
    if (opened.mode !== 'readwrite') return opened;
    created += 1;
    const label = `#${created}`;
    const errorName = (error: DOMException | null | undefined): string => (error === null || error === undefined ? '' : ` ${error.name}`);
    opened.addEventListener('success', () => events.push(`${label} success`), { capture: true });
    opened.addEventListener('error', (event) => events.push(`${label} error${errorName((event.target as IDBRequest | null)?.error)}`), { capture: true });
    opened.addEventListener('abort', () => events.push(`${label} abort${errorName(opened.error)}`));
    opened.addEventListener('complete', () => events.push(`${label} complete`));
    return opened;
  } as typeof transaction;
  try {
    return { result: await body(), events };
  } finally {
    IDBDatabase.prototype.transaction = transaction;
  }
}

/** Where `events` first reports something about transaction `label` that matches `kind`. */
const firstEvent = (events: readonly string[], label: string, kind: RegExp): number => events.findIndex((event) => event.startsWith(`${label} `) && kind.test(event.slice(label.length + 1)));

/** What is stored, read back by a storage opened afresh (at once: the failed one let go), and whether a node could restart on it. */
async function readBack(name: string): Promise<{ term: number; leader: string | null; commit: number; log: string[]; restore: string }> {
  const reopened = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 1_000 });
  try {
    const stored = { term: await reopened.term(), leader: (await reopened.leaderForTerm())?.leaderId ?? null, commit: await reopened.commitIndex(), log: summary(await reopened.entries()) };
    // A node restarting on it: with a hole in the log, restore refuses the storage as corrupt.
    const restore = await restoreState(reopened).then(
      () => 'restores',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    return { ...stored, restore };
  } finally {
    reopened.close();
  }
}

export function describeOverlappingWrites(quota: QuotaStage): void {
  describe(`IndexedDbRaftStorage: overlapping writes when one is refused for quota (${quota.label})`, () => {
    it('a write issued while an earlier write is refused does not land after it: both reject with the quota failure, the stored log has no gap, and a reopened storage writes on', async () => {
      await quota.within(async () => {
        const name = uniqueName('overlap-quota');
        const storage = await IndexedDbRaftStorage.open(name);
        await storage.saveTermAndVotedFor(1, null);
        await storage.appendEntries(makeEntries(1, 3, 1));
        // Two appends in flight at once: IndexedDB refuses the first (quota), not the second.
        const { result: settled, events } = await recordingTransactions(async () => {
          const first = quota.refusing(() => storage.appendEntries(makeEntries(4, 5, 1, quota.refusedCommandBytes)));
          const second = storage.appendEntries(makeEntries(6, 7, 1));
          return Promise.allSettled([first, second]);
        });
        quota.report?.('one refused write and one after it', events);
        expect(settled.map(outcomeOf), events.join(', ')).toEqual(['quotaExceeded', 'quotaExceeded']);
        // What the fix relies on: the refused transaction (#1) ends, with its error or abort
        // event, before the later one (#2) hears back from its first request; the later one
        // then aborts instead of committing.
        const refusedEnds = firstEvent(events, '#1', /^(error|abort)/);
        expect(refusedEnds, events.join(', ')).toBeGreaterThanOrEqual(0);
        expect(firstEvent(events, '#2', /^success/), events.join(', ')).toBeGreaterThan(refusedEnds);
        expect(firstEvent(events, '#2', /^abort/), events.join(', ')).toBeGreaterThan(refusedEnds);
        expect(events.filter((event) => event.endsWith(' complete')), events.join(', ')).toEqual([]);

        // The storage's stated behaviour after a failure: every later call is refused with the same
        // error (the first write's), its failure watchable says so, and it let go of the database.
        const failure = (settled[0] as PromiseRejectedResult).reason as RaftStorageError;
        expect(failure.message).toMatch(/storage quota exceeded/);
        expect((settled[1] as PromiseRejectedResult).reason).toBe(failure);
        expect(storage.failure.value).toBe(failure);
        await expect(storage.term()).rejects.toBe(failure);
        await expect(storage.appendEntries(makeEntries(4, 4, 1))).rejects.toBe(failure);

        // On disk: a log without gaps, 1..3, nothing of the refused write nor of the one after it.
        expect(await readBack(name)).toEqual({ term: 1, leader: null, commit: 0, log: ['1@1', '2@1', '3@1'], restore: 'restores' });
        // Reopened, the storage writes on from there (only the large write exceeded the quota).
        const reopened = await IndexedDbRaftStorage.open(name);
        await reopened.appendEntries(makeEntries(4, 5, 1));
        expect(summary(await reopened.entries())).toEqual(['1@1', '2@1', '3@1', '4@1', '5@1']);
        reopened.close();
        await IndexedDbRaftStorage.destroy(name);
      });
    });

    it('a refused write that itself overlapped an earlier one takes down the writes after it, a truncating one (it reads inside its transaction) too; the earlier one lands', async () => {
      await quota.within(async () => {
        const name = uniqueName('overlap-quota-middle');
        // Told when a write is about to commit (the hook runs just before commit()).
        let committing: (() => void) | null = null;
        const storage = await IndexedDbRaftStorage.open(name, { beforeCommit: () => committing?.() });
        await storage.saveTermAndVotedFor(1, null);
        await storage.appendEntries(makeEntries(1, 6, 1));
        const { result: settled, events } = await recordingTransactions(async () => {
          const firstCommits = new Promise<void>((resolve) => (committing = resolve));
          const writes = [storage.writeBatch({ hardState: { term: 2, votedFor: null }, entries: makeEntries(7, 7, 2), commitIndex: 3 })];
          // The refused write is issued once the first has asked to commit (while it is still in
          // flight): Chromium judges a commit's quota in the order it hears of it, and a put too
          // big for the quota heard of before the first's commit makes Chromium refuse that
          // commit too (the browser test shows it).
          await firstCommits;
          committing = null;
          writes.push(quota.refusing(() => storage.appendEntries(makeEntries(8, 9, 2, quota.refusedCommandBytes))));
          writes.push(storage.writeBatch({ truncateFrom: 5, entries: makeEntries(5, 5, 2), commitIndex: 4 }));
          writes.push(storage.saveLeaderForTerm(2, nodeId('b')));
          return Promise.allSettled(writes);
        });
        quota.report?.('one write, a refused one and two after it', events);
        expect(settled.map(outcomeOf), events.join(', ')).toEqual(['acknowledged', 'quotaExceeded', 'quotaExceeded', 'quotaExceeded']);
        const refusedEnds = firstEvent(events, '#2', /^(error|abort)/);
        expect(refusedEnds, events.join(', ')).toBeGreaterThanOrEqual(0);
        for (const later of ['#3', '#4']) {
          expect(firstEvent(events, later, /^success/), events.join(', ')).toBeGreaterThan(refusedEnds);
          expect(firstEvent(events, later, /^abort/), events.join(', ')).toBeGreaterThan(refusedEnds);
        }
        expect(events.filter((event) => event.endsWith(' complete')), events.join(', ')).toEqual(['#1 complete']);
        const failure = (settled[1] as PromiseRejectedResult).reason as RaftStorageError;
        expect(settled.slice(2).map((result) => (result as PromiseRejectedResult).reason)).toEqual([failure, failure]);
        await expect(storage.entries()).rejects.toBe(failure);
        // The first write landed whole; nothing of the refused one or of the two after it did.
        expect(await readBack(name)).toEqual({ term: 2, leader: null, commit: 3, log: [...summary(makeEntries(1, 6, 1)), '7@2'], restore: 'restores' });
        await IndexedDbRaftStorage.destroy(name);
      });
    });
  });

  describe('IndexedDbRaftStorage: overlapping writes, without a quota failure', () => {
    it('a write aborted before its commit takes down the writes made after it, a truncating one too: nothing of them lands', async () => {
      const name = uniqueName('overlap-abort');
      let calls = 0;
      const storage = await IndexedDbRaftStorage.open(name, {
        beforeCommit: () => {
          calls += 1;
          if (calls === 3) throw new DOMException('injected', 'AbortError'); // the first of the overlapping writes
        },
      });
      await storage.saveTermAndVotedFor(1, null);
      await storage.appendEntries(makeEntries(1, 6, 1));
      const writes = [
        storage.writeBatch({ hardState: { term: 2, votedFor: null }, entries: makeEntries(7, 8, 2) }),
        storage.writeBatch({ truncateFrom: 5, entries: makeEntries(5, 5, 2), commitIndex: 4 }), // reads inside its transaction
        storage.saveLeaderForTerm(2, nodeId('b')),
      ];
      const reasons = (await Promise.allSettled(writes)).map(outcomeOf);
      expect(reasons).toEqual(['transactionAborted', 'transactionAborted', 'transactionAborted']);
      expect(await readBack(name)).toEqual({ term: 1, leader: null, commit: 0, log: summary(makeEntries(1, 6, 1)), restore: 'restores' });
      await IndexedDbRaftStorage.destroy(name);
    });

    it('overlapping writes that all succeed land in call order and all resolve; one write at a time issues no extra request', async () => {
      const name = uniqueName('overlap-ok');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(1, null);
      const readwriteGets: number[] = [];
      const get = IDBObjectStore.prototype.get;
      IDBObjectStore.prototype.get = function (this: IDBObjectStore, ...args: Parameters<typeof get>) {
        if (this.transaction.mode === 'readwrite') readwriteGets.push(1);
        return get.apply(this, args);
      };
      try {
        await storage.appendEntries(makeEntries(1, 4, 1));
        await storage.writeBatch({ truncateFrom: 3, entries: makeEntries(3, 3, 2) });
        expect(readwriteGets.length).toBe(0); // one at a time: committed at once, as before
        await Promise.all([
          storage.appendEntries(makeEntries(4, 6, 2)),
          storage.writeBatch({ hardState: { term: 3, votedFor: null }, truncateFrom: 5, entries: makeEntries(5, 7, 3), commitIndex: 4 }),
          storage.appendEntries(makeEntries(8, 8, 3)),
        ]);
        expect(readwriteGets.length).toBe(2); // one each for the two that overlapped an earlier write
      } finally {
        IDBObjectStore.prototype.get = get;
      }
      const all = ['1@1', '2@1', '3@2', '4@2', '5@3', '6@3', '7@3', '8@3'];
      expect(summary(await storage.entries())).toEqual(all);
      storage.close();
      expect(await readBack(name)).toEqual({ term: 3, leader: null, commit: 4, log: all, restore: 'restores' });
      await IndexedDbRaftStorage.destroy(name);
    });
  });
}
