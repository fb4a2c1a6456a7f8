// A database the browser deleted as corrupt and recreated empty (Chromium, after a SIGKILL in the
// middle of a write: `npm run bench:indexeddb-kill`) must not pass for a node that never existed.
// Chromium says so only through the `dataLoss` field of that open's upgradeneeded event, which
// fake-indexeddb does not have: the browser's event is imitated by setting the field before idb's
// own listener reads it.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { nodeId } from '../../core/types.ts';
import { IndexedDbRaftStorage } from '../indexeddb-storage.ts';

const realOpen = indexedDB.open.bind(indexedDB);

/** The next opens that create a database report what the browser lost, as Chromium's would. */
function browserReportsLoss(dataLoss: string, dataLossMessage: string): void {
  indexedDB.open = (name: string, version?: number): IDBOpenDBRequest => {
    const request = realOpen(name, version);
    // Registered before idb's listener, so it runs first on the same event.
    request.addEventListener('upgradeneeded', (event) => {
      Object.defineProperty(event, 'dataLoss', { value: dataLoss });
      Object.defineProperty(event, 'dataLossMessage', { value: dataLossMessage });
    });
    return request;
  };
}

afterEach(() => {
  indexedDB.open = realOpen;
});

let counter = 0;
const freshName = (): string => `data-loss-${(counter += 1)}`;

describe('IndexedDbRaftStorage when the browser deleted the database', () => {
  it('refuses to open, naming the loss and the browser\'s words, on that open and every later one until destroyed', async () => {
    const name = freshName();
    browserReportsLoss('total', 'IndexedDB (database was corrupt): checksum mismatch');
    const first = IndexedDbRaftStorage.open(name);
    await expect(first).rejects.toBeInstanceOf(RaftStorageError);
    await expect(first).rejects.toMatchObject({ reason: 'dataLost' });
    await expect(first).rejects.toThrow(/deleted the database "raftmesh:data-loss-\d+" as corrupt.*checksum mismatch.*must not come back under its id/);

    // Later opens see an ordinary (empty) database, but the mark stays.
    indexedDB.open = realOpen;
    await expect(IndexedDbRaftStorage.open(name)).rejects.toMatchObject({ reason: 'dataLost' });
    // The failed opens released the database lock: a destroy goes through, and the name starts over.
    await IndexedDbRaftStorage.destroy(name);
    const reopened = await IndexedDbRaftStorage.open(name);
    expect(await reopened.entries()).toEqual([]);
    reopened.close();
  });

  it('opens as usual when the browser reports no loss, or loss of anything less than the whole database', async () => {
    for (const dataLoss of ['none', 'partial']) {
      const name = freshName();
      browserReportsLoss(dataLoss, '');
      const storage = await IndexedDbRaftStorage.open(name);
      await storage.saveTermAndVotedFor(3, nodeId('b'));
      storage.close();
      indexedDB.open = realOpen;
      const again = await IndexedDbRaftStorage.open(name);
      expect(await again.term()).toBe(3);
      again.close();
    }
  });

  it('a database with its data keeps opening: the mark is made only where the browser recreated one', async () => {
    const name = freshName();
    const storage = await IndexedDbRaftStorage.open(name);
    await storage.saveTermAndVotedFor(5, nodeId('a'));
    await storage.appendEntries([{ index: 1, term: 5, command: new Uint8Array([1]), isNoOp: false }]);
    storage.close();
    // An open of an existing database at its version fires no upgradeneeded, whatever is set.
    browserReportsLoss('total', 'ignored');
    const again = await IndexedDbRaftStorage.open(name);
    expect(await again.term()).toBe(5);
    expect((await again.entries()).map((entry) => entry.index)).toEqual([1]);
    again.close();
  });
});
