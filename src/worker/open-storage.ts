// Storage is opened inside the worker from its description (a RaftStorage object cannot cross
// the boundary: it holds an IndexedDB connection and closures).
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import type { WorkerStorageOptions } from './protocol.ts';

export interface OpenedStorage {
  readonly storage: RaftStorage;
  close(): void;
}

export async function openWorkerStorage(options: WorkerStorageOptions): Promise<OpenedStorage> {
  switch (options.type) {
    case 'memory':
      return { storage: new InMemoryRaftStorage(), close: () => {} };
    case 'indexeddb':
      return openIndexedDb(options.name, options.durability ?? 'strict');
  }
}

async function openIndexedDb(name: string, durability: 'strict' | 'relaxed'): Promise<OpenedStorage> {
  const storage = await IndexedDbRaftStorage.open(name, { durability });
  return { storage, close: () => storage.close() };
}
