// The IndexedDbRaftStorage fixture for the conformance suite, shared by the Node run (on
// fake-indexeddb) and the Chromium run (real IndexedDB).
import { IndexedDbRaftStorage } from './indexeddb-storage.ts';
import type { RaftStorage } from './raft-storage.ts';
import type { StorageFixture } from './storage-conformance.ts';

let fixtureCount = 0;

export function indexedDbFixture(durability: 'strict' | 'relaxed'): () => StorageFixture {
  return () => {
    fixtureCount += 1;
    const name = `conformance-${durability}-${Date.now()}-${fixtureCount}`;
    return {
      open: () => IndexedDbRaftStorage.open(name, { durability }),
      openAborting: () =>
        IndexedDbRaftStorage.open(name, {
          durability,
          beforeCommit: () => {
            throw new DOMException('injected fault: the transaction is aborted', 'AbortError');
          },
        }),
      close: (storage: RaftStorage) => (storage as IndexedDbRaftStorage).close(),
      destroy: () => IndexedDbRaftStorage.destroy(name),
    };
  };
}
