// IndexedDB behaviour in Node, on fake-indexeddb (the same file runs in Chromium as
// indexeddb-storage.browser.test.ts).
import 'fake-indexeddb/auto';
import { describeIndexedDbBehaviour } from './indexeddb-storage.behaviour.test-support.ts';

describeIndexedDbBehaviour();
