// Storage is opened inside the worker from its description (a RaftStorage object cannot cross
// the boundary: it holds an IndexedDB connection and closures).
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
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

async function openIndexedDb(name: string, _durability: 'strict' | 'relaxed'): Promise<OpenedStorage> {
  // IndexedDbRaftStorage (src/storage/indexeddb-storage.ts) is being written alongside this
  // module; until it lands, say so plainly rather than fall back to memory and lose durability.
  throw new RangeError(`WorkerStorageOptions { type: 'indexeddb', name: ${JSON.stringify(name)} }: IndexedDB storage is not available in this build yet`);
}
