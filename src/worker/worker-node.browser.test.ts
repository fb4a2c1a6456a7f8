// The RaftNode contract against createWorkerRaftNode in headless Chromium: every engine in its own
// module worker (the default one createWorkerRaftNode builds, bundled by Vite), every transport a
// loopback transport on the page, real time. With raft-node.test.ts this proves createRaftNode and
// createWorkerRaftNode interchangeable.
import { describeRaftNodeContract } from '../driver/raft-node-contract.test-support.ts';
import { createWorkerHarness } from './worker-harness.test-support.ts';

describeRaftNodeContract('createWorkerRaftNode (module worker, Chromium)', createWorkerHarness(() => undefined));
