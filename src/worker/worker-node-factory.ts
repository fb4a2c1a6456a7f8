// `createNode` for joinRoom (or any code that hands out RaftNodeOptions): the same node with its
// engine in a Web Worker. It forwards every option a worker can take. A hand-written callback
// that forwarded only id, membership, transport and storage (as the README's example once did)
// dropped `onMetric`, which is how a room learns that its node wedged or was removed, and the
// room's `raftConfig`, without any type error (a newcomer's review of the documentation).
import { RaftStorageError } from '../core/errors.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode, RaftNodeOptions } from '../driver/node-options.ts';
import { closeStorage } from '../storage/close-storage.ts';
import type { StoredNodeState } from '../storage/stored-node-state.ts';
import type { WorkerRaftConfig, WorkerStorageOptions } from './protocol.ts';
import { createRunningDatabases } from './running-databases.ts';
import { createSpareWorkers } from './spare-workers.ts';
import { destroyStorageInWorker, readStoredStateKeepingWorker, type StorageErrandOptions } from './storage-errands.ts';
import { createWorkerRaftNode, createWorkerRaftNodeOn, validateWorkerStorage, workerClaimed, type KeptWorker, type WorkerEndpoint, type WorkerRaftNodeOptions } from './worker-client.ts';

export interface WorkerNodeFactoryOptions {
  /** Where the worker opens each node's storage. */
  readonly storage: (id: NodeId) => WorkerStorageOptions;
  /**
   * The worker for each node, and for each storage errand: a delete ends its worker, a read keeps
   * its worker for the id's node (keepReaderMs). By default createWorkerRaftNode creates one
   * (bundled by Vite).
   */
  readonly worker?: () => WorkerEndpoint;
  /**
   * How long the worker that read an id's storage (readStoredState) waits for that id's node,
   * which then starts on it instead of a fresh worker: joinRoom reads, then starts the node once
   * the room has answered. Default 30,000 ms; 0 ends each reader at once.
   */
  readonly keepReaderMs?: number;
}

/** How long a reader waits for its node by default: joinRoom's discovery takes a few seconds at most while signaling answers. */
export const defaultKeepReaderMs = 30_000;

/**
 * A node factory for joinRoom (its `createNode`): starts the node with its engine and storage in a
 * Web Worker, and works on an id's storage in a worker too, so the page never opens the database.
 */
export interface WorkerNodeFactory {
  (options: RaftNodeOptions): Promise<RaftNode>;
  /**
   * What the id's storage holds (a log or not, its term, its latest configuration), read in a
   * worker of its own. joinRoom calls it when given no `storage`, then usually starts the id's
   * node: that node starts on this worker if it comes within `keepReaderMs`; else the worker ends
   * (at once if `signal` aborts). A database that does not exist reads as empty and is not
   * created: the node's start creates it, so a join that goes no further leaves none behind.
   */
  readStoredState(id: NodeId, signal?: AbortSignal): Promise<StoredNodeState>;
  /**
   * Deletes the id's storage, in a worker of its own: pass it as joinRoom's `discardStorage`
   * (`discardStorage: factory.discardStorage`), which calls it only for an id it gave up for good,
   * once the node on it has closed. Refused (a RaftStorageError, reason 'inUse', naming the id)
   * while a node this factory started on that storage runs, is starting, or is closing (until its
   * close() has resolved: the worker closes the storage last), or has stopped by itself and was
   * not closed: deleting it would stop that node. Close the node (or leave the room) first.
   */
  discardStorage(id: NodeId): Promise<void>;
}

/** A fresh in-memory storage holds nothing: no worker needed to say so. */
const emptyStorage: StoredNodeState = { holdsLog: false, term: 0, configurations: [] };

export function workerNodeFactory(factory: WorkerNodeFactoryOptions): WorkerNodeFactory {
  if (typeof factory?.storage !== 'function') throw new TypeError('workerNodeFactory: `storage` must be a function from a node id to the worker\'s storage options, e.g. (id) => ({ type: "indexeddb", name: `board:${id}` })');
  const keepReaderMs = factory.keepReaderMs ?? defaultKeepReaderMs;
  if (!Number.isFinite(keepReaderMs) || keepReaderMs < 0) throw new RangeError(`workerNodeFactory: keepReaderMs must be a finite number of milliseconds, 0 or more (got ${String(keepReaderMs)})`);
  const readers = createSpareWorkers(keepReaderMs);
  const running = createRunningDatabases();
  const createNode = async (options: RaftNodeOptions): Promise<RaftNode> => {
    const { clock, random, ...raftConfig } = options.raftConfig ?? {};
    if (clock !== undefined || random !== undefined) {
      throw new TypeError('workerNodeFactory: raftConfig.clock and raftConfig.random cannot cross into a worker, which reads its own clock; leave them out, or run the node on the page (createRaftNode)');
    }
    const storage = factory.storage(options.id);
    // From here on: a discard while the node starts would delete what it is opening.
    const end = storage?.type === 'indexeddb' && typeof storage.name === 'string' ? running.begin(storage.name, options.id) : () => undefined;
    try {
      // A handle the caller opened on this page (joinRoom does when given `storage`): the worker
      // opens its own, and a second live handle on one database is refused (joinRoom closes it
      // again later, which IndexedDB's and files' tolerate).
      await closeStorage(options.storage);
      const reader = readers.take(options.id);
      const node = await (reader === null ? withWorker((worker) => startNode(options, storage, raftConfig, { worker })) : startNode(options, storage, raftConfig, { reader }));
      running.endWhenReleased(node, end);
      return node;
    } catch (error) {
      end();
      throw error;
    }
  };
  /**
   * Runs `use` with a worker from `factory.worker` (undefined: the callee creates its own). One
   * refused before the callee took it (bad options, a transport it cannot serve, a worker already
   * hosting a node) is still ours, and nobody else will end it.
   */
  const withWorker = async <T>(use: (worker: WorkerEndpoint | undefined) => Promise<T>): Promise<T> => {
    const worker = factory.worker?.();
    try {
      return await use(worker);
    } finally {
      if (worker !== undefined && !workerClaimed(worker)) worker.terminate();
    }
  };
  /** A storage errand, refused at once (no worker made) when `signal` has already aborted. */
  const inWorker = async <T>(signal: AbortSignal | undefined, run: (options: StorageErrandOptions) => Promise<T>): Promise<T> => {
    signal?.throwIfAborted();
    return withWorker((worker) => run({ ...(worker === undefined ? {} : { worker }), ...(signal === undefined ? {} : { signal }) }));
  };
  const storageOf = (id: NodeId): WorkerStorageOptions => {
    const storage = factory.storage(id);
    validateWorkerStorage(storage, `workerNodeFactory: storage(${JSON.stringify(id)})`);
    return storage;
  };
  return Object.assign(createNode, {
    readStoredState: async (id: NodeId, signal?: AbortSignal): Promise<StoredNodeState> => {
      const storage = storageOf(id);
      if (storage.type === 'memory') return emptyStorage;
      const ticket = readers.beginRead(id);
      const read = await inWorker(signal, (errand) => readStoredStateKeepingWorker(storage, id, errand)).catch((error: unknown) => {
        ticket.abandon();
        throw error;
      });
      ticket.keep(read.kept, signal);
      return read.state;
    },
    discardStorage: async (id: NodeId): Promise<void> => {
      const storage = storageOf(id);
      if (storage.type === 'memory') {
        readers.drop(id);
        return;
      }
      const holder = running.holder(storage.name);
      if (holder !== null) throw discardRefused(id, storage.name, holder);
      readers.drop(id);
      await inWorker(undefined, (errand) => destroyStorageInWorker(storage, errand));
    },
  });
}

function discardRefused(id: NodeId, database: string, holder: NodeId): RaftStorageError {
  const whose = holder === id ? 'its node' : `the node of ${JSON.stringify(holder)}, which has the same storage,`;
  return new RaftStorageError(
    `workerNodeFactory discardStorage(${JSON.stringify(id)}): ${whose} started by this factory is running on the database ${JSON.stringify(database)}, and deleting it would stop that node; close the node (or leave the room: await room.leave()) first`,
    { reason: 'inUse' },
  );
}

/** On the id's reader when one waits (it is then this call's), else on `worker` (undefined: a fresh one). */
function startNode(options: RaftNodeOptions, storage: WorkerStorageOptions, raftConfig: WorkerRaftConfig, on: { readonly worker: WorkerEndpoint | undefined } | { readonly reader: KeptWorker }): Promise<RaftNode> {
  const workerOptions: WorkerRaftNodeOptions = {
    id: options.id,
    clusterConfig: options.clusterConfig,
    transport: options.transport,
    storage,
    ...(options.raftConfig === undefined ? {} : { raftConfig }),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
    ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  if ('reader' in on) return createWorkerRaftNodeOn(workerOptions, on.reader);
  return createWorkerRaftNode(on.worker === undefined ? workerOptions : { ...workerOptions, worker: on.worker });
}
