// IndexedDbRaftStorage on Chromium's real IndexedDB: the shared storage contract with strict and
// relaxed durability, and the IndexedDB-specific behaviour (failures, a node stopping loudly, a
// node restarting from its database).
import { describeIndexedDbBehaviour } from './indexeddb-storage.behaviour.test-support.ts';
import { indexedDbFixture } from './indexeddb-storage.fixture.test-support.ts';
import { describeStorageConformance } from './storage-conformance.ts';

describeStorageConformance('IndexedDbRaftStorage (Chromium, strict)', indexedDbFixture('strict'));
describeStorageConformance('IndexedDbRaftStorage (Chromium, relaxed)', indexedDbFixture('relaxed'));
describeIndexedDbBehaviour();
