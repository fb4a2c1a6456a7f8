// createRaftNode: the one place where time, storage and transport meet the pure core. It feeds
// inputs to the core, persists each ready before sending the messages that depend on it
// (Raft's durability rule), delivers committed entries in order and settles caller promises.
import { copyBytes } from '../core/bytes.ts';
import { resolveRaftConfig } from '../core/config.ts';
import { sameConfigInOrder } from '../core/config-compare.ts';
import { ClientIdCollisionError, RaftClosedError, RaftStorageError } from '../core/errors.ts';
import { createPendingCalls } from './pending-calls.ts';
import { settleCalls, type PendingCallsOfNode } from './settle-calls.ts';
import { clockRequestIdFloor, createClientIdentity, wallClockRequestIdFloor } from './client-identity.ts';
import { createProposalTracker } from './proposal-tracker.ts';
import { dedupWindowSize } from '../core/client-session-format.ts';
import { incarnationSalt } from '../core/incarnation-salt.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import { createEmitter, createStagedWatchable, createWatchable, setTogether, stagedChange, type Subscribable } from '../core/observable.ts';
import { RaftCore } from '../core/raft-core.ts';
import { frameOverheadBytes } from '../core/core-state.ts';
import { commandEntrySizeBound } from '../core/entry-size.ts';
import type { OutboundMessage, Ready } from '../core/ready.ts';
import { readyNeedsWrite } from '../core/ready.ts';
import type { ClientId, ClusterConfig, LogEntry, NodeId, RaftEnvelope, RaftRole } from '../core/types.ts';
import { isValidCounter, validateClusterConfig } from '../core/types.ts';
import { codecLimits, decodeMessage, encodeMessage } from '../codec/index.ts';
import { committedIterable, type CommittedSource } from './committed-stream.ts';
import { createCommandCopier } from './command-copier.ts';
import { applicationCopies, engineObjects, membershipCopier, type HandOut } from './application-copies.ts';
import { closeWhenAborted } from './close-when-aborted.ts';
import { realClock, refuseLoneWitness, validateNodeOptions, type RaftNode, type RaftNodeOptions } from './node-options.ts';
import { restoreState } from './restore.ts';
import { unlessAborted } from './abortable-waits.ts';
import { createWritePipeline, queuedReadiesBound } from './write-pipeline.ts';
import { stuckWriteBoundMs } from './stuck-write-watch.ts';
import { handOverWhenIdle, writesStillFinishing } from './storage-handover.ts';
import { createEngineTimer } from './engine-timer.ts';
import { waitForLeadership } from './await-leadership.ts';

export type { RaftNode, RaftNodeOptions } from './node-options.ts';

export function createRaftNode(options: RaftNodeOptions): Promise<RaftNode> {
  return startRaftNode(options, applicationCopies);
}

/**
 * createRaftNode for this library's worker host: what the node hands out is the engine's own
 * objects, not copies (application-copies.ts, engineObjects). Every one of them is packed into an
 * event batch for the page at once, and the page copies it for its application.
 */
export function createRaftNodeForWorkerHost(options: RaftNodeOptions): Promise<RaftNode> {
  return startRaftNode(options, engineObjects);
}

async function startRaftNode(options: RaftNodeOptions, handOut: HandOut): Promise<RaftNode> {
  validateNodeOptions(options);
  const bootstrap = validateClusterConfig(options.clusterConfig);
  const config = resolveRaftConfig(options.raftConfig);
  const clock = options.raftConfig?.clock ?? realClock;
  const random = options.raftConfig?.random ?? Math.random;
  const { storage, transport, id } = options;
  options.signal?.throwIfAborted();
  // A node stopped on this storage may still be writing to it (storage-handover.ts): restored
  // before that write lands, this node's view of the log would be stale. Abortable, like the
  // restore: a write that hangs must not hang a caller that gives up.
  const finishing = writesStillFinishing(storage);
  if (finishing !== null) await unlessAborted(finishing, [options.signal]);
  // Nothing has started until the state is restored: an abort meanwhile rejects with its reason
  // (the storage is the caller's, so its reads in flight are simply not waited for).
  const restored = await unlessAborted(restoreState(storage), [options.signal]);
  // Aborted between the restore's answer and this line (a listener added later would never fire).
  options.signal?.throwIfAborted();
  // A storage that failed by itself while the state was read (its database deleted, say) is not
  // started on; one that fails later stops the node below (watchStorageFailure).
  const failedBeforeStart = storage.failure?.value ?? null;
  if (failedBeforeStart !== null) throw failedBeforeStart;
  const core = new RaftCore({
    id,
    config,
    random,
    now: clock.now(),
    bootstrap,
    hardState: { term: restored.term, votedFor: restored.votedFor },
    leaderPin: restored.leaderPin,
    snapshotMeta: restored.snapshot?.meta ?? null,
    entries: restored.entries,
    commitIndex: restored.commitIndex,
    snapshotState: restored.snapshot?.state ?? null,
    maxPayloadBytes: transport.maxPayloadBytes,
    orderedFrameBytes: transport.orderedFrameBytes,
  });
  // Before anything starts (no timer, no transport listener yet): the configuration in force is
  // the core's, which is the stored one when storage holds a configuration, else the bootstrap.
  const storageHoldsConfig = restored.snapshot?.meta.config !== undefined || restored.entries.some((entry) => entry.config !== undefined);
  refuseLoneWitness(id, config.witness, core.membership.voters, storageHoldsConfig);
  core.reportAcceptance = options.onMetric !== undefined;

  // The last index storage covers, log or snapshot: applied by an earlier incarnation.
  const restoredLastIndex = appliedIndexAtStart(restored);
  // The real clock says what time it is; an injected one (a simulation's) at least runs on
  // across the restarts it drives.
  const startedAt = clock.now();
  const clockFloor = clock === realClock ? wallClockRequestIdFloor(performance.timeOrigin + startedAt) : clockRequestIdFloor(startedAt);
  const identity = createClientIdentity(options.identity, id, random, {
    restoredEntries: restored.entries,
    restoredLastIndex,
    clockFloor,
    salt: incarnationSalt(startedAt, restored.term, restoredLastIndex),
  });
  // A command must fit in one AppendEntries frame with room for the frame's fields, its entry's
  // and the dedup key this node stamps (a re-minted auto id keeps its length), as the core bounds
  // a forwarded one (commandEntrySizeBound). Counted for this node's own key: a fixed 1,024 bytes
  // of room, at the smallest maxAppendBytes allowed (1,024), left none, and every proposal but an
  // empty one was refused (the simulator's seeds with small batches found it, 2026-12-07).
  const commandHeadroomBytes = frameOverheadBytes + commandEntrySizeBound(0, identity.watching ? { clientId: identity.clientId, requestId: 1 } : null);
  const maxCommandBytes = Math.min(codecLimits.maxCommandBytes, (transport.maxPayloadBytes ?? Number.POSITIVE_INFINITY) - commandHeadroomBytes, config.maxAppendBytes - commandHeadroomBytes);
  let collision: ClientIdCollisionError | null = null;
  const clientId = createWatchable<ClientId | null>(identity.watching ? identity.clientId : null);
  let identityCheckedThrough = restoredLastIndex;
  // What membership and changeMembership hand out: never the core's own configuration object.
  const membershipForApplication = membershipCopier(() => core.membership);
  const role = createStagedWatchable<RaftRole>(core.role);
  const leader = createStagedWatchable<NodeId | null>(core.leader);
  const term = createStagedWatchable(core.term);
  // By content: a follower decodes each config entry afresh, and C_new repeats the new half that
  // C_old,new already showed; by identity its listeners heard one change twice (the leader once).
  const membership = createStagedWatchable<ClusterConfig>(membershipForApplication(), sameConfigInOrder);
  // The entries a previous incarnation knew committed (the core starts with its stored commit
  // index, so nothing may replace them) are applied, and the commit index announced, a task after
  // the start: a caller that reads committed() as soon as the node is returned gets them too (its
  // "moment of the call" comes first; a worker's page starts that stream after the applied index,
  // held back with the commit index).
  const restoredFloor = restored.snapshot?.meta.lastIncludedIndex ?? 0;
  let applyHeld = core.applicableIndex > restoredFloor;
  const announcedCommit = (): number => (applyHeld ? restoredFloor : core.commitIndex);
  const commitIndex = createStagedWatchable(announcedCommit());
  const compactionFloor = createStagedWatchable(core.compactionFloor);
  const stopped = createWatchable<Error | null>(null);
  const trace = createEmitter<RaftTraceEvent>();
  // The core records trace events only while someone listens (step() re-reads that). A new
  // listener turns recording on at once, so the events of the very next input are not lost.
  const traceSource: Subscribable<RaftTraceEvent> = {
    subscribe(listener) {
      core.tracing = true;
      return trace.subscribe(listener);
    },
  };
  const proposals = createProposalTracker({
    window: dedupWindowSize,
    maxWaiting: config.maxPendingProposals,
    slowThresholdMs: config.slowProposeThresholdMs,
    now: () => clock.now(),
    checkRequestId: (requestId) => identity.checkCallerRequestId(requestId),
    requestIdFor: (requestId) => identity.requestIdFor(requestId),
    stamp: (requestId) => identity.stamp(requestId),
    submit: (proposalId, command, key) => {
      core.propose(clock.now(), proposalId, command, key);
      scheduleStep();
    },
    abandon: (proposalId) => core.abandonProposal(proposalId),
    emitMetric: (metric) => emitMetric(metric),
    handOut,
    measuring: options.onMetric !== undefined,
  });
  const pendingReads = createPendingCalls<number>();
  const pendingChanges = createPendingCalls<ClusterConfig>();
  const pendingTransfers = createPendingCalls<void>();
  const pendingCalls: PendingCallsOfNode = { reads: pendingReads, changes: pendingChanges, transfers: pendingTransfers, membership: membershipForApplication, leader: () => core.leader };
  let closed = false;
  const closeListeners = new Set<(error: Error) => void>();
  let closeError: Error | null = null;
  let stepScheduled = false;
  let appliedIndex = restoredFloor;
  const applied = createStagedWatchable(appliedIndex);
  let progressWaiters: Array<() => void> = [];
  const commandCopier = createCommandCopier();

  const emitMetric = (metric: RaftMetric): void => {
    if (options.onMetric === undefined) return;
    try {
      options.onMetric(metric);
    } catch (error) {
      void Promise.reject(error);
    }
  };

  const sendAll = (messages: readonly OutboundMessage[]): void => {
    for (const outbound of messages) transport.send(outbound.to, encodeMessage(outbound.message));
  };

  const writes = createWritePipeline({
    storage,
    maxQueuedReadies: queuedReadiesBound(config.maxPendingProposals),
    clock,
    stuckWriteMs: stuckWriteBoundMs(config.electionTimeoutMaxMs),
    unfinishedCompactionThrough: restored.interruptedCompactionThrough,
    stopped: () => closeError !== null,
    sendAll,
    persisted: (merged) => {
      const now = clock.now();
      const snapshotIndex = merged.snapshot?.meta.lastIncludedIndex ?? 0;
      for (let done = 0; done < merged.readyCount; done += 1) core.persisted(now, done === merged.readyCount - 1 ? merged.lastEntry : null, snapshotIndex);
    },
    stepAgain: () => scheduleStep(),
    fail: (error, failedWrite) => {
      // A write in flight when the node was closed (or already stopped) that fails afterwards is
      // no failure of a running node (close() not awaited, then the storage closed by its owner,
      // typically): the node ignores it, and monitoring must not count it either.
      if (closed) return;
      if (failedWrite !== null) emitMetric({ type: 'storageFailed', message: failedWrite.message, reason: failedWrite.reason });
      stop(error);
    },
  });

  const wakeProgress = (): void => {
    const waiters = progressWaiters;
    progressWaiters = [];
    for (const wake of waiters) wake();
  };

  const publish = (): void => {
    // The applied index moves before the observables are announced: a listener of the commit
    // index reads it (a worker reports it to its page with each state, which publishSnapshot
    // checks against), and read after the announcement it was one publish behind.
    const applicable = core.applicableIndex;
    const applying = applicable > appliedIndex && !applyHeld;
    if (applying) appliedIndex = applicable;
    // Stored together, then announced: a role listener reading the term sees the new one.
    setTogether([
      stagedChange(role, core.role),
      stagedChange(leader, core.leader),
      stagedChange(term, core.term),
      stagedChange(membership, membershipForApplication()),
      stagedChange(commitIndex, announcedCommit()),
      stagedChange(compactionFloor, core.compactionFloor),
      stagedChange(applied, appliedIndex),
    ]);
    if (applying) {
      checkIdentity(applicable);
      wakeProgress();
    }
  };

  /** SPEC "Collision": committed entries under our own id that we never issued. */
  const checkIdentity = (through: number): void => {
    if (!identity.watching) {
      // Keyless proposals (identity none): there is nothing to judge entries against.
      identityCheckedThrough = Math.max(identityCheckedThrough, through);
      return;
    }
    for (let index = Math.max(identityCheckedThrough + 1, core.compactionFloor + 1); index <= through; index += 1) {
      const entry = core.entryAt(index);
      if (entry?.dedupKey === undefined) continue;
      const verdict = identity.observeCommitted(entry);
      if (verdict.type === 'durableCollision') collision = new ClientIdCollisionError(verdict.clientId);
      if (verdict.type === 'reminted') {
        clientId.set(verdict.next);
        emitMetric({ type: 'clientIdReminted', previous: verdict.previous, next: verdict.next });
      }
    }
    identityCheckedThrough = Math.max(identityCheckedThrough, through);
  };

  const processReady = (ready: Ready): void => {
    sendAll(ready.messages);
    for (const metric of ready.metrics) emitMetric(metric);
    for (const event of ready.trace) trace.emit(event);
    if (readyNeedsWrite(ready)) {
      writes.write(ready);
      if (closed) return;
    } else if (ready.messagesAfterPersist.length > 0) {
      writes.sendAfterPendingWrites(ready.messagesAfterPersist);
    }
    publish();
    for (const outcome of ready.outcomes) proposals.settle(outcome);
    settleCalls(ready, pendingCalls);
  };

  const step = (): void => {
    stepScheduled = false;
    if (closed) return;
    try {
      core.tracing = trace.hasListeners;
      for (;;) {
        const ready = core.takeReady();
        if (ready === null) break;
        processReady(ready);
        if (closed) return;
      }
      publish();
      timer.arm();
    } catch (error) {
      stop(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const scheduleStep = (): void => {
    if (stepScheduled || closed) return;
    stepScheduled = true;
    queueMicrotask(step);
  };

  /** Hands the core one input; a throw (a broken invariant) stops the node. False when it did. */
  const accepted = (input: () => void): boolean => {
    try {
      input();
      return true;
    } catch (error) {
      stop(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  };

  const timer = createEngineTimer({
    clock,
    nextDeadline: () => core.nextDeadline(),
    stopped: () => closed,
    fire: (now) => {
      if (accepted(() => core.tick(now))) step();
    },
  });

  const onEnvelope = (envelope: RaftEnvelope): void => {
    if (closed) return;
    const decoded = decodeMessage(envelope.bytes);
    if (!decoded.ok) {
      const reason = decoded.reason;
      emitMetric({ type: 'frameUndecodable', from: envelope.from, reason });
      if (trace.hasListeners) trace.emit({ type: 'frameUndecodable', from: envelope.from, reason, node: id, term: core.term, at: clock.now() });
      return;
    }
    if (accepted(() => core.receive(clock.now(), envelope.from, decoded.value))) scheduleStep();
  };

  const unsubscribeIncoming = transport.incoming.subscribe(onEnvelope);

  function stop(error: Error): void {
    if (closed) return;
    closed = true;
    closeError = error;
    // Before `stopped` is announced: a listener that creates a node on this storage at once
    // waits for the write still in flight.
    handOverWhenIdle(storage, writes.idle);
    unsubscribeIncoming();
    timer.cancel();
    writes.stopWatching();
    core.failAll('leadershipLost');
    proposals.rejectAll(error);
    pendingReads.rejectAll(error);
    pendingChanges.rejectAll(error);
    pendingTransfers.rejectAll(error);
    for (const listener of closeListeners) listener(error);
    wakeProgress();
    stopped.set(error);
  }

  const source: CommittedSource = {
    get appliedIndex() {
      return appliedIndex;
    },
    entryAt: (index) => core.entryAt(index),
    waitForProgress: () => new Promise<void>((resolve) => progressWaiters.push(resolve)),
    get closed() {
      return closed;
    },
    // The core's snapshot, not one the driver copies from a ready: a leader's install compacts the
    // core's log inside receive(), a step before its ready, and a stream reading behind the applied
    // index in between found neither the entry nor a snapshot (simulation seed 205065 with
    // --nodes 5 --removals --duration 20000, a paused node resuming into its stored commit index).
    installFor: (index) => {
      const snapshot = core.latestSnapshot;
      if (snapshot === null || index > snapshot.throughIndex) return null;
      return { committed: { type: 'install', snapshot }, nextIndex: snapshot.throughIndex + 1 };
    },
  };

  /** Throws for a closed node or an aborted signal; every caller turns the throw into a rejection. */
  const rejectIfUnusable = (signal: AbortSignal | undefined): void => {
    if (closed) throw closeError ?? new RaftClosedError();
    signal?.throwIfAborted();
  };


  const node: RaftNode = {
    id,
    role,
    leader,
    term,
    membership,
    commitIndex,
    compactionFloor,
    stopped,
    clientId,
    trace: traceSource,
    committed: () => committedIterable(source, appliedIndex + 1, handOut),
    committedFrom: (fromIndex) => {
      if (!isValidCounter(fromIndex)) throw new RangeError(`committedFrom index must be a non-negative safe integer, got ${String(fromIndex)}`);
      return committedIterable(source, fromIndex, handOut);
    },
    propose(command, proposeOptions = {}) {
      try {
        rejectIfUnusable(proposeOptions.signal);
        if (!(command instanceof Uint8Array)) throw new TypeError('propose(command): command must be a Uint8Array');
        if (command.length > maxCommandBytes) {
          throw new RangeError(`propose(command): ${command.length} bytes exceeds the largest command this transport can carry (${maxCommandBytes} bytes)`);
        }
        if (collision !== null) throw collision;
      } catch (error) {
        return Promise.reject(error);
      }
      // A copy (command-copier.ts): the entry is written, replicated and answered later, and a
      // caller may reuse its buffer (an encoder's output) as soon as propose returns.
      return proposals.propose(commandCopier.copy(command), proposeOptions.requestId, proposeOptions.signal);
    },
    readIndex: async (readOptions = {}) => {
      rejectIfUnusable(readOptions.signal);
      return pendingReads.start(readOptions.signal, (readId) => core.abandonRead(readId), (readId) => {
        core.requestRead(clock.now(), readId);
        scheduleStep();
      });
    },
    changeMembership: async (target, changeOptions = {}) => {
      rejectIfUnusable(changeOptions.signal);
      const validated = validateClusterConfig(target);
      // An aborted change may still commit: abort only stops waiting for it.
      return pendingChanges.start(changeOptions.signal, () => {}, (changeId) => {
        core.changeMembership(clock.now(), changeId, validated);
        scheduleStep();
      });
    },
    transferLeadership: async (target, transferOptions = {}) => {
      rejectIfUnusable(transferOptions.signal);
      return pendingTransfers.start(transferOptions.signal, (transferId) => {
        core.abandonTransferCall(clock.now(), transferId);
        scheduleStep();
      }, (transferId) => {
        core.transferLeadership(clock.now(), transferId, target);
        scheduleStep();
      });
    },
    cancelTransfer: () => {
      if (closed) return;
      core.cancelTransfer(clock.now());
      scheduleStep();
    },
    awaitLeadership: (waitOptions = {}) => {
      try {
        rejectIfUnusable(waitOptions.signal);
      } catch (error) {
        return Promise.reject(error);
      }
      return waitForLeadership(role, closeListeners, waitOptions.signal);
    },
    publishSnapshot: (snapshot) => {
      if (closed) throw closeError ?? new RaftClosedError();
      if (!isValidCounter(snapshot.throughIndex) || !(snapshot.state instanceof Uint8Array)) {
        throw new RangeError('publishSnapshot needs { throughIndex: a non-negative safe integer, state: Uint8Array }');
      }
      if (snapshot.throughIndex > appliedIndex) {
        throw new RangeError(`publishSnapshot throughIndex ${snapshot.throughIndex} is beyond the applied index ${appliedIndex}: a snapshot may only cover delivered entries`);
      }
      const state = copyBytes(snapshot.state);
      if (!core.publishSnapshot(clock.now(), snapshot.throughIndex, state)) return;
      // The log is compacted now (a committed stream reading below the new floor finds this
      // snapshot in the core), and compactionFloor moves with the call, not a step later.
      publish();
      scheduleStep();
    },
    replicationProgress: () => (closed ? new Map<NodeId, number>() : core.matchIndexes()),
    silentPeers: () => (closed ? new Set<NodeId>() : core.silentPeers()),
    appliedIndex: () => appliedIndex,
    applied,
    async close() {
      stop(new RaftClosedError());
      await writes.idle;
    },
  };

  closeWhenAborted(options.signal, node);
  // A storage failing outside any call (IndexedDB deleted or upgraded by another tab, or closed
  // by the browser when site data is cleared) stops the node now, not at its next write: an idle
  // leader or follower makes none, and would go on leading and serving reads on a log it can no
  // longer keep, while the storage has already let another owner open the database.
  // After the write in flight settles: a failure inside that write is the write pipeline's to
  // report (the storage says it failed before the write's promise rejects), with its own message.
  const unsubscribeStorageFailure = storage.failure?.subscribe((failure) => {
    if (failure === null) return;
    void writes.idle.then(() => {
      if (closed) return;
      emitMetric({ type: 'storageFailed', message: failure.message, reason: failure.reason });
      stop(new RaftStorageError(`storage failed outside any write, node stopped (durability can no longer be promised): ${failure.message}`, { cause: failure, reason: failure.reason }));
    });
  });
  if (unsubscribeStorageFailure !== undefined) closeListeners.add(() => unsubscribeStorageFailure());
  publish();
  timer.arm();
  // A page with no quorum in reach shows what it had: its stored log through its commit index.
  if (applyHeld) {
    clock.setTimeout(() => {
      applyHeld = false;
      if (!closed) publish();
    }, 0);
  }
  return node;
}

/** Entries restored from storage were applied by an earlier incarnation: not judged again. */
function appliedIndexAtStart(restored: { snapshot: { meta: { lastIncludedIndex: number } } | null; entries: readonly LogEntry[] }): number {
  const last = restored.entries[restored.entries.length - 1];
  return last?.index ?? restored.snapshot?.meta.lastIncludedIndex ?? 0;
}
