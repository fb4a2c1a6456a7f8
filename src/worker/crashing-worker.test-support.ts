// A raftmesh worker that can be told to crash: an uncaught error thrown in the worker, which
// the page sees as the Worker's `error` event, as it would for a bug or a failed allocation.
import { exposeWorkerNode } from './expose-worker-node.ts';

exposeWorkerNode();

globalThis.addEventListener('message', (event: MessageEvent<unknown>) => {
  const data = event.data as { crashForTest?: unknown } | null;
  if (typeof data !== 'object' || data === null || data.crashForTest !== true) return;
  setTimeout(() => {
    throw new Error('deliberate crash for a test');
  }, 0);
});
