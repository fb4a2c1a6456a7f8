// The worker side of createWorkerRaftNode: the real engine (createRaftNode), its storage and the
// port transport, behind the plain-data API of protocol.ts. Every call answers with data (an
// outcome, never a throw), so errors reach the page as data it rebuilds into the same classes.
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createCommittedPumps, type CommittedPumps } from './committed-pump.ts';
import { serializeError } from './error-transfer.ts';
import { openWorkerStorage, type OpenedStorage } from './open-storage.ts';
import type { CallOutcome, NodeState, PageEvent, SerializedError, StartRequest, WorkerEvent, WorkerEventBatch, WorkerNodeApi } from './protocol.ts';
import { createPortTransport, type PortTransport } from './transport-bridge.ts';

interface Running {
  readonly node: RaftNode;
  readonly storage: OpenedStorage;
  readonly transport: PortTransport;
  readonly eventsPort: MessagePort;
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

const notStarted = { type: 'error', error: { type: 'closed', message: 'the worker node is not running' }, state: null, eventsThrough: 0 } as const;

export function createWorkerNodeHost(): WorkerNodeHost {
  let running: Running | null = null;
  let starting = false;
  let outbox: WorkerEvent[] = [];
  let sequence = 0;
  let lastState: NodeState | null = null;
  const calls = new Map<number, AbortController>();

  const currentState = (node: RaftNode): NodeState => {
    const stoppedBy = node.stopped.value;
    const fields = {
      role: node.role.value,
      leader: node.leader.value,
      term: node.term.value,
      membership: node.membership.value,
      commitIndex: node.commitIndex.value,
      compactionFloor: node.compactionFloor.value,
      stopped: stoppedBy === null ? null : serializeError(stoppedBy),
      replicationProgress: node.role.value === 'leader' ? [...(node.replicationProgress?.() ?? [])] : [],
    };
    if (lastState === null || !sameState(lastState, fields)) lastState = { version: (lastState?.version ?? 0) + 1, ...fields };
    return lastState;
  };

  const flush = (): void => {
    if (running === null || outbox.length === 0) return;
    const events = outbox;
    outbox = [];
    sequence += 1;
    running.eventsPort.postMessage({ type: 'events', sequence, events } satisfies WorkerEventBatch);
  };

  /** Posts what is queued, then names the batch the answer must wait for (see CallOutcome). */
  const answer = <T>(outcome: { type: 'ok'; value: T; state: NodeState } | { type: 'error'; error: SerializedError; state: NodeState | null }): CallOutcome<T> => {
    flush();
    return { ...outcome, eventsThrough: sequence };
  };

  const send = (event: WorkerEvent): void => {
    if (outbox.length === 0) queueMicrotask(flush);
    outbox.push(event);
  };

  const call = async <T>(callId: number, work: (node: RaftNode, signal: AbortSignal) => Promise<T>): Promise<CallOutcome<T>> => {
    if (running === null) return notStarted;
    const node = running.node;
    const controller = new AbortController();
    calls.set(callId, controller);
    try {
      const value = await work(node, controller.signal);
      return answer({ type: 'ok', value, state: currentState(node) });
    } catch (error) {
      return answer({ type: 'error', error: serializeError(error), state: currentState(node) });
    } finally {
      calls.delete(callId);
    }
  };

  const onPageEvent = (event: MessageEvent<PageEvent>): void => {
    const message = event.data;
    if (running === null || typeof message !== 'object' || message === null) return;
    running.pumps.handle(message);
  };

  const start = async (request: StartRequest, transportPort: MessagePort, eventsPort: MessagePort): Promise<CallOutcome<null>> => {
    if (running !== null || starting) return answer({ type: 'error', error: { type: 'typeError', message: 'this worker already hosts a node' }, state: null });
    starting = true;
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
        ...(request.metrics ? { onMetric: (metric) => send({ type: 'metric', metric }) } : {}),
      });
      const publish = (): void => send({ type: 'state', state: currentState(node) });
      const watched = [node.role, node.leader, node.term, node.membership, node.commitIndex, node.compactionFloor, node.stopped] as const;
      const unsubscribes = watched.map((watchable) => (watchable as { subscribe(listener: () => void): () => void }).subscribe(publish));
      // A follower's acknowledgements move the leader's progress without any observable changing
      // (a learner catching up while nothing new commits): publish it on a timer too, so a room
      // policy on the page sees when a learner is caught up. sameState keeps this quiet otherwise.
      const progressTimer = setInterval(() => {
        if (node.role.value === 'leader') publish();
      }, 250);
      unsubscribes.push(() => clearInterval(progressTimer));
      running = { node, storage, transport, eventsPort, pumps: createCommittedPumps(node, send), unsubscribes, stopTrace: null };
      eventsPort.addEventListener('message', onPageEvent);
      eventsPort.start();
      return answer({ type: 'ok', value: null, state: currentState(node) });
    } catch (error) {
      storage?.close();
      transport.close();
      eventsPort.close();
      return answer({ type: 'error', error: serializeError(error), state: null });
    } finally {
      starting = false;
    }
  };

  const api: WorkerNodeApi = {
    start,
    propose: (callId, command, requestId) => call(callId, (node, signal) => node.propose(command, requestId === null ? { signal } : { requestId, signal })),
    readIndex: (callId) => call(callId, (node, signal) => node.readIndex({ signal })),
    changeMembership: (callId, target: ClusterConfig) => call(callId, (node, signal) => node.changeMembership(target, { signal })),
    transferLeadership: (callId, target: NodeId) => call(callId, async (node, signal) => (await node.transferLeadership(target, { signal }), null)),
    awaitLeadership: (callId) => call(callId, async (node, signal) => (await node.awaitLeadership({ signal }), null)),
    abort: (callId) => calls.get(callId)?.abort(new DOMException('aborted on the page', 'AbortError')),
    setTrace(enabled) {
      if (running === null) return;
      running.stopTrace?.();
      running.stopTrace = enabled ? running.node.trace.subscribe((event) => send({ type: 'trace', event })) : null;
    },
    cancelTransfer: () => running?.node.cancelTransfer(),
    publishSnapshot(snapshot) {
      if (running === null) return notStarted;
      try {
        running.node.publishSnapshot(snapshot);
        return answer({ type: 'ok', value: null, state: currentState(running.node) });
      } catch (error) {
        return answer({ type: 'error', error: serializeError(error), state: currentState(running.node) });
      }
    },
    async close() {
      if (running === null) return notStarted;
      const { node, storage, transport, pumps, unsubscribes } = running;
      await node.close();
      pumps.closeAll();
      storage.close();
      transport.close();
      const state = currentState(node);
      send({ type: 'state', state });
      for (const unsubscribe of unsubscribes) unsubscribe();
      running.stopTrace?.();
      return answer({ type: 'ok', value: null, state });
    },
  };

  return {
    api,
    get committedItemsSent() {
      return running?.pumps.itemsSent ?? 0;
    },
  };
}

function sameState(state: NodeState, fields: Omit<NodeState, 'version'>): boolean {
  return (
    state.role === fields.role &&
    state.leader === fields.leader &&
    state.term === fields.term &&
    state.membership === fields.membership &&
    state.commitIndex === fields.commitIndex &&
    state.compactionFloor === fields.compactionFloor &&
    (state.stopped === null) === (fields.stopped === null) &&
    state.replicationProgress.length === fields.replicationProgress.length &&
    state.replicationProgress.every(([peer, match], position) => fields.replicationProgress[position]?.[0] === peer && fields.replicationProgress[position]?.[1] === match)
  );
}
