// The worker side of createWorkerRaftNode: the real engine (createRaftNode), its storage and the
// port transport, behind the plain-data API of protocol.ts. Every call answers with data (an
// outcome, never a throw), so errors reach the page as data it rebuilds into the same classes.
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createCommittedPumps, type CommittedPumps } from './committed-pump.ts';
import { serializeError } from './error-transfer.ts';
import { createNextTaskScheduler } from './next-task.ts';
import { openWorkerStorage, type OpenedStorage } from './open-storage.ts';
import type { CallOutcome, NodeState, PageEvent, SerializedError, StartRequest, WorkerNodeApi } from './protocol.ts';
import { createPortTransport, type PortTransport } from './transport-bridge.ts';
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

export interface WorkerNodeHost {
  readonly api: WorkerNodeApi;
  /** Committed items sent to the page so far (tests check the backpressure bound with it). */
  readonly committedItemsSent: number;
}

type Answer<T> = { type: 'ok'; value: T } | { type: 'error'; error: SerializedError };

const notRunning: SerializedError = { type: 'closed', message: 'the worker node is not running' };

/**
 * How often a leader republishes its replication progress: a follower's acknowledgements move it
 * without changing any observable (a learner catching up while nothing new commits), and a room
 * policy on the page needs to see when a learner has caught up. Unchanged state sends nothing.
 */
const progressIntervalMs = 250;

export function createWorkerNodeHost(): WorkerNodeHost {
  let running: Running | null = null;
  let starting = false;
  let outbox: EventOutbox | null = null;
  const states = createStateTracker();
  const calls = new Map<number, AbortController>();
  const burst = createBurstGate();

  /** Posts the events queued so far, then names the batch the answer must wait for (CallOutcome). */
  const answer = <T>(outcome: Answer<T>): CallOutcome<T> => ({ ...outcome, eventsThrough: outbox?.flush() ?? 0 });

  /** `afterBurst`: start the work once the messages queued now arrived too (see createBurstGate). */
  const call = async <T>(callId: number, work: (node: RaftNode, signal: AbortSignal) => Promise<T>, afterBurst = false): Promise<CallOutcome<T>> => {
    if (running === null) return answer({ type: 'error', error: notRunning });
    const node = running.node;
    const controller = new AbortController();
    calls.set(callId, controller);
    try {
      if (afterBurst) await burst.wait();
      const value = await work(node, controller.signal);
      return answer({ type: 'ok', value });
    } catch (error) {
      return answer({ type: 'error', error: serializeError(error) });
    } finally {
      calls.delete(callId);
    }
  };

  const start = async (request: StartRequest, transportPort: MessagePort, eventsPort: MessagePort): Promise<CallOutcome<NodeState>> => {
    if (running !== null || starting) return answer({ type: 'error', error: { type: 'typeError', message: 'this worker already hosts a node' } });
    starting = true;
    const events = createEventOutbox(eventsPort);
    try {
      running = await startNode(request, transportPort, events, states);
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
    start,
    propose: (callId, command, requestId) => call(callId, (node, signal) => node.propose(command, requestId === null ? { signal } : { requestId, signal }), true),
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
      burst.close();
      await stopNode(running);
      outbox.send({ type: 'state', state: states.current(running.node) });
      return answer({ type: 'ok', value: null });
    },
  };

  return {
    api,
    get committedItemsSent() {
      return running?.pumps.itemsSent ?? 0;
    },
  };
}

/**
 * Holds proposals until the messages queued now have been read, then lets them all into the
 * engine in one task: one engine step, one AppendEntries per peer for the whole burst. Without
 * it each proposal message is its own task, step and frame per peer (measured in bench:worker:
 * several times fewer commits per second with many proposals in flight).
 */
function createBurstGate(): { wait(): Promise<void>; close(): void } {
  let waiting: Array<() => void> = [];
  const scheduler = createNextTaskScheduler(() => {
    const release = waiting;
    waiting = [];
    for (const resume of release) resume();
  });
  return {
    wait: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        scheduler.schedule();
      }),
    close: () => {
      for (const resume of waiting) resume();
      waiting = [];
      scheduler.close();
    },
  };
}

/** Opens storage, starts the engine on the port transport and publishes its state as it changes. */
async function startNode(request: StartRequest, transportPort: MessagePort, outbox: EventOutbox, states: StateTracker): Promise<Running> {
  let storage: OpenedStorage | null = null;
  const transport = createPortTransport(request.id, transportPort, request.maxPayloadBytes);
  try {
    storage = await openWorkerStorage(request.storage);
    const node = await createRaftNode({
      id: request.id,
      clusterConfig: request.clusterConfig,
      transport,
      storage: storage.storage,
      ...(request.raftConfig === undefined ? {} : { raftConfig: request.raftConfig }),
      ...(request.identity === undefined ? {} : { identity: request.identity }),
      ...(request.metrics ? { onMetric: (metric) => outbox.send({ type: 'metric', metric }) } : {}),
    });
    const publish = (): void => outbox.send({ type: 'state', state: states.current(node) });
    const watched = [node.role, node.leader, node.term, node.membership, node.commitIndex, node.compactionFloor, node.stopped] as const;
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
