// InMemoryRaftStorage against the shared storage contract. "Reopen" hands back the same instance:
// in memory, the store lives exactly as long as the object.
import { InMemoryRaftStorage } from './in-memory-storage.ts';
import { describeStorageConformance } from './storage-conformance.ts';

describeStorageConformance('InMemoryRaftStorage', () => {
  const storage = new InMemoryRaftStorage();
  return { open: async () => storage, close: () => undefined, destroy: () => undefined };
});
