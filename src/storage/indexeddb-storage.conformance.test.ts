// IndexedDbRaftStorage against the shared storage contract, in Node on fake-indexeddb (the same
// suite runs on Chromium's real IndexedDB in indexeddb-storage.browser.test.ts).
import 'fake-indexeddb/auto';
import { indexedDbFixture } from './indexeddb-storage.fixture.test-support.ts';
import { describeStorageConformance } from './storage-conformance.ts';

describeStorageConformance('IndexedDbRaftStorage (fake-indexeddb, strict)', indexedDbFixture('strict'));
