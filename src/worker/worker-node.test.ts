// The RaftNode contract against createWorkerRaftNode in Node, each "worker" an in-process host
// behind a MessageChannel (in-process-worker.test-support.ts): the whole boundary protocol runs,
// quickly, without a browser. worker-node.browser.test.ts runs it again with real workers.
import 'fake-indexeddb/auto'; // the restart test opens IndexedDB storage inside the (in-process) worker
import { describeRaftNodeContract } from '../driver/raft-node-contract.test-support.ts';
import { createInProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerHarness } from './worker-harness.test-support.ts';

describeRaftNodeContract('createWorkerRaftNode (in-process worker)', createWorkerHarness(() => createInProcessWorker()));
