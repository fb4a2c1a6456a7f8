// createWorkerRaftNode: the same RaftNode as createRaftNode, with driver, core, codec and storage
// in a dedicated module worker, so a busy page (rendering, a long script) does not delay the
// engine's timers or its storage. The transport stays on the page (RTCPeerConnection exists only
// there) and is served to the worker over a MessagePort, unless the caller hands over a port
// whose other end is served elsewhere (see WorkerTransport). The WebRTC transport hands its data
// channels to the worker on that port, so Raft frames travel between workers without the page.
import { releaseProxy, transfer, wrap, type Remote } from 'comlink';
import type { RaftMetric } from '../core/events.ts';
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import { plainClusterConfig, validateClusterConfig, type ClientIdentity, type ClusterConfig, type NodeId } from '../core/types.ts';
import { closeWhenAborted } from '../driver/close-when-aborted.ts';
import type { RaftNode } from '../driver/node-options.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { rebuildError, WorkerCrashedError } from './error-transfer.ts';
import { type StartRequest, type WorkerNodeApi, type WorkerRaftConfig, type WorkerStorageOptions } from './protocol.ts';
import { createRemoteNode, type RemoteNode } from './remote-node.ts';
import { serveTransport } from './transport-bridge.ts';
import { lifeLockName, watchWorkerLife, webLocks, type LifeWatch, type LockRequester } from './worker-life.ts';

/**
 * A port whose other end serves a transport (serveTransport) in another context: a worker that
 * owns transferred RTCDataChannels, or a test network. Frames then bypass this page entirely.
 */
export interface TransportPort {
  readonly type: 'port';
  readonly selfId: NodeId;
  readonly port: MessagePort;
  readonly maxPayloadBytes?: number;
  readonly orderedFrameBytes?: number;
}

export type WorkerTransport = RaftTransport | TransportPort;

/** What the page needs of a Worker (a real one, or a stand-in in tests). */
export interface WorkerEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: Event) => void): void;
  removeEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate(): void;
}

export interface WorkerRaftNodeOptions {
  id: NodeId;
  /** Bootstrap membership, used only when storage holds none. */
  clusterConfig: ClusterConfig;
  transport: WorkerTransport;
  /** Opened inside the worker. */
  storage: WorkerStorageOptions;
  raftConfig?: WorkerRaftConfig;
  identity?: ClientIdentity;
  onMetric?: (metric: RaftMetric) => void;
  /** Aborting closes the node. */
  signal?: AbortSignal;
  /** A worker running raftmesh/worker's entry; by default one is created (bundled by Vite). */
  worker?: WorkerEndpoint;
}

/** How long close() waits for the worker to close its node and storage before terminating it anyway. */
const closeTimeoutMs = 10_000;

/**
 * Workers handed to createWorkerRaftNode in this page. A worker serves one node, once: it is
 * terminated when that node stops (or fails to start). A second call with the same worker is
 * refused before anything reaches it; the worker's own refusal came only after the page had
 * set itself up on it, and the failed call then terminated the worker under the live node.
 */
const claimedWorkers = new WeakSet<WorkerEndpoint>();

/** Whether createWorkerRaftNode took `worker` (it then terminates it when its node stops); else it is still its caller's. */
export function workerClaimed(worker: WorkerEndpoint): boolean {
  return claimedWorkers.has(worker);
}

/**
 * Per node this module started, when its worker was let go: after the worker closed the node and
 * its storage (close()), or once it was terminated (a crash, a close that timed out). The node's
 * `stopped` comes sooner: close() announces it before the worker has closed anything, and a node
 * that stops by itself in its worker keeps its storage open there until close().
 */
const releasedWorkers = new WeakMap<RaftNode, Promise<void>>();

/** When the worker of `node` (a node createWorkerRaftNode made) was let go, its storage closed with it; null for any other node. */
export function workerReleased(node: RaftNode): Promise<void> | null {
  return releasedWorkers.get(node) ?? null;
}

/**
 * Takes `worker` for one use (a node, or a storage errand), which ends by terminating it; refuses
 * one taken before. Callers check and claim in one task (no await between), so two calls cannot
 * both take a worker.
 */
export function claimWorker(worker: WorkerEndpoint): void {
  refuseClaimed(worker);
  claimedWorkers.add(worker);
}

function refuseClaimed(worker: WorkerEndpoint | undefined): void {
  if (worker !== undefined && claimedWorkers.has(worker)) throw new TypeError('this worker already hosts a node, or did: a worker serves one node, once (leave `worker` out and createWorkerRaftNode creates one)');
}

/**
 * A worker running raftmesh/worker's entry: the one place the entry is named, so a bundler finds
 * (and builds) one worker script. '.js', not '.ts': the published build (tsc) has
 * worker-entry.js beside this file, and Vite resolves the same URL to worker-entry.ts in the
 * sources; either way it bundles a module worker.
 */
export function createEntryWorker(name: string): WorkerEndpoint {
  return new Worker(new URL('./worker-entry.js', import.meta.url), { type: 'module', name });
}

/** Refuses, naming the fix, where no Worker exists and none is given. */
export function requireWorkerRuntime(worker: WorkerEndpoint | undefined, caller: string): void {
  if (worker === undefined && typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
    throw new TypeError(`${caller}: this runtime has no Worker; pass \`worker\` (an endpoint serving raftmesh/worker's entry: exposeWorkerNode on a MessagePort, or a worker_threads Worker wrapped as one)`);
  }
}

export async function createWorkerRaftNode(options: WorkerRaftNodeOptions): Promise<RaftNode> {
  validateWorkerOptions(options);
  options.signal?.throwIfAborted();
  refuseClaimed(options.worker);
  // Before the worker is touched: a transport that cannot be served fails the call with the
  // worker neither claimed nor wrapped (it stays usable by a call that goes through).
  const transportPort = connectTransport(options.transport);
  const worker = options.worker ?? createEntryWorker(`raftmesh ${options.id}`);
  // Claimed in the same task as the check above (no await between), so two calls cannot both pass it.
  claimWorker(worker);
  return startOnWorker(options, { endpoint: worker, remote: wrap<WorkerNodeApi>(worker), lifeLock: null }, transportPort);
}

/**
 * A worker that a storage read left running (storage-errands.ts), claimed and wrapped, with no
 * node on it yet: its module is loaded and compiled, which is most of what a fresh worker costs.
 */
export interface KeptWorker {
  readonly endpoint: WorkerEndpoint;
  readonly remote: Remote<WorkerNodeApi>;
  /**
   * The life lock (worker-life.ts) the worker holds already, taken with the read so that a death
   * while it waits is seen; the node's watch goes on with it (a worker takes one lock, once). Null:
   * none held, and the node asks for one.
   */
  readonly lifeLock: string | null;
}

/** Ends a kept worker that will host no node. */
export function endKeptWorker(kept: KeptWorker): void {
  kept.remote[releaseProxy]();
  kept.endpoint.terminate();
}

/**
 * createWorkerRaftNode on a kept worker (`options.worker` is not used): the call owns it from
 * here, and ends it if the node does not start, as it does a worker it created.
 */
export async function createWorkerRaftNodeOn(options: WorkerRaftNodeOptions, kept: KeptWorker): Promise<RaftNode> {
  let transportPort: ReturnType<typeof connectTransport>;
  try {
    validateWorkerOptions({ ...options, worker: kept.endpoint });
    options.signal?.throwIfAborted();
    transportPort = connectTransport(options.transport);
  } catch (error) {
    endKeptWorker(kept);
    throw error;
  }
  return startOnWorker(options, kept, transportPort);
}

/** Starts the node on a worker this call now owns: whatever happens, the worker ends with the node. */
async function startOnWorker(options: WorkerRaftNodeOptions, kept: KeptWorker, transportPort: ReturnType<typeof connectTransport>): Promise<RaftNode> {
  let request: StartRequest;
  try {
    request = startRequest(options);
  } catch (error) {
    transportPort.stop();
    endKeptWorker(kept);
    throw error;
  }
  const { endpoint: worker, remote, lifeLock } = kept;
  const events = new MessageChannel();
  let node: RemoteNode | null = null;
  let failStart: (error: unknown) => void = () => {};
  let released = false;
  // An uncaught error does not end a worker: the engine might go on sending frames and writing
  // storage behind a node the page reports stopped. Terminating it keeps the two views one.
  const crash = (error: WorkerCrashedError): void => {
    if (node === null) failStart(error);
    else node.fail(error);
    release();
  };
  const onCrash = (event: Event): void => crash(new WorkerCrashedError(crashDetail(event)));
  worker.addEventListener('error', onCrash);
  worker.addEventListener('messageerror', onCrash);
  const life = watchLife(remote, options.id, lifeLock, (closing) => (closing ? undefined : crash(new WorkerCrashedError(silentDeathDetail))));
  const onPortClosed = (): void => life.gone();
  let markReleased: () => void = () => undefined;
  const workerLetGo = new Promise<void>((resolve) => (markReleased = resolve));
  const release = (): void => {
    if (released) return;
    released = true;
    markReleased();
    life.stop();
    worker.removeEventListener('error', onCrash);
    worker.removeEventListener('messageerror', onCrash);
    events.port1.removeEventListener('close', onPortClosed);
    transportPort.stop();
    events.port1.close();
    remote[releaseProxy]();
    worker.terminate();
  };
  // An abort while the worker opens its storage (which can wait seconds for another tab's lock)
  // ends the start there: the worker, which this call owns, is terminated with whatever it opened.
  const onStartAborted = (): void => failStart(options.signal?.reason);
  options.signal?.addEventListener('abort', onStartAborted, { once: true });
  const outcome = await Promise.race([
    remote.start(request, transfer(transportPort.port, [transportPort.port]), transfer(events.port2, [events.port2])),
    new Promise<never>((_, reject) => (failStart = reject)),
  ])
    .catch((error: unknown) => {
      release();
      throw error;
    })
    .finally(() => options.signal?.removeEventListener('abort', onStartAborted));
  if (outcome.type === 'error') {
    release();
    throw rebuildError(outcome.error);
  }
  node = createRemoteNode(options.id, outcome.value, {
    api: remote,
    eventsPort: events.port1,
    onMetric: options.onMetric,
    shutdown: () => (released ? Promise.resolve() : shutdown(remote, life.closing(), release)),
  });
  // Where ports report their other end closing (Node's worker_threads, not today's browsers), a
  // worker that ended takes its end of the events port with it. Only now: while starting, the
  // worker closes that port itself when the start fails, and that answer says why.
  events.port1.addEventListener('close', onPortClosed);
  const created = node;
  releasedWorkers.set(created, workerLetGo);
  // Aborted as the start's answer came in (after it won the race above): the factory still fails,
  // at once; the node closes behind it (bounded: a stuck worker is terminated after 10 s).
  if (options.signal?.aborted === true) {
    void created.close();
    throw options.signal.reason;
  }
  closeWhenAborted(options.signal, created);
  return created;
}

/** What WorkerCrashedError says of a worker whose life lock (worker-life.ts) came free. */
export const silentDeathDetail = 'the worker ended without an error event (the browser killed it, for example out of memory, its process crashed, or it called self.close())';

interface LifeWatcher {
  /** The worker's context has ended (its life lock was granted to the page, or its port closed). */
  gone(): void;
  /** From now on an end is expected (close() was called): resolves when the worker has ended, or is terminated. */
  closing(): Promise<void>;
  stop(): void;
}

/**
 * Has the worker hold its life lock (worker-life.ts), or takes over `heldLock`, one it holds
 * already, then watches it from the page. `onGone` hears of the worker's end once, with whether
 * the page was closing it (then no crash). Without Web Locks on either side nothing is watched
 * here (see the events port's `close` above).
 */
function watchLife(remote: Remote<WorkerNodeApi>, nodeId: string, heldLock: string | null, onGone: (closing: boolean) => void): LifeWatcher {
  let stopped = false;
  let ended = false;
  let isClosing = false;
  let watch: LifeWatch | null = null;
  let resolveEnded: () => void = () => undefined;
  const endedPromise = new Promise<void>((resolve) => (resolveEnded = resolve));
  const gone = (): void => {
    if (stopped || ended) return;
    ended = true;
    resolveEnded();
    onGone(isClosing);
  };
  const locks = webLocks();
  // Asked before start, on the same ordered channel, so a worker that dies while opening its
  // storage is seen too.
  if (locks !== null) watch = heldLock !== null ? watchWorkerLife(locks, heldLock, gone) : holdAndWatchLife(remote, locks, lifeLockName(nodeId), gone);
  return {
    gone,
    closing() {
      isClosing = true;
      return endedPromise;
    },
    stop() {
      stopped = true;
      watch?.stop();
      // Stopped only as the worker is terminated (release), so it has ended now: a close() that
      // waits for its end (a crash while closing, whose answer will never come) returns at once
      // instead of after closeTimeoutMs.
      resolveEnded();
    },
  };
}

/**
 * Has the worker hold its life lock under `name` (worker-life.ts), then, once it does, watches it
 * from the page: `onGone` when the worker's context ends. `held` says whether it holds it (false
 * where the worker has no Web Locks, or was built before holdLifeLock existed: then no watch).
 * Whatever the worker asks next on the same channel comes after the request, so a death during
 * that call is seen too.
 */
export function holdAndWatchLife(remote: Remote<WorkerNodeApi>, locks: LockRequester, name: string, onGone: () => void): LifeWatch & { readonly held: Promise<boolean> } {
  let stopped = false;
  let watch: LifeWatch | null = null;
  const held = remote.holdLifeLock(name).catch(() => false);
  void held.then((holds) => {
    if (holds && !stopped) watch = watchWorkerLife(locks, name, onGone);
  });
  return {
    held,
    stop() {
      stopped = true;
      watch?.stop();
    },
  };
}

/**
 * Closes node and storage in the worker (bounded: a stuck worker is terminated anyway), then
 * releases it. A worker that is already gone cannot answer: its end (`ended`) finishes the wait.
 */
async function shutdown(remote: Remote<WorkerNodeApi>, ended: Promise<void>, release: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([remote.close(), ended, new Promise((resolve) => (timer = setTimeout(resolve, closeTimeoutMs)))]);
  } catch {
    // A crashed or terminated worker cannot close anything more: releasing it is all that is left.
  } finally {
    clearTimeout(timer);
    release();
  }
}

function connectTransport(transport: WorkerTransport): { port: MessagePort; stop(): void } {
  if ('type' in transport && transport.type === 'port') return { port: transport.port, stop: () => {} };
  const channel = new MessageChannel();
  const stopServing = serveTransport(transport as RaftTransport, channel.port1);
  return { port: channel.port2, stop: stopServing };
}

function startRequest(options: WorkerRaftNodeOptions): StartRequest {
  const { maxPayloadBytes, orderedFrameBytes } = options.transport;
  // Copied into plain data: an option object may be a Proxy (a reactive store's), which the
  // structured clone of the start message would refuse (plainClusterConfig).
  return {
    id: options.id,
    clusterConfig: plainClusterConfig(options.clusterConfig),
    storage: { ...options.storage },
    metrics: options.onMetric !== undefined,
    ...(options.raftConfig === undefined ? {} : { raftConfig: { ...options.raftConfig } }),
    ...(options.identity === undefined ? {} : { identity: { ...options.identity } }),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(orderedFrameBytes === undefined ? {} : { orderedFrameBytes }),
  };
}

/** What a worker's `error` or `messageerror` event says, for WorkerCrashedError. */
export function crashDetail(event: Event): string {
  if (event.type === 'messageerror') return 'a message from the worker could not be deserialized';
  const message = (event as ErrorEvent).message;
  return typeof message === 'string' && message.length > 0 ? message : 'the worker failed (an uncaught error or a script that could not load)';
}

function validateWorkerOptions(options: WorkerRaftNodeOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('createWorkerRaftNode needs an options object');
  if (typeof options.id !== 'string' || options.id.length === 0) throw new RangeError('WorkerRaftNodeOptions.id must be a NodeId (nodeId("a"))');
  const transport = options.transport as Partial<RaftTransport & TransportPort> | undefined;
  if (transport === undefined || (transport.type !== 'port' && typeof transport.send !== 'function')) {
    throw new TypeError('WorkerRaftNodeOptions.transport must be a RaftTransport or { type: "port", selfId, port }');
  }
  if (transport.selfId !== options.id) throw new RangeError(`WorkerRaftNodeOptions.transport.selfId (${String(transport.selfId)}) must equal WorkerRaftNodeOptions.id (${options.id})`);
  validateWorkerStorage(options.storage, 'WorkerRaftNodeOptions.storage');
  // Checked here as well as in the worker: a worker that never answers (a wrong script, a
  // MessagePort nobody serves) left these mistakes as a call that never settled.
  validateClusterConfig(options.clusterConfig);
  const raftConfig = (options.raftConfig ?? {}) as RaftConfig;
  if (raftConfig.clock !== undefined || raftConfig.random !== undefined) {
    throw new TypeError('WorkerRaftNodeOptions.raftConfig cannot hold a clock or random source: functions cannot cross into the worker, which uses its own (use createRaftNode for an injected clock)');
  }
  resolveRaftConfig(raftConfig);
  requireWorkerRuntime(options.worker, 'createWorkerRaftNode');
}

export function validateWorkerStorage(value: WorkerStorageOptions, what: string): void {
  const storage = value as Partial<WorkerStorageOptions & { name: unknown }> | undefined;
  if (storage?.type === 'indexeddb' ? typeof storage.name !== 'string' || storage.name.length === 0 : storage?.type !== 'memory') {
    throw new RangeError(`${what} must be { type: "indexeddb", name, durability? } or { type: "memory" }`);
  }
  // Checked on the page too: in the worker alone, a misspelt durability surfaced only once the
  // worker had loaded and opened, as an error of IndexedDbRaftStorage's (the browser newcomer).
  const durability = (storage as { durability?: unknown }).durability;
  if (storage?.type === 'indexeddb' && durability !== undefined && durability !== 'strict' && durability !== 'relaxed') {
    throw new RangeError(`${what}.durability = ${JSON.stringify(durability) ?? String(durability)} must be "strict" (the default: each write durable before it resolves) or "relaxed"`);
  }
}
