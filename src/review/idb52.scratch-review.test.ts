// Review (IndexedDB storage): scratch tests of idb52. Failing tests prove a defect; tests marked
// "confirmed correct" pass and guard behaviour that is right.
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { clientId, nodeId, type LogEntry } from '../core/types.ts';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { makeEntries } from '../storage/storage-conformance.ts';

let count = 0;
const uniqueName = (label: string): string => `idb52-${label}-${Date.now()}-${(count += 1)}`;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const summary = (entries: readonly LogEntry[]): string[] => entries.map((entry) => `${entry.index}@${entry.term}`);

interface Backend {
  readonly name: string;
  open(): Promise<{ storage: RaftStorage; reopen: () => Promise<RaftStorage>; done: () => Promise<void> }>;
}

const backends: readonly Backend[] = [
  {
    name: 'InMemoryRaftStorage',
    open: async () => {
      const storage = new InMemoryRaftStorage();
      return { storage, reopen: async () => storage, done: async () => undefined };
    },
  },
  {
    name: 'IndexedDbRaftStorage',
    open: async () => {
      const name = uniqueName('backend');
      let current = await IndexedDbRaftStorage.open(name);
      return {
        storage: current,
        reopen: async () => {
          current.close();
          current = await IndexedDbRaftStorage.open(name);
          return current;
        },
        done: async () => {
          current.close();
          await IndexedDbRaftStorage.destroy(name);
        },
      };
    },
  },
  {
    name: 'FileRaftStorage',
    open: async () => {
      const directory = mkdtempSync(join(tmpdir(), 'idb52-'));
      let current = await FileRaftStorage.open(directory);
      return {
        storage: current,
        reopen: async () => {
          await current.close();
          current = await FileRaftStorage.open(directory);
          return current;
        },
        done: async () => {
          await current.close();
          rmSync(directory, { recursive: true, force: true });
        },
      };
    },
  },
];

describe('Review idb52: close() racing a write (confirmed correct)', () => {
  it('confirmed correct: a truncating write (it reads inside its transaction) in flight when close() is called either lands whole or rejects; a storage opened at once after reads what resolved', async () => {
    const name = uniqueName('close-race');
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

  it('confirmed correct: two storages on one database (two tabs with the same id) cannot both be open: the second is refused inUse, and gets it once the first closes', async () => {
    const name = uniqueName('two-tabs');
    const first = await IndexedDbRaftStorage.open(name);
    await expect(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 50 })).rejects.toMatchObject({ reason: 'inUse' });
    const waiting = IndexedDbRaftStorage.open(name, { lockTimeoutMs: 2_000 });
    await first.saveTermAndVotedFor(4, nodeId('a'));
    first.close();
    const second = await waiting;
    expect([await second.term(), await second.votedFor()]).toEqual([4, 'a']);
    second.close();
    await IndexedDbRaftStorage.destroy(name);
  });
});

describe('Review idb52: RaftStorage rules the conformance suite does not check', () => {
  for (const backend of backends) {
    it(`${backend.name} (confirmed correct): a snapshot past the end of a NON-empty log does not let an append skip ahead to it: the log must stay contiguous`, async () => {
      const { storage, done } = await backend.open();
      try {
        await storage.appendEntries(makeEntries(1, 5, 1));
        await storage.saveSnapshot({ lastIncludedIndex: 50, lastIncludedTerm: 1 }, bytes('ahead'));
        await expect(storage.appendEntries(makeEntries(51, 51, 1))).rejects.toThrow(/expected index 6/);
        if (storage.writeBatch !== undefined) await expect(storage.writeBatch({ entries: makeEntries(51, 51, 1) })).rejects.toThrow(/expected index 6/);
        expect(summary(await storage.entries())).toEqual(summary(makeEntries(1, 5, 1)));
      } finally {
        await done();
      }
    });

    it(`${backend.name} (confirmed correct): a batch truncating below the first index (after a discard) empties the log and appends at the floor, atomically with its hard state`, async () => {
      const { storage, reopen, done } = await backend.open();
      try {
        if (storage.writeBatch === undefined) return;
        await storage.appendEntries(makeEntries(1, 20, 1));
        await storage.saveSnapshot({ lastIncludedIndex: 10, lastIncludedTerm: 1 }, bytes('ten'));
        await storage.discardLogPrefix(10);
        await storage.writeBatch({ hardState: { term: 2, votedFor: null }, truncateFrom: 3, entries: makeEntries(11, 12, 2) });
        expect(summary(await storage.entries())).toEqual(['11@2', '12@2']);
        const reopened = await reopen();
        expect([await reopened.term(), summary(await reopened.entries())]).toEqual([2, ['11@2', '12@2']]);
      } finally {
        await done();
      }
    });

    it(`${backend.name} (confirmed correct): runs of one client's dedup keys, empty commands and configs read back exactly, also after a discard and a truncation cut through the run`, async () => {
      const { storage, reopen, done } = await backend.open();
      try {
        const key = (client: string, requestId: number) => ({ dedupKey: { clientId: clientId(client), requestId } });
        const config = { old: { voters: [nodeId('a')] }, new: { voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] } };
        const written: LogEntry[] = [
          { index: 1, term: 1, command: new Uint8Array(0), isNoOp: true },
          { index: 2, term: 1, command: bytes('a1'), isNoOp: false, ...key('a', 1) },
          { index: 3, term: 1, command: bytes('a2'), isNoOp: false, ...key('a', 2) },
          { index: 4, term: 1, command: new Uint8Array(0), isNoOp: false, ...key('a', Number.MAX_SAFE_INTEGER) },
          { index: 5, term: 1, command: bytes('b1'), isNoOp: false, ...key('b', 0) },
          { index: 6, term: 1, command: bytes('a3'), isNoOp: false, ...key('a', 3) },
          { index: 7, term: 1, command: new Uint8Array(0), isNoOp: false, config },
          { index: 8, term: 1, command: bytes('a4'), isNoOp: false, config, ...key('a', 4) },
          { index: 9, term: 1, command: bytes('a5'), isNoOp: false, ...key('a', 5) },
        ];
        await storage.appendEntries(written);
        expect(await storage.entries()).toEqual(written);
        await storage.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, bytes('two'));
        await storage.discardLogPrefix(2); // the kept run now starts with a same-client entry
        await storage.truncateFrom(9);
        const reopened = await reopen();
        expect(await reopened.entries()).toEqual(written.slice(2, 8));
        expect(await reopened.entries(4)).toEqual(written.slice(3, 8));
      } finally {
        await done();
      }
    });
  }

  it('IndexedDbRaftStorage (confirmed correct): an aborted saveSnapshot keeps the previous snapshot whole, and an aborted discard keeps the whole log', async () => {
    const name = uniqueName('aborted-snapshot');
    const storage = await IndexedDbRaftStorage.open(name);
    await storage.appendEntries(makeEntries(1, 10, 1));
    await storage.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 1 }, bytes('three'));
    storage.close();
    for (const operation of ['saveSnapshot', 'discardLogPrefix'] as const) {
      const faulty = await IndexedDbRaftStorage.open(name, {
        beforeCommit: () => {
          throw new DOMException('injected', 'AbortError');
        },
      });
      const call = operation === 'saveSnapshot' ? faulty.saveSnapshot({ lastIncludedIndex: 8, lastIncludedTerm: 1 }, bytes('eight')) : faulty.discardLogPrefix(8);
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
