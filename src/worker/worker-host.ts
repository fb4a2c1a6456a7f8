// The worker side of createWorkerRaftNode: the real engine (createRaftNode), its storage and the
// port transport, behind the plain-data API of protocol.ts. Every call answers with data (an
// outcome, never a throw), so errors reach the page as data it rebuilds into the same classes.
import type { ClusterConfig, NodeId, RaftEnvelope } from '../core/types.ts';
import { createRaftNodeForWorkerHost } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createCommittedPumps, type CommittedPumps } from './committed-pump.ts';
import { serializeError } from './error-transfer.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { raftDatabaseExists } from '../storage/indexeddb/database-exists.ts';
import { emptyStoredNodeState, readStoredNodeState } from '../storage/stored-node-state.ts';
import { openWorkerStorage, type OpenedStorage } from './open-storage.ts';
import { decodeProposalBurst } from './proposal-records.ts';
import type { Answer, CallOutcome, NodeState, PageEvent, SerializedError, StartRequest, WorkerNodeApi } from './protocol.ts';
import { createPortTransport, type PortTransport } from './transport-bridge.ts';
import { holdLifeLock, webLocks, type HeldLifeLock } from './worker-life.ts';
import { createEventOutbox, createStateTracker, type EventOutbox, type StateTracker } from './worker-outbox.ts';

interface Running {
  readonly node: RaftNode;
  readonly storage: OpenedStorage;
  readonly transport: PortTransport;
  readonly pumps: CommittedPumps;
  readonly unsubscribes: Array<() => void>;
  /** Set while the page listens to trace events. */
  stopTrace: (() => void) | null;
}

export interface WorkerNodeHostOptions {
  /**
   * Sees every Raft frame the node receives, whichever way it came (through the page, or on a
   * data channel handed to this worker): for diagnostics and benchmarks in an app's own worker
   * script. Called before the engine handles the frame; it must not keep or change the bytes.
   */
  readonly onFrame?: (envelope: RaftEnvelope) => void;
}

export interface WorkerNodeHost {
  readonly api: WorkerNodeApi;
  /** Committed items sent to the page so far (tests check the backpressure bound with it). */
  readonly committedItemsSent: number;
}


const notRunning: SerializedError = { type: 'closed', message: 'the worker node is not running' };

/**
 * How often a leader republishes its replication progress: a follower's acknowledgements move it
 * without changing any observable (a learner catching up while nothing new commits), and a room
 * policy on the page needs to see when a learner has caught up. Unchanged state sends nothing.
 */
const progressIntervalMs = 250;

export function createWorkerNodeHost(options: WorkerNodeHostOptions = {}): WorkerNodeHost {
  let running: Running | null = null;
  let starting = false;
  let outbox: EventOutbox | null = null;
  const states = createStateTracker();
  const calls = new Map<number, AbortController>();
  let lifeLock: HeldLifeLock | null = null;
  let lifeLockRequested = false;

  /** Posts the events queued so far, then names the batch the answer must wait for (CallOutcome). */
  const answer = <T>(outcome: Answer<T>): CallOutcome<T> => ({ ...outcome, eventsThrough: outbox?.flush() ?? 0 });

  /** Runs work on the node; its outcome as data (an error becomes a SerializedError). */
  const outcomeOf = async <T>(work: (node: RaftNode) => Promise<T>): Promise<Answer<T>> => {
    if (running === null) return { type: 'error', error: notRunning };
    try {
      return { type: 'ok', value: await work(running.node) };
    } catch (error) {
      return { type: 'error', error: serializeError(error) };
    }
  };
  /** Runs a call on the node, abortable by its id. */
  const run = async <T>(callId: number, work: (node: RaftNode, signal: AbortSignal) => Promise<T>): Promise<Answer<T>> => {
    const controller = new AbortController();
    calls.set(callId, controller);
    try {
      return await outcomeOf((node) => work(node, controller.signal));
    } finally {
      calls.delete(callId);
    }
  };
  /** A call answered by its Comlink return value. */
  const call = async <T>(callId: number, work: (node: RaftNode, signal: AbortSignal) => Promise<T>): Promise<CallOutcome<T>> => answer(await run(callId, work));

  /** Work on a storage no node here runs on (answered as data, like every call). */
  const storageErrand = async <T>(work: () => Promise<T>): Promise<Answer<T>> => {
    if (running !== null || starting) return { type: 'error', error: { type: 'typeError', message: 'this worker hosts a node: its storage is read and deleted only in a worker of its own' } };
    try {
      return { type: 'ok', value: await work() };
    } catch (error) {
      return { type: 'error', error: serializeError(error) };
    }
  };

  const start = async (request: StartRequest, transportPort: MessagePort, eventsPort: MessagePort): Promise<CallOutcome<NodeState>> => {
    if (running !== null || starting) return answer({ type: 'error', error: { type: 'typeError', message: 'this worker already hosts a node' } });
    starting = true;
    const events = createEventOutbox(eventsPort);
    try {
      running = await startNode(request, transportPort, events, states, options.onFrame);
      outbox = events;
      const pumps = running.pumps;
      eventsPort.addEventListener('message', (event: MessageEvent<PageEvent>) => {
        if (typeof event.data === 'object' && event.data !== null) pumps.handle(event.data);
      });
      eventsPort.start();
      return answer({ type: 'ok', value: states.current(running.node) });
    } catch (error) {
      eventsPort.close();
      return answer({ type: 'error', error: serializeError(error) });
    } finally {
      starting = false;
    }
  };

  const api: WorkerNodeApi = {
    async holdLifeLock(name) {
      const locks = webLocks();
      if (locks === null || lifeLockRequested || typeof name !== 'string') return false;
      lifeLockRequested = true;
      lifeLock = await holdLifeLock(locks, name);
      return lifeLock !== null;
    },
    readStoredState: (storage) => storageErrand(async () => {
      // Not opened when it does not exist: the open would create it, and a join that goes no
      // further (aborted, failed) left that empty database behind. The node's start creates it.
      if (storage.type === 'indexeddb' && (await raftDatabaseExists(storage.name)) === false) return emptyStoredNodeState;
      const opened = await openWorkerStorage(storage);
      try {
        return await readStoredNodeState(opened.storage);
      } finally {
        opened.close();
      }
    }),
    destroyStorage: (storage) => storageErrand(async () => {
      if (storage.type === 'indexeddb') await IndexedDbRaftStorage.destroy(storage.name);
      return null;
    }),
    start,
    proposeBatch(batch) {
      // All of them enter the engine in this task: one step, one AppendEntries per peer. (The
      // engine copies each command, so views into the batch's buffer are fine.)
      for (const { callId, command, requestId, abortable } of decodeProposalBurst(batch)) {
        // A proposal without a signal on the page cannot be aborted: no controller for it.
        const answered = abortable
          ? run(callId, (node, signal) => node.propose(command, requestId === null ? { signal } : { requestId, signal }))
          : outcomeOf((node) => node.propose(command, requestId === null ? undefined : { requestId }));
        void answered.then((result) => outbox?.send({ type: 'answer', callId, answer: result }));
      }
    },
    readIndex: (callId) => call(callId, (node, signal) => node.readIndex({ signal })),
    changeMembership: (callId, target: ClusterConfig) => call(callId, (node, signal) => node.changeMembership(target, { signal })),
    transferLeadership: (callId, target: NodeId) => call(callId, async (node, signal) => (await node.transferLeadership(target, { signal }), null)),
    awaitLeadership: (callId) => call(callId, async (node, signal) => (await node.awaitLeadership({ signal }), null)),
    abort: (callId) => calls.get(callId)?.abort(new DOMException('aborted on the page', 'AbortError')),
    setTrace(enabled) {
      if (running === null || outbox === null) return;
      const send = outbox.send;
      running.stopTrace?.();
      running.stopTrace = enabled ? running.node.trace.subscribe((event) => send({ type: 'trace', event })) : null;
    },
    cancelTransfer: () => running?.node.cancelTransfer(),
    publishSnapshot(snapshot) {
      if (running === null) return answer({ type: 'error', error: notRunning });
      try {
        running.node.publishSnapshot(snapshot);
        return answer({ type: 'ok', value: null });
      } catch (error) {
        return answer({ type: 'error', error: serializeError(error) });
      }
    },
    async close() {
      if (running === null || outbox === null) return answer({ type: 'error', error: notRunning });
      await stopNode(running);
      outbox.send({ type: 'state', state: states.current(running.node) });
      const closed = answer({ type: 'ok', value: null });
      // Last, after the final events are posted: the page knows it asked to close, so the grant
      // this causes on the page only tells it that the worker has nothing left to do.
      lifeLock?.release();
      return closed;
    },
  };

  return {
    api,
    get committedItemsSent() {
      return running?.pumps.itemsSent ?? 0;
    },
  };
}

/** Opens storage, starts the engine on the port transport and publishes its state as it changes. */
async function startNode(request: StartRequest, transportPort: MessagePort, outbox: EventOutbox, states: StateTracker, onFrame: WorkerNodeHostOptions['onFrame']): Promise<Running> {
  let storage: OpenedStorage | null = null;
  const transport = createPortTransport(request.id, transportPort, request.maxPayloadBytes, request.orderedFrameBytes);
  // Subscribed before the engine, so it sees each frame first.
  if (onFrame !== undefined) transport.incoming.subscribe(onFrame);
  try {
    storage = await openWorkerStorage(request.storage);
    const node = await createRaftNodeForWorkerHost({
      id: request.id,
      clusterConfig: request.clusterConfig,
      transport,
      storage: storage.storage,
      ...(request.raftConfig === undefined ? {} : { raftConfig: request.raftConfig }),
      ...(request.identity === undefined ? {} : { identity: request.identity }),
      ...(request.metrics ? { onMetric: (metric) => outbox.send({ type: 'metric', metric }) } : {}),
    });
    const publish = (): void => outbox.send({ type: 'state', state: states.current(node) });
    // The applied index too: the page starts committed() after it, and a follower's moves alone
    // when its write of entries it already knew committed ends.
    const watched = [node.role, node.leader, node.term, node.membership, node.commitIndex, node.compactionFloor, node.stopped, ...(node.clientId === undefined ? [] : [node.clientId]), ...(node.applied === undefined ? [] : [node.applied])] as const;
    const unsubscribes = watched.map((watchable) => (watchable as { subscribe(listener: () => void): () => void }).subscribe(publish));
    const progressTimer = setInterval(() => {
      if (node.role.value === 'leader') publish();
    }, progressIntervalMs);
    unsubscribes.push(() => clearInterval(progressTimer));
    return { node, storage, transport, pumps: createCommittedPumps(node, outbox.send), unsubscribes, stopTrace: null };
  } catch (error) {
    storage?.close();
    transport.close();
    throw error;
  }
}

/** Closes the node, ends the page's streams, closes storage and the transport port. */
async function stopNode(running: Running): Promise<void> {
  await running.node.close();
  running.pumps.closeAll();
  running.storage.close();
  running.transport.close();
  for (const unsubscribe of running.unsubscribes) unsubscribe();
  running.stopTrace?.();
}
