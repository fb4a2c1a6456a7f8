// The page of e2e/worker-build.spec.ts, loaded from `vite build` output: a one-node cluster whose
// engine and IndexedDB storage run in the module worker Vite bundled for createWorkerRaftNode,
// restarted once to show the storage inside the worker is durable.
import { createLoopbackNetwork, nodeId } from '../../src/index.ts';
import { createWorkerRaftNode } from '../../src/worker.ts';

declare global {
  interface Window {
    workerBuildTest: () => Promise<{ firstIndex: number; replayed: string[]; term: number }>;
  }
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

window.workerBuildTest = async () => {
  const id = nodeId('built');
  const storageName = `worker-build-${Math.random().toString(36).slice(2)}`;
  const open = () => createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name: storageName } });
  const first = await open();
  await first.awaitLeadership();
  const entry = await first.propose(new TextEncoder().encode('from the built worker'));
  await first.close();
  const second = await open();
  await second.awaitLeadership();
  const replayed: string[] = [];
  for await (const item of second.committedFrom(1)) {
    if (item.type === 'entry') replayed.push(text(item.entry.command));
    if ((item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : 0) >= entry.index) break;
  }
  const term = second.term.value;
  await second.close();
  return { firstIndex: entry.index, replayed, term };
};
