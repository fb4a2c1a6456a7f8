// The module worker createWorkerRaftNode starts by default (Vite bundles it from the
// `new Worker(new URL('./worker-entry.ts', import.meta.url))` in worker-client.ts).
import { exposeWorkerNode } from './expose-worker-node.ts';

exposeWorkerNode();
