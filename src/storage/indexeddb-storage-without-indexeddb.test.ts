// IndexedDbRaftStorage where there is no IndexedDB (Node without fake-indexeddb): a clear error
// that names the storage to use there, not a bare "ReferenceError: indexedDB is not defined".
import { describe, expect, it } from 'vitest';
import { IndexedDbRaftStorage } from './indexeddb-storage.ts';

describe('IndexedDbRaftStorage without IndexedDB', () => {
  it('open and destroy name FileRaftStorage and InMemoryRaftStorage instead', async () => {
    expect(typeof (globalThis as { indexedDB?: unknown }).indexedDB).toBe('undefined');
    await expect(IndexedDbRaftStorage.open('board')).rejects.toThrow(new TypeError('IndexedDbRaftStorage.open: this runtime has no IndexedDB (Node has none): use FileRaftStorage from raftmesh/node there, or InMemoryRaftStorage in tests'));
    await expect(IndexedDbRaftStorage.destroy('board')).rejects.toThrow(/IndexedDbRaftStorage\.destroy: this runtime has no IndexedDB/);
  });
});
