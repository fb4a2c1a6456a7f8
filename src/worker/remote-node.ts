// The RaftNode the page holds for an engine in a worker: observables mirrored from pushed state,
// calls forwarded through Comlink and settled from plain-data outcomes, committed streams under
// credit. It stops (like createRaftNode's node) on close, on a stop inside the worker, or when
// the worker crashes, and then every pending and later call rejects with the error that stopped it.
import { copyBytes } from '../core/bytes.ts';
import { transfer, type Remote } from 'comlink';
import { RaftClosedError } from '../core/errors.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import { createEmitter, createWatchable, type Subscribable, type WritableWatchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import { isValidCounter, plainClusterConfig, validateClusterConfig } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { validateRequestId } from '../driver/client-identity.ts';
import { committedForApplication, entryForApplication } from '../driver/application-copies.ts';
import { rebuildError, serializeError } from './error-transfer.ts';
import { decodeEventBatch } from './event-records.ts';
import { createProposalBurst, type ProposalBurst } from './proposal-records.ts';
import { type NodeState, type WorkerEvent, type WorkerEventBatch, type WorkerNodeApi } from './protocol.ts';
import { createRemoteCalls, type RemoteCalls } from './remote-calls.ts';
import { createRemoteCommittedStreams, type RemoteCommittedStreams } from './remote-committed-stream.ts';
import { createStateMirror, type StateMirror } from './state-mirror.ts';

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

/** The page-side pieces a remote node's methods work with. */
interface RemoteParts {
  readonly api: Remote<WorkerNodeApi>;
  readonly stopped: WritableWatchable<Error | null>;
  readonly streams: RemoteCommittedStreams;
  readonly calls: RemoteCalls;
  readonly proposals: ProposalQueue;
  /**
   * What the worker has surely applied, as this page knows it: its last reported applied index,
   * the entries this page's streams handed out, the entries its proposals resolved with (StateMirror.applied).
   */
  readonly appliedAsSeen: () => number;
}

export function createRemoteNode(id: NodeId, initial: NodeState, connection: RemoteNodeConnection): RemoteNode {
  const { api, eventsPort } = connection;
  const mirror = createStateMirror(initial);
  const stopped = createWatchable<Error | null>(null);
  // Only to a live worker: a stopped node's worker is (or is about to be) released, and a call on
  // a released Comlink proxy throws, so a listener dropped after close() would throw at its caller.
  const trace = createTraceMirror((enabled) => {
    if (stopped.value === null) void api.setTrace(enabled);
  });
  const streams = createRemoteCommittedStreams((event) => eventsPort.postMessage(event), () => stopped.value !== null, (index) => mirror.raiseApplied(index));
  const stop = (error: Error): void => {
    if (stopped.value !== null) return;
    stopped.set(error);
    calls.rejectAll(error);
    streams.endAll();
  };
  const applyState = (state: NodeState | null): void => {
    const stoppedInWorker = mirror.apply(state);
    if (stoppedInWorker !== null) stop(rebuildError(stoppedInWorker));
  };
  const proposals = createProposalQueue((batch, callIds) => {
    // A node stopped in the task that made the burst (a worker crash) has rejected its calls and
    // released the proxy already: nothing to send, and nobody to send it to.
    if (stopped.value !== null) return;
    // The worker answers each proposal with an event; if it cannot read the burst at all (a bug
    // of this library: the page sends only what it validated), every call in it fails with the
    // reason instead of waiting forever.
    api.proposeBatch(transfer(batch, [batch])).catch((error: unknown) => {
      const failure = { type: 'error', error: serializeError(error) } as const;
      for (const callId of callIds) calls.answered(callId, failure);
    });
  });
  const abort = (callId: number): void => {
    if (!proposals.unqueue(callId)) void api.abort(callId);
  };
  const calls = createRemoteCalls({ stoppedBy: () => stopped.value, abort });
  const handleEvent = (event: WorkerEvent): void => {
    switch (event.type) {
      case 'state':
        return applyState(event.state);
      case 'metric':
        return reportMetric(connection.onMetric, event.metric);
      case 'trace':
        return trace.emit(event.event);
      // Each item and answer gets a buffer of its own, as createRaftNode's (application-copies.ts):
      // decoded, they are views into the batch's one transferred buffer, and an application that
      // transferred one entry's bytes detached the rest of the batch (those still buffered in its
      // streams too). A copy per item; the views are dropped, so a kept entry pins no batch either.
      case 'committed':
        return streams.deliver(event.streamId, committedForApplication(event.item));
      case 'streamEnded':
        return streams.end(event.streamId, event.error);
      case 'answer':
        // A proposal resolved with its index: applied in the worker by then.
        if (event.answer.type === 'ok') mirror.raiseApplied(event.answer.value.index);
        return calls.answered(event.callId, event.answer.type === 'ok' ? { type: 'ok', value: entryForApplication(event.answer.value) } : event.answer);
    }
  };
  const onEvents = (message: MessageEvent<WorkerEventBatch>): void => {
    const batch = message.data;
    if (batch?.type !== 'events') return;
    try {
      decodeEventBatch(batch, handleEvent);
    } catch (error) {
      // Our own worker sent it: a bug, and the events after the fault are lost, so the node stops.
      return stop(error instanceof Error ? error : new Error(String(error)));
    }
    calls.eventsHandled(batch.sequence);
  };
  eventsPort.addEventListener('message', onEvents);
  eventsPort.start();
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      stop(new RaftClosedError());
      eventsPort.removeEventListener('message', onEvents);
      await connection.shutdown();
    })());
  const { role, leader, term, membership, commitIndex, compactionFloor, clientId, replicationProgress, silentPeers, applied } = mirror;
  const appliedAsSeen = (): number => applied.value;
  const parts: RemoteParts = { api, stopped, streams, calls, proposals, appliedAsSeen };
  return { id, role, leader, term, membership, commitIndex, compactionFloor, clientId, applied, stopped, trace, replicationProgress, silentPeers, appliedIndex: appliedAsSeen, ...remoteMethods(parts), close, fail: stop };
}

/** An id no member can have (nodeId() refuses the empty string). */
const noMemberId = '' as NodeId;

/** The calls of RaftNode, each validated on the page as createRaftNode validates it, then sent. */
function remoteMethods({ api, stopped, streams, calls, proposals, appliedAsSeen }: RemoteParts): Omit<RaftNode, keyof StateMirror | 'id' | 'stopped' | 'trace' | 'close'> {
  return {
    // The live tail from the moment of the call, as the page sees it: after the applied index it
    // knows, as createRaftNode's starts after its own (the worker's may already be ahead; nothing
    // after it is missed). It started after the commit index until 2026-12-07, and entries
    // committed but not yet applied then (a follower's write of them still running) were never
    // handed out.
    committed: () => streams.iterable(appliedAsSeen() + 1),
    committedFrom(fromIndex) {
      if (!isValidCounter(fromIndex)) throw new RangeError(`committedFrom index must be a non-negative safe integer, got ${String(fromIndex)}`);
      return streams.iterable(fromIndex);
    },
    propose(command, options = {}) {
      // `null` options (from JavaScript) reject, as createRaftNode's do, rather than throw here.
      let signal: AbortSignal | undefined;
      try {
        signal = options.signal;
      } catch (error) {
        return Promise.reject(error);
      }
      // Checked as createRaftNode checks, in its order: a stopped node and an aborted signal
      // first (calls.submit), then the arguments, so only valid proposals reach the burst.
      return calls.submit(signal, (callId) => {
        if (!(command instanceof Uint8Array)) throw new TypeError('propose(command): command must be a Uint8Array');
        if (options.requestId !== undefined) validateRequestId(options.requestId);
        // Copied now, into the burst's buffer: the burst is posted after this task's other
        // proposals, and a caller that reuses its buffer once propose returns would otherwise send
        // the reused bytes (proposal-records.ts).
        proposals.queue(callId, command, options.requestId ?? null, signal !== undefined);
      });
    },
    // Async, as createRaftNode's are: `null` options (from JavaScript) reject rather than throw.
    readIndex: async (options = {}) => calls.call(options.signal, (callId) => api.readIndex(callId)),
    async changeMembership(target, options = {}) {
      // Validated after the stopped and aborted checks, as createRaftNode does.
      return calls.call(options.signal, (callId) => {
        validateClusterConfig(target);
        return api.changeMembership(callId, plainClusterConfig(target));
      });
    },
    transferLeadership: async (target, options = {}) => {
      // Only a string can be a member's id; anything else fails as createRaftNode's does
      // ('notVoter', or NotLeaderError off the leader), never with the DataCloneError a symbol or
      // a function would raise on the way to the worker: it goes as '', which no id can be.
      const sendable = typeof target === 'string' ? target : noMemberId;
      await calls.call(options.signal, (callId) => api.transferLeadership(callId, sendable));
    },
    cancelTransfer() {
      if (stopped.value === null) void api.cancelTransfer();
    },
    // Always asks the worker, even when the mirror says leader: one round trip on the call
    // channel also orders everything the page sent before it (a trace subscription, say).
    awaitLeadership: async (options = {}) => {
      await calls.call(options.signal, (callId) => api.awaitLeadership(callId));
    },
    publishSnapshot(snapshot) {
      if (stopped.value !== null) throw stopped.value;
      if (!isValidCounter(snapshot.throughIndex) || !(snapshot.state instanceof Uint8Array)) {
        throw new RangeError('publishSnapshot needs { throughIndex: a non-negative safe integer, state: Uint8Array }');
      }
      // Until 2026-12-06 only what the streams handed out counted, so a snapshot through a
      // resolved proposal's entry, or a restarted app's own snapshot republished before it read a
      // stream, was refused where a node on the page takes it (found by a review).
      const applied = appliedAsSeen();
      if (snapshot.throughIndex > applied) {
        throw new RangeError(`publishSnapshot throughIndex ${snapshot.throughIndex} is beyond the applied index ${applied}: a snapshot may only cover delivered entries`);
      }
      // Copied now (the caller may reuse its buffer); what it changes arrives as events.
      void api.publishSnapshot({ throughIndex: snapshot.throughIndex, state: copyBytes(snapshot.state) });
    },
  };
}

interface ProposalQueue {
  queue(callId: number, command: Uint8Array, requestId: number | null, abortable: boolean): void;
  /** Removes a proposal not sent yet (its call was aborted); false when it was already sent. */
  unqueue(callId: number): boolean;
}

/**
 * Proposals made in one synchronous run (a burst of callers, or callers resumed together by one
 * batch of answers) go to the worker in one message, sent on a microtask.
 */
function createProposalQueue(send: (batch: ArrayBuffer, callIds: readonly number[]) => void): ProposalQueue {
  let burst: ProposalBurst | null = null;
  const flush = (): void => {
    const sending = burst;
    burst = null;
    if (sending !== null && sending.size > 0) send(sending.finish(), sending.callIds());
  };
  return {
    queue(callId, command, requestId, abortable) {
      if (burst === null) {
        burst = createProposalBurst();
        queueMicrotask(flush);
      }
      burst.add(callId, command, requestId, abortable);
    },
    unqueue: (callId) => burst?.remove(callId) ?? false,
  };
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
