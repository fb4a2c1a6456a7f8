// A raftmesh worker that can be told to die: `crashForTest` throws an uncaught error in the worker,
// which the page sees as the Worker's `error` event, as it would for a bug or a failed allocation;
// `closeForTest` calls self.close(), which ends the worker with no event at all on the page, as a
// browser's out-of-memory kill does. Before closing it posts `{ closingAt }` (a time on the
// page's clock) so a test can measure how long the page took to notice.
import { exposeWorkerNode } from './expose-worker-node.ts';

exposeWorkerNode();

globalThis.addEventListener('message', (event: MessageEvent<unknown>) => {
  const data = event.data as { crashForTest?: unknown; closeForTest?: unknown } | null;
  if (typeof data !== 'object' || data === null) return;
  if (data.crashForTest === true) {
    setTimeout(() => {
      throw new Error('deliberate crash for a test');
    }, 0);
  } else if (data.closeForTest === true) {
    globalThis.postMessage({ closingAt: performance.timeOrigin + performance.now() });
    (globalThis as unknown as { close(): void }).close();
  }
});
