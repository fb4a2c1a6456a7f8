// `createNode` for joinRoom (or any code that hands out RaftNodeOptions): the same node with its
// engine in a Web Worker. It forwards every option a worker can take. A hand-written callback
// that forwarded only id, membership, transport and storage (as the README's example once did)
// dropped `onMetric`, which is how a room learns that its node wedged or was removed, and the
// room's `raftConfig`, without any type error (a newcomer's review of the documentation).
import type { NodeId } from '../core/types.ts';
import type { RaftNode, RaftNodeOptions } from '../driver/node-options.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import type { WorkerRaftConfig, WorkerStorageOptions } from './protocol.ts';
import { createWorkerRaftNode, workerClaimed, type WorkerEndpoint } from './worker-client.ts';

export interface WorkerNodeFactoryOptions {
  /** Where the worker opens each node's storage. */
  readonly storage: (id: NodeId) => WorkerStorageOptions;
  /** The worker for each node; by default createWorkerRaftNode creates one (bundled by Vite). */
  readonly worker?: () => WorkerEndpoint;
}

export function workerNodeFactory(factory: WorkerNodeFactoryOptions): (options: RaftNodeOptions) => Promise<RaftNode> {
  if (typeof factory?.storage !== 'function') throw new TypeError('workerNodeFactory: `storage` must be a function from a node id to the worker\'s storage options, e.g. (id) => ({ type: "indexeddb", name: `board:${id}` })');
  return async (options) => {
    const { clock, random, ...raftConfig } = options.raftConfig ?? {};
    if (clock !== undefined || random !== undefined) {
      throw new TypeError('workerNodeFactory: raftConfig.clock and raftConfig.random cannot cross into a worker, which reads its own clock; leave them out, or run the node on the page (createRaftNode)');
    }
    const storage = factory.storage(options.id);
    // The handle a caller opened on this page (joinRoom does, to see whether a log is there): the
    // worker opens its own, and a second live handle on one database is refused.
    if (options.storage instanceof IndexedDbRaftStorage) options.storage.close();
    const worker = factory.worker?.();
    try {
      return await startNode(options, storage, raftConfig, worker);
    } catch (error) {
      // Refused before createWorkerRaftNode took it (bad options, a transport it cannot serve):
      // the worker is still ours, and nobody else will end it.
      if (worker !== undefined && !workerClaimed(worker)) worker.terminate();
      throw error;
    }
  };
}

function startNode(options: RaftNodeOptions, storage: WorkerStorageOptions, raftConfig: WorkerRaftConfig, worker: WorkerEndpoint | undefined): Promise<RaftNode> {
  return createWorkerRaftNode({
    id: options.id,
    clusterConfig: options.clusterConfig,
    transport: options.transport,
    storage,
    ...(options.raftConfig === undefined ? {} : { raftConfig }),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
    ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(worker === undefined ? {} : { worker }),
  });
}
