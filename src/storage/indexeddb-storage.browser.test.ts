// IndexedDbRaftStorage on Chromium's real IndexedDB: the shared storage contract with strict and
// relaxed durability, and the IndexedDB-specific behaviour (failures, a node stopping loudly, a
// node restarting from its database), plus what only Chromium does.
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { describeIndexedDbBehaviour } from './indexeddb-storage.behaviour.test-support.ts';
import { indexedDbFixture } from './indexeddb-storage.fixture.test-support.ts';
import { IndexedDbRaftStorage } from './indexeddb-storage.ts';
import { describeStorageConformance } from './storage-conformance.ts';

describeStorageConformance('IndexedDbRaftStorage (Chromium, strict)', indexedDbFixture('strict'));
describeStorageConformance('IndexedDbRaftStorage (Chromium, relaxed)', indexedDbFixture('relaxed'));
describeIndexedDbBehaviour();

describe('IndexedDbRaftStorage: what Chromium refuses per request', () => {
  it("a snapshot above Chromium's one-value limit (127 MiB in an ephemeral context) fails the storage naming the size, not a bare AbortError", async () => {
    const name = `one-value-limit-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name);
    // Chromium refuses the put itself (UnknownError), which aborts the transaction; Playwright's
    // contexts are ephemeral like an incognito window, where large values are not moved to blobs.
    const refusal: unknown = await storage.saveSnapshot({ lastIncludedIndex: 1, lastIncludedTerm: 1 }, new Uint8Array(134 * 1024 * 1024)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RaftStorageError);
    expect((refusal as RaftStorageError).message).toMatch(/UnknownError: The serialized keys and\/or value are too large/);
    storage.close();
    await IndexedDbRaftStorage.destroy(name);
  }, 120_000);
});
