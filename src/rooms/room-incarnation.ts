// One node id's stay in a room (an incarnation): decide how it starts (the cluster it finds, the
// bootstrap it stored, or the verdict that the id must not be used again), then start the node,
// the room's coordinator and the application's store, and close them in order when it leaves.
import type { RaftMetric } from '../core/events.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { realClock } from '../driver/node-options.ts';
import { watchAbort } from '../driver/abort-watch.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { closeStorage, closeStorageLeavingNothing } from '../storage/close-storage.ts';
import { readStoredNodeState, type StoredNodeState } from '../storage/stored-node-state.ts';
import { discoverCluster } from './discover-cluster.ts';
import type { MembershipPolicy } from './membership-policy.ts';
import { createReplicatedStore, type ReplicatedStore } from './replicated-store.ts';
import { startRoomCoordinator, type RoomCoordinator } from './room-coordinator.ts';
import { loadBootstrap, loadNodeClaim, saveBootstrap, type KeyValueStore } from './room-identity.ts';
import { removedWhileAway } from './removed-while-away.ts';
import { emitSafely } from './room-events.ts';
import { helloLifetimeMs, type RoomPresence } from './room-presence.ts';
import { roomMembershipPolicy, roomTimings, type JoinRoomOptionsWithNode } from './join-room-options.ts';
import { connect, type Plumbing } from './room-plumbing.ts';
import { createRefusalLog, type RefusalLog } from './refusal-log.ts';
import { closeWhenNodeStops } from './stopped-node.ts';

export type WedgeMetric = Extract<RaftMetric, { type: 'wedgeSuspected' }>;

/** One node id's stay in the room. */
export interface Incarnation<State, Command> {
  readonly id: NodeId;
  /** The storage joinRoom opened for this id: `leave` closes it, after the node. */
  readonly storage: RaftStorage;
  readonly node: RaftNode;
  readonly store: ReplicatedStore<State, Command>;
  readonly signaling: SignalingClient;
  /** The hellos of the room's peers (who they follow): a wedge report is judged against them. */
  readonly presence: RoomPresence;
  /** When the node last refused each sender: a wedge report counts only while its sender is still refused. */
  readonly refusals: RefusalLog;
  /** Closes everything above, the storage last; once (later calls return the first call's promise). */
  leave(): Promise<void>;
}


/**
 * What joining under one id came to: it joined, or the id must not be used again because the room
 * lists it as a member (voter or learner) while our storage is empty or removed it while away (`listedOrRemoved`), or
 * because its storage lost what it held (`storageLost`: the browser deleted the database).
 */
export type JoinOutcome<State, Command> =
  | { readonly type: 'joined'; readonly incarnation: Incarnation<State, Command> }
  | { readonly type: 'listedOrRemoved' }
  | { readonly type: 'storageLost'; readonly error: Error };

/**
 * Whether `error` is a storage's refusal of data it lost (RaftStorageError reason 'dataLost'),
 * told by name and reason: a storage or worker from another copy of the library throws an error
 * of another class.
 */
function isDataLost(error: unknown): error is Error {
  return error instanceof Error && error.name === 'RaftStorageError' && (error as { reason?: unknown }).reason === 'dataLost';
}

/** What discovery is told about the id beyond the room's hellos. */
export interface JoinDiscovery {
  /** No node has ever run under the id (discover-cluster.ts `neverRanNode`): minted during this join, or its identity store never started one in the room. */
  readonly neverRanNode: boolean;
  /** After a wedge: the leader this peer refused, whose cluster discovery prefers. */
  readonly preferClusterOf?: NodeId | undefined;
}

/**
 * Joins under `id`, or says why the id must not be used again. Whenever it does not join (or
 * throws), the storage it opened is closed (the caller may then discard it, or may close a storage
 * it shares once more), and deleted with it when its open created it and nothing was written
 * (an IndexedDbRaftStorage: closeStorageLeavingNothing).
 */
export async function joinAs<State, Command>(
  options: JoinRoomOptionsWithNode<State, Command>,
  identityStore: KeyValueStore,
  id: NodeId,
  onWedged: (incarnation: Incarnation<State, Command>, metric: WedgeMetric) => Promise<void>,
  discovery: JoinDiscovery,
): Promise<JoinOutcome<State, Command>> {
  const { gossipIntervalMs, discoveryMs } = roomTimings(options);
  const policy = roomMembershipPolicy(options);
  let storage: RaftStorage | null = null;
  let plumbing: Plumbing | null = null;
  // The read's signal, ended with this attempt however it ends: a factory may keep the worker that
  // read for the id's node (workerNodeFactory, for keepReaderMs), and once this attempt is over no
  // node will start on it unless one already has (which took it). A failed or refused join used to
  // leave it idle for up to 30 s.
  const reading = new AbortController();
  const roomSignal = options.signal;
  if (roomSignal?.aborted === true) reading.abort(roomSignal.reason);
  const stopForwarding = roomSignal === undefined ? () => undefined : watchAbort(roomSignal, () => reading.abort(roomSignal.reason));
  try {
    storage = (await options.storage?.(id)) ?? new InMemoryRaftStorage();
    // Read while signaling connects: a factory may read in a worker it has yet to start, and until
    // the read says so this peer's hellos do not say it is a member.
    const storedRead = readStoredState(options, id, storage, reading.signal);
    // Awaited below; this only keeps a failure from counting as unhandled when connecting fails first.
    storedRead.catch(() => undefined);
    plumbing = connect(options, { id, claim: await loadNodeClaim(identityStore, options.room, id) }, gossipIntervalMs, discoveryMs);
    const bootstrap = await chooseBootstrap(options, identityStore, id, await storedRead, plumbing, discoveryMs, gossipIntervalMs, discovery);
    if (bootstrap === null) {
      plumbing.close();
      await closeStorageLeavingNothing(storage);
      return { type: 'listedOrRemoved' };
    }
    plumbing.unreachable.setWaiting(false);
    return { type: 'joined', incarnation: await startIncarnation(options, { id, storage, bootstrap, plumbing, policy }, onWedged) };
  } catch (error) {
    plumbing?.close();
    // A database the storage's open created for this join and nothing wrote goes with it: an
    // aborted or failed join used to leave it behind, empty, under an id that may never run.
    if (storage !== null) await closeStorageLeavingNothing(storage);
    // Found where the storage opens: the page's own (options.storage), the factory's read in its
    // worker, or a factory that opens storage only to start the node.
    if (isDataLost(error)) return { type: 'storageLost', error };
    throw error;
  } finally {
    stopForwarding();
    reading.abort(new DOMException('the join attempt that read this storage is over', 'AbortError'));
  }
}

interface IncarnationParts {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly bootstrap: ClusterConfig;
  readonly plumbing: Plumbing;
  readonly policy: MembershipPolicy;
}

/** Starts the node, its coordinator and the application store; a failure after the node started closes it. */
async function startIncarnation<State, Command>(
  options: JoinRoomOptionsWithNode<State, Command>,
  { id, storage, bootstrap, plumbing, policy }: IncarnationParts,
  onWedged: (incarnation: Incarnation<State, Command>, metric: WedgeMetric) => Promise<void>,
): Promise<Incarnation<State, Command>> {
  const clock = options.raftConfig?.clock ?? realClock;
  // Assigned before the node can report a wedge (the report is deferred by a timer).
  let incarnation: Incarnation<State, Command> | null = null;
  const refusals = createRefusalLog();
  const node = await options.createNode({
    id,
    clusterConfig: bootstrap,
    transport: plumbing.channel.transport,
    storage,
    ...(options.raftConfig === undefined ? {} : { raftConfig: options.raftConfig }),
    onMetric: (metric) => {
      refusals.note(metric, clock.now());
      // Deferred: metrics are emitted inside the driver's step.
      if (metric.type === 'wedgeSuspected') clock.setTimeout(() => void (incarnation === null ? undefined : onWedged(incarnation, metric)), 0);
      // Removed while it ran (a tab asleep past the policy's unreachable window): the policy takes
      // the same id back as a learner once it is reachable (rule 2), keeping its log, so this is
      // news for the application, not a reason to start over under a fresh id.
      if (metric.type === 'removedFromCluster') clock.setTimeout(() => emitSafely(options.onEvent, { type: 'removed', id, toldBy: metric.toldBy, at: clock.now() }), 0);
      // The application's last: what it throws goes to the driver (reported, not lost), and a
      // listener that threw first skipped the room's own handling above - a wedge verdict needs
      // every refusal noted, so a node wedged for good kept its id.
      options.onMetric?.(metric);
    },
  });
  const timings = roomTimings(options);
  let coordinator: RoomCoordinator | null = null;
  try {
    plumbing.presence.describeSelf(() => {
      const config = node.membership.value;
      const named = node.commitIndex.value > 0;
      // Learners too: a newcomer on empty storage must not come back under any member's id.
      const learners = named ? (config.learners ?? []) : [];
      // A leader says whom it has not reached: the next leader counts their absence on from it.
      const unreachable = coordinator?.unreachableMembers() ?? [];
      return { member: true, voters: named ? config.voters : null, ...(learners.length === 0 ? {} : { learners }), term: node.term.value, leader: node.leader.value, ...(unreachable.length === 0 ? {} : { unreachable }) };
    });
    coordinator = startRoomCoordinator({
      node,
      presence: plumbing.presence,
      peers: plumbing.channel.transport.peers,
      visible: plumbing.visibility.visible,
      clock,
      policy,
      intervalMs: timings.coordinatorIntervalMs,
      changeTimeoutMs: timings.changeTimeoutMs,
      onEvent: options.onEvent,
    });
    const store = createReplicatedStore<State, Command>({ clock, ...options.store, node });
    // Once per incarnation: a store that met a newer version stops for good. Its node goes on
    // (voting, storing, acknowledging) and the room's policy judges nodes, not stores, so the peer
    // stays a member in good standing; only the application can act on it (ask for a reload).
    const unwatchOutdated = store.outdated.subscribe((error) => {
      if (error !== null) emitSafely(options.onEvent, { type: 'storeOutdated', storeVersion: error.storeVersion, seenVersion: error.seenVersion, index: error.index, at: clock.now() });
    });
    const running = coordinator;
    // Once: room.leave() may run twice (an abort of `signal`, then the application's own call) or
    // after a rejoin's own call that it cut short, and a storage's `close` need not tolerate a second.
    let leaving: Promise<void> | null = null;
    const stopWatch = closeWhenNodeStops({ id, node, clock, coordinator: running, plumbing, leaving: () => leaving !== null, onEvent: options.onEvent });
    const leave = (): Promise<void> => {
      stopWatch.end();
      unwatchOutdated();
      return leaveRoom(node, store, running, plumbing, storage);
    };
    incarnation = { id, storage, node, store, signaling: plumbing.signaling, presence: plumbing.presence, refusals, leave: () => (leaving ??= leave()) };
    return incarnation;
  } catch (error) {
    // The coordinator's timer would otherwise tick on against a closed node for good (and keep a
    // Node process alive); the storage is closed by joinAs, so the node running on it stops first.
    coordinator?.close();
    await node.close().catch(() => undefined);
    throw error;
  }
}

async function chooseBootstrap<State, Command>(
  options: JoinRoomOptionsWithNode<State, Command>,
  identityStore: KeyValueStore,
  id: NodeId,
  stored: StoredNodeState,
  plumbing: Plumbing,
  discoveryMs: number,
  pollMs: number,
  { neverRanNode, preferClusterOf }: JoinDiscovery,
): Promise<ClusterConfig | null> {
  if (stored.holdsLog) {
    const saved = await loadBootstrap(identityStore, options.room);
    const bootstrap = saved ?? { voters: [id] };
    // A store with no bootstrap has never started a node in the room (discovery trusts that: an id
    // it holds cannot be reused), so a log it knew nothing of (storage from elsewhere) says so too.
    if (saved === null) await saveBootstrap(identityStore, options.room, bootstrap);
    const clock = options.raftConfig?.clock ?? realClock;
    // A member while it restarts: a newcomer that took it for another newcomer would bootstrap a
    // second cluster beside it. No voters named (it may have been removed while away): a newcomer
    // hearing it waits until the restarted node names the cluster it follows.
    plumbing.presence.describeSelf(() => ({ member: true, voters: null, term: stored.term, leader: null }));
    const removed = await removedWhileAway({ selfId: id, stored, bootstrap, presence: plumbing.presence, clock, waitMs: discoveryMs, pollMs: Math.min(pollMs, 250), signal: options.signal });
    return removed ? null : bootstrap;
  }
  const clock = options.raftConfig?.clock ?? realClock;
  const peers = plumbing.channel.transport.peers;
  const verdict = await discoverCluster({
    selfId: id,
    presence: plumbing.presence,
    peers: () => peers.value,
    listed: () => plumbing.signaling.peers.value,
    clock,
    discoveryMs,
    pollMs: Math.min(pollMs, 250),
    helloLifetimeMs: helloLifetimeMs(pollMs),
    ...(preferClusterOf === undefined ? {} : { preferClusterOf }),
    neverRanNode,
    onDeferral: (chooser) => plumbing.unreachable.setDeferringTo(chooser),
    signal: options.signal,
    mayBootstrap: options.raftConfig?.witness !== true,
    ready: () => plumbing.signaling.ready?.value ?? true,
    signalingClosed: () => plumbing.signalingStopped(),
    signalingFailure: () => plumbing.signalingFailure(),
    ...(options.offlineBootstrapAfterMs === undefined ? {} : { readyGraceMs: options.offlineBootstrapAfterMs }),
    ...(options.witness === undefined ? {} : { neverBootstrap: new Set([options.witness]) }),
    ...(options.startDespiteUnreachable === undefined ? {} : { startDespiteUnreachable: options.startDespiteUnreachable }),
  });
  if (verdict.type === 'identityReused') return null;
  await saveBootstrap(identityStore, options.room, verdict.bootstrap);
  return verdict.bootstrap;
}

/**
 * What the id's storage holds, read where its node will run: by the node factory when it can
 * (workerNodeFactory's reads in a worker, so the page opens no database) and joinRoom opened no
 * storage of its own, else from the storage joinRoom opened. Not both: a page-side handle holds
 * the database, and a reader elsewhere would wait for it.
 */
function readStoredState(options: JoinRoomOptionsWithNode<unknown, unknown>, id: NodeId, storage: RaftStorage, signal: AbortSignal): Promise<StoredNodeState> {
  const factory = options.createNode;
  if (options.storage === undefined && factory.readStoredState !== undefined) return factory.readStoredState(id, signal);
  return readStoredNodeState(storage);
}

async function leaveRoom(node: RaftNode, store: ReplicatedStore<unknown, unknown>, coordinator: RoomCoordinator, plumbing: Plumbing, storage: RaftStorage): Promise<void> {
  coordinator.close();
  store.close();
  // Every step runs even when the node's close fails (an application's createNode may reject
  // there): leave() then gives the tab's slot back, and the next join in the tab opens the same
  // id's storage, which must not be still open here (a review, 2026-12-07). The first failure is
  // rethrown once all is closed.
  try {
    await node.close();
  } finally {
    plumbing.close();
    // After the node, which may be finishing a write on it; an open IndexedDB connection would keep
    // the application's IndexedDbRaftStorage.destroy(name) right after leave() waiting.
    await closeStorage(storage);
  }
}
