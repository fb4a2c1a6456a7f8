// The RaftNode the page holds for an engine in a worker: observables mirrored from pushed state,
// calls forwarded through Comlink and settled from plain-data outcomes, committed streams under
// credit. It stops (like createRaftNode's node) on close, on a stop inside the worker, or when
// the worker crashes, and then every pending and later call rejects with the error that stopped it.
import type { Remote } from 'comlink';
import { RaftClosedError } from '../core/errors.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import { createEmitter, createWatchable, type Subscribable } from '../core/observable.ts';
import type { ClusterConfig, NodeId, RaftRole } from '../core/types.ts';
import { isValidCounter, validateClusterConfig } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { rebuildError } from './error-transfer.ts';
import type { CallOutcome, NodeState, WorkerEvent, WorkerEventBatch, WorkerNodeApi } from './protocol.ts';
import { createRemoteCommittedStreams } from './remote-committed-stream.ts';

/** What the page node needs of the worker: its API (through Comlink) and the events port. */
export interface RemoteNodeConnection {
  readonly api: Remote<WorkerNodeApi>;
  readonly eventsPort: MessagePort;
  readonly onMetric: ((metric: RaftMetric) => void) | undefined;
  /** Closes the worker side (node, storage) and releases the worker; called once. */
  readonly shutdown: () => Promise<void>;
}

export interface RemoteNode extends RaftNode {
  /** Stops the page node with `error` (the worker crashed); idempotent. */
  fail(error: Error): void;
}

export function createRemoteNode(id: NodeId, initial: NodeState, connection: RemoteNodeConnection): RemoteNode {
  const { api, eventsPort } = connection;
  const role = createWatchable<RaftRole>(initial.role);
  const leader = createWatchable<NodeId | null>(initial.leader);
  const term = createWatchable(initial.term);
  const membership = createWatchable<ClusterConfig>(initial.membership);
  const commitIndex = createWatchable(initial.commitIndex);
  let progress: ReadonlyMap<NodeId, number> = new Map(initial.replicationProgress);
  const compactionFloor = createWatchable(initial.compactionFloor);
  const stopped = createWatchable<Error | null>(null);
  const trace = createTraceMirror((enabled) => void api.setTrace(enabled));
  const streams = createRemoteCommittedStreams((event) => eventsPort.postMessage(event), () => stopped.value !== null);
  const pending = new Map<number, (error: Error) => void>();
  let version = 0;
  let nextCallId = 1;
  let closing: Promise<void> | null = null;
  /** Last event batch handled, and answers waiting for a later one (see CallOutcome). */
  let handledSequence = 0;
  let waitingAnswers: Array<{ readonly through: number; readonly settle: () => void }> = [];

  const afterEvents = (through: number, settle: () => void): void => {
    if (through <= handledSequence) settle();
    else waitingAnswers.push({ through, settle });
  };

  const stop = (error: Error): void => {
    if (stopped.value !== null) return;
    stopped.set(error);
    const rejections = [...pending.values()];
    pending.clear();
    waitingAnswers = [];
    for (const reject of rejections) reject(error);
    streams.endAll();
  };

  const applyState = (state: NodeState | null): void => {
    if (state === null || state.version <= version) return;
    version = state.version;
    role.set(state.role);
    leader.set(state.leader);
    term.set(state.term);
    membership.set(state.membership);
    commitIndex.set(state.commitIndex);
    compactionFloor.set(state.compactionFloor);
    progress = new Map(state.replicationProgress);
    if (state.stopped !== null) stop(rebuildError(state.stopped));
  };

  const onEvents = (message: MessageEvent<WorkerEventBatch>): void => {
    const batch = message.data;
    if (batch?.type !== 'events') return;
    for (const event of batch.events) handleEvent(event);
    handledSequence = batch.sequence;
    const ready = waitingAnswers.filter((waiting) => waiting.through <= handledSequence);
    if (ready.length === 0) return;
    waitingAnswers = waitingAnswers.filter((waiting) => waiting.through > handledSequence);
    for (const waiting of ready) waiting.settle();
  };
  const handleEvent = (event: WorkerEvent): void => {
    switch (event.type) {
      case 'state':
        return applyState(event.state);
      case 'metric':
        return reportMetric(connection.onMetric, event.metric);
      case 'trace':
        return trace.emit(event.event);
      case 'committed':
        return streams.deliver(event.streamId, event.item);
      case 'streamEnded':
        return streams.end(event.streamId, event.error);
    }
  };
  eventsPort.addEventListener('message', onEvents);
  eventsPort.start();
  applyState(initial);

  /** A call to the worker that settles from its outcome, or at once on abort or stop. */
  const remoteCall = <T>(signal: AbortSignal | undefined, begin: (callId: number) => Promise<CallOutcome<T>>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const stoppedBy = stopped.value;
      if (stoppedBy !== null) throw stoppedBy;
      signal?.throwIfAborted();
      const callId = nextCallId++;
      const onAbort = (): void => {
        if (!pending.delete(callId)) return;
        void api.abort(callId);
        reject(signal?.reason);
      };
      pending.set(callId, (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      begin(callId).then(
        (outcome) =>
          afterEvents(outcome.eventsThrough, () => {
            if (!pending.delete(callId)) return;
            signal?.removeEventListener('abort', onAbort);
            applyState(outcome.state);
            if (outcome.type === 'ok') resolve(outcome.value);
            else reject(rebuildError(outcome.error));
          }),
        (error: unknown) => {
          if (!pending.delete(callId)) return;
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });

  const node: RemoteNode = {
    id,
    role,
    leader,
    term,
    membership,
    commitIndex,
    replicationProgress: () => progress,
    compactionFloor,
    stopped,
    trace,
    // The live tail from the moment of the call, as the page sees it: after the commit index
    // it was last told about (the worker's may already be ahead; nothing after it is missed).
    committed: () => streams.iterable(commitIndex.value + 1),
    committedFrom(fromIndex) {
      if (!isValidCounter(fromIndex)) throw new RangeError(`committedFrom index must be a non-negative safe integer, got ${String(fromIndex)}`);
      return streams.iterable(fromIndex);
    },
    propose(command, options = {}) {
      if (!(command instanceof Uint8Array)) return Promise.reject(new TypeError('propose(command): command must be a Uint8Array'));
      return remoteCall(options.signal, (callId) => api.propose(callId, command, options.requestId ?? null));
    },
    readIndex: (options = {}) => remoteCall(options.signal, (callId) => api.readIndex(callId)),
    changeMembership(target, options = {}) {
      try {
        validateClusterConfig(target);
      } catch (error) {
        return Promise.reject(error);
      }
      return remoteCall(options.signal, (callId) => api.changeMembership(callId, target));
    },
    transferLeadership: async (target, options = {}) => {
      await remoteCall(options.signal, (callId) => api.transferLeadership(callId, target));
    },
    cancelTransfer() {
      if (stopped.value === null) void api.cancelTransfer();
    },
    // Always asks the worker, even when the mirror says leader: one round trip on the call
    // channel also orders everything the page sent before it (a trace subscription, say).
    awaitLeadership: async (options = {}) => {
      await remoteCall(options.signal, (callId) => api.awaitLeadership(callId));
    },
    publishSnapshot(snapshot) {
      if (stopped.value !== null) throw stopped.value;
      if (!isValidCounter(snapshot.throughIndex) || !(snapshot.state instanceof Uint8Array)) {
        throw new RangeError('publishSnapshot needs { throughIndex: a non-negative safe integer, state: Uint8Array }');
      }
      if (snapshot.throughIndex > streams.deliveredIndex) {
        throw new RangeError(`publishSnapshot throughIndex ${snapshot.throughIndex} is beyond the applied index ${streams.deliveredIndex}: a snapshot may only cover delivered entries`);
      }
      // Copied now (the caller may reuse its buffer); the worker's answer only carries state.
      void api.publishSnapshot({ throughIndex: snapshot.throughIndex, state: snapshot.state.slice() }).then((outcome) => applyState(outcome.state));
    },
    close() {
      closing ??= (async () => {
        stop(new RaftClosedError());
        eventsPort.removeEventListener('message', onEvents);
        await connection.shutdown();
      })();
      return closing;
    },
    fail: stop,
  };
  return node;
}

/** Metric listener exceptions are reported asynchronously, as the driver does. */
function reportMetric(onMetric: ((metric: RaftMetric) => void) | undefined, metric: RaftMetric): void {
  if (onMetric === undefined) return;
  try {
    onMetric(metric);
  } catch (error) {
    void Promise.reject(error);
  }
}

/** The page's trace emitter; it tells the worker when the first listener comes and the last goes. */
function createTraceMirror(setTrace: (enabled: boolean) => void): Subscribable<RaftTraceEvent> & { emit(event: RaftTraceEvent): void } {
  const emitter = createEmitter<RaftTraceEvent>();
  let listeners = 0;
  return {
    emit: (event) => emitter.emit(event),
    subscribe(listener) {
      const unsubscribe = emitter.subscribe(listener);
      listeners += 1;
      if (listeners === 1) setTrace(true);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        unsubscribe();
        listeners -= 1;
        if (listeners === 0) setTrace(false);
      };
    },
  };
}
