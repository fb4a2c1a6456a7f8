// Hosts a node in the current worker (or on any endpoint, for tests): for apps that build their
// own worker script and pass it as WorkerRaftNodeOptions.worker.
import { expose, type Endpoint } from 'comlink';
import { createWorkerNodeHost, type WorkerNodeHost, type WorkerNodeHostOptions } from './worker-host.ts';

export function exposeWorkerNode(endpoint: Endpoint = globalThis as unknown as Endpoint, options: WorkerNodeHostOptions = {}): WorkerNodeHost {
  const host = createWorkerNodeHost(options);
  expose(host.api, endpoint);
  return host;
}
