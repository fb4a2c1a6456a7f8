// joinRoom: signaling -> transport -> node -> membership policy -> replicated store. A peer
// meets the room through its signaling client, finds the room's cluster (or bootstraps one),
// starts its node on its own storage under an id that survives reloads, and runs the room's
// coordinator (policy and visibility hand-off) beside an application store.
import type { Clock, RaftConfig } from '../core/config.ts';
import type { RaftMetric } from '../core/events.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode, RaftNodeOptions } from '../driver/node-options.ts';
import { realClock } from '../driver/node-options.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { discoverCluster, heldPeersGraceMs, listedAcrossReconnects } from './discover-cluster.ts';
import { createMembershipPolicy, type MembershipPolicySettings } from './membership-policy.ts';
import { createReplicatedStore, type ReplicatedStore, type ReplicatedStoreOptions } from './replicated-store.ts';
import { createRoomChannel, type RoomChannel } from './room-channel.ts';
import { startRoomCoordinator, type RoomCoordinator, type RoomEvent } from './room-coordinator.ts';
import { identityKey, defaultKeyValueStore, loadBootstrap, loadOrMintNodeId, mintNodeId, saveBootstrap, storageHoldsLog, type KeyValueStore } from './room-identity.ts';
import { removedWhileAway } from './removed-while-away.ts';
import { resolveStoreOptions } from './store-options.ts';
import { emitSafely, reasonOf } from './room-events.ts';
import { claimTabIdentity } from './tab-identity.ts';
import { createRoomPresence, type RoomPresence } from './room-presence.ts';
import { watchUnreachablePeers, type UnreachablePeers } from './unreachable-peers.ts';
import { documentVisibility, type VisibilitySource } from './visibility.ts';
import { isWedged } from './wedge-verdict.ts';

type WedgeMetric = Extract<RaftMetric, { type: 'wedgeSuspected' }>;

export interface SignalingContext {
  readonly roomId: string;
  readonly nodeId: NodeId;
  readonly secret?: string;
}

export interface JoinRoomOptions<State, Command> {
  readonly room: string;
  readonly secret?: string;
  /** A signaling client, or a factory given our node id (which joinRoom loads or mints). */
  readonly signaling: SignalingClient | ((context: SignalingContext) => SignalingClient);
  /**
   * The transport over that signaling client (the WebRTC transport, or any RaftTransport). Called
   * once per id; joinRoom closes it (when it has a `close` method) once it stops using it: on
   * `leave()`, and for an id it gives up. A wrapper should pass `close` through.
   */
  readonly createTransport: (signaling: SignalingClient) => RaftTransport;
  /**
   * This peer's durable storage (IndexedDbRaftStorage.open(...) in browsers); default in memory.
   * Called once per id, and each id needs storage of its own: a fresh id starts on empty storage.
   * joinRoom closes (when it has a `close` method) every storage it opened: on `leave()` (and an
   * abort of `signal`) once the node has closed, so `IndexedDbRaftStorage.destroy(name)` may follow
   * right after; for a join that did not go through; and for an id it gives up after a wedge.
   */
  readonly storage?: (id: NodeId) => RaftStorage | Promise<RaftStorage>;
  /**
   * Deletes the durable storage of an id this peer has given up for good: it was removed while
   * away, the room lists it as a voter while its storage is empty, or it wedged; each time joinRoom
   * goes on under a fresh id and the old storage would otherwise stay on disk for good. Called
   * once per such id, after the fresh id is saved in the identity store (so a crash in between
   * leaves an orphan at worst; a browser may reach the disk with localStorage only after the
   * delete, and then the old id comes back on empty storage and the room treats it as it treats
   * any peer that lost its storage), and after joinRoom closed the
   * node and the storage it opened for the old id (when that storage has a `close` method). A copy
   * the application opened itself (`createNode` in a worker) must be closed by the node's `close`,
   * or this callback must cope with it still open. joinRoom does not wait for it: the outcome is a
   * `storageDiscarded` event, and a throw never fails the join. Never called for a fixed id (`nodeId`,
   * or a signaling client's selfId). Browsers: `(id) => IndexedDbRaftStorage.destroy(nameOf(id))`.
   */
  readonly discardStorage?: (id: NodeId) => void | Promise<void>;
  /**
   * Starts the node (default createRaftNode on this thread). Browsers pass a function that calls
   * createWorkerRaftNode so the engine and its storage run in a Web Worker; it receives the
   * storage opened above and may close it and open the same database in the worker instead.
   */
  readonly createNode?: (options: RaftNodeOptions) => Promise<RaftNode>;
  readonly store: ReplicatedStoreOptions<State, Command>;
  /** Overrides the persisted identity. */
  readonly nodeId?: NodeId;
  /** Where the node id and bootstrap config live across reloads (default localStorage, else memory). */
  readonly identityStore?: KeyValueStore;
  /** Default: document.visibilityState where a document exists, else always visible. */
  readonly visibility?: VisibilitySource;
  /** An always-on peer (an edge peer) preferred as voter, so two-tab rooms survive a tab closing. */
  readonly witness?: NodeId;
  readonly policy?: Partial<Omit<MembershipPolicySettings, 'witness'>>;
  readonly raftConfig?: RaftConfig;
  /** How long a newcomer listens for the room's cluster before the smallest id bootstraps one (default 1,500 ms). */
  readonly discoveryMs?: number;
  /**
   * Polled while this peer waits without a cluster because signaling lists peers the transport
   * cannot reach (a `peersUnreachable` event with `waiting: true`): once it returns true, those
   * peers no longer keep it from starting a cluster (say, after the user chose "start anyway").
   * The risk is the user's to take: an unreachable peer may hold a cluster that this one splits from.
   * The choice is told to reachable peers in our hellos, so a smaller reachable id waiting on the
   * same peers starts the cluster and this one joins it. A callback that throws counts as false.
   */
  readonly startDespiteUnreachable?: () => boolean;
  /** Hello period (default 1,000 ms). */
  readonly gossipIntervalMs?: number;
  /** How often the leader re-evaluates the policy (default 250 ms). */
  readonly coordinatorIntervalMs?: number;
  readonly changeTimeoutMs?: number;
  readonly onEvent?: (event: RoomEvent) => void;
  readonly onMetric?: (metric: RaftMetric) => void;
  readonly signal?: AbortSignal;
}

export interface Room<State, Command> {
  /** This peer's node id (changes only after a wedge, see `rejoined` events). */
  readonly id: NodeId;
  /** The current node and store: replaced (new objects) when the peer rejoins after a wedge. */
  readonly node: RaftNode;
  readonly store: ReplicatedStore<State, Command>;
  readonly signaling: SignalingClient;
  /**
   * Stops the policy, closes store, node, transport (its connections), signaling and the storage joinRoom
   * opened (once the node has closed). A second call does nothing more.
   */
  leave(): Promise<void>;
}

/** One node id's stay in the room. */
interface Incarnation<State, Command> {
  readonly id: NodeId;
  /** The storage joinRoom opened for this id: `leave` closes it, after the node. */
  readonly storage: RaftStorage;
  readonly node: RaftNode;
  readonly store: ReplicatedStore<State, Command>;
  readonly signaling: SignalingClient;
  /** The hellos of the room's peers (who they follow): a wedge report is judged against them. */
  readonly presence: RoomPresence;
  /** Closes everything above, the storage last; once (later calls return the first call's promise). */
  leave(): Promise<void>;
}

/** Rejoining under a fresh id happens at most this often in one call (an id found reused). */
const maxIdentityAttempts = 3;

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`joinRoom ${name} = ${String(value)} must be an integer in ${min}..${max}`);
  return value;
}

/**
 * Every option checked again where it is used, checked once before anything is opened: an invalid
 * store or interval found only after discovery and the node's start (as it was) left a bootstrap
 * saved and a log written for a room the application never joined.
 */
function validateBeforeJoining<State, Command>(options: JoinRoomOptions<State, Command>): void {
  resolveStoreOptions(options.store);
  createMembershipPolicy({ ...options.policy, witness: options.witness ?? null });
  roomTimings(options);
}

/** The room's intervals, each with its default and bounds, in one place. */
function roomTimings<State, Command>(options: JoinRoomOptions<State, Command>) {
  return {
    gossipIntervalMs: bounded('gossipIntervalMs', options.gossipIntervalMs, 1_000, 10, 60_000),
    discoveryMs: bounded('discoveryMs', options.discoveryMs, 1_500, 0, 600_000),
    coordinatorIntervalMs: bounded('coordinatorIntervalMs', options.coordinatorIntervalMs, 250, 1, 60_000),
    changeTimeoutMs: bounded('changeTimeoutMs', options.changeTimeoutMs, 10_000, 1, 600_000),
  };
}

/**
 * Browsers: a per-tab identity slot held by a Web Lock over localStorage (tab-identity.ts), so two
 * tabs of one profile are two members and a reloaded tab is the same one. Elsewhere: localStorage
 * if present, else memory.
 */
async function defaultIdentityStore(room: string): Promise<KeyValueStore> {
  const hasLocks = typeof navigator !== 'undefined' && (navigator as { locks?: unknown }).locks !== undefined;
  const hasLocalStorage = (globalThis as { localStorage?: unknown }).localStorage !== undefined;
  if (hasLocks && hasLocalStorage) return (await claimTabIdentity(room)).store;
  return defaultKeyValueStore();
}

export async function joinRoom<State, Command>(options: JoinRoomOptions<State, Command>): Promise<Room<State, Command>> {
  if (typeof options.room !== 'string' || options.room.length === 0) throw new RangeError('joinRoom needs a room name');
  validateBeforeJoining(options);
  const identityStore = options.identityStore ?? (await defaultIdentityStore(options.room));
  const givenClient = typeof options.signaling === 'function' ? null : options.signaling;
  const fixedId = givenClient?.selfId ?? options.nodeId ?? null;
  const clock = options.raftConfig?.clock ?? realClock;
  let current: Incarnation<State, Command>;
  let left = false;
  let rejoining = false;
  /** The rejoin under way, which leave() waits for: nothing may open or delete storage after it. */
  let rejoinInFlight: Promise<void> = Promise.resolve();
  /** Aborted by leave(): stops a rejoin's discovery, which may otherwise wait on peers for long. */
  const leaving = new AbortController();
  options.signal?.addEventListener('abort', () => leaving.abort(options.signal?.reason), { once: true });

  const rejoin = async (wedged: Incarnation<State, Command>, metric: WedgeMetric): Promise<void> => {
    emitSafely(options.onEvent, { type: 'wedged', id: wedged.id, refusedFrom: metric.from, gate: metric.gate, voters: metric.voters, at: clock.now() });
    // A fixed id (given, or the signaling client's) cannot change: the application decides.
    if (fixedId !== null || left || rejoining || wedged !== current) return;
    // Wedged only if it follows no leader, or only the one it refuses (wedge-verdict.ts). The node
    // reports a sender once, so a report dismissed now is looked at again while this id runs: the
    // leader it names may turn out stale, or go.
    if (!(await stillWedged(wedged, metric, () => !left && !rejoining && wedged === current, clock, roomTimings(options).gossipIntervalMs))) return;
    if (left || rejoining || wedged !== current) return;
    rejoining = true;
    const run = async (): Promise<void> => {
      try {
        // Closes the wedged id's storage too: one still open would keep its database from being deleted.
        await wedged.leave();
        // Left meanwhile: the wedged id stays saved, and the next join deals with it.
        if (left) return;
        const fresh = await freshId(options, identityStore);
        discardAbandoned(options, wedged.id);
        if (left) return;
        const joined = await joinWithRetries({ ...options, signal: leaving.signal }, identityStore, fresh, false, rejoin);
        if (left) {
          await joined.leave();
          return;
        }
        current = joined;
        emitSafely(options.onEvent, { type: 'rejoined', previousId: wedged.id, id: current.id, at: clock.now() });
      } catch (error) {
        // A rejoin that leave() cut short is not a failure the application needs to hear of.
        if (!left) emitSafely(options.onEvent, { type: 'rejoinFailed', reason: error instanceof Error ? error.message : String(error), at: clock.now() });
      } finally {
        rejoining = false;
      }
    };
    rejoinInFlight = run();
    await rejoinInFlight;
  };

  const id = fixedId ?? (await loadOrMintNodeId(identityStore, options.room, options.raftConfig?.random));
  current = await joinWithRetries(options, identityStore, id, fixedId !== null, rejoin);
  const room: Room<State, Command> = {
    get id() {
      return current.id;
    },
    get node() {
      return current.node;
    },
    get store() {
      return current.store;
    },
    get signaling() {
      return current.signaling;
    },
    leave: async () => {
      left = true;
      leaving.abort(new Error('the room was left'));
      await rejoinInFlight;
      await current.leave();
    },
  };
  if (options.signal?.aborted === true) {
    await room.leave();
    throw options.signal.reason;
  }
  options.signal?.addEventListener('abort', () => void room.leave(), { once: true });
  return room;
}

/** How many times a dismissed wedge report is looked at again (one per gossip interval: minutes). */
const maxWedgeRechecks = 600;

/** Whether the incarnation is wedged now or becomes so while `watching()`; false once the node stops or the rechecks run out. */
async function stillWedged<State, Command>(
  incarnation: Incarnation<State, Command>,
  metric: WedgeMetric,
  watching: () => boolean,
  clock: Clock,
  intervalMs: number,
): Promise<boolean> {
  for (let recheck = 0; recheck <= maxWedgeRechecks; recheck += 1) {
    if (!watching() || incarnation.node.stopped.value !== null) return false;
    const view = { selfId: incarnation.id, following: incarnation.node.leader.value, term: incarnation.node.term.value, refused: metric.from, hellos: incarnation.presence.recent() };
    if (isWedged(view)) return true;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, intervalMs));
  }
  return false;
}

async function freshId<State, Command>(options: JoinRoomOptions<State, Command>, identityStore: KeyValueStore): Promise<NodeId> {
  const id = mintNodeId(options.raftConfig?.random);
  await identityStore.set(identityKey(options.room), id);
  return id;
}

async function joinWithRetries<State, Command>(
  options: JoinRoomOptions<State, Command>,
  identityStore: KeyValueStore,
  firstId: NodeId,
  fixedId: boolean,
  onWedged: (incarnation: Incarnation<State, Command>, metric: WedgeMetric) => Promise<void>,
): Promise<Incarnation<State, Command>> {
  let id = firstId;
  for (let attempt = 1; ; attempt += 1) {
    const incarnation = await joinAs(options, identityStore, id, onWedged);
    if (incarnation !== null) return incarnation;
    if (fixedId || attempt >= maxIdentityAttempts) {
      throw new Error(`joinRoom: ${id} cannot rejoin as a voter (the room lists it while this peer's storage is empty, or it was removed while away); give a fresh nodeId`);
    }
    // SPEC "Wedge": the way back is a fresh id on empty storage, admitted by the policy. joinAs
    // closed the old id's storage; it is discarded once the fresh id is saved.
    const abandoned = id;
    id = await freshId(options, identityStore);
    discardAbandoned(options, abandoned);
  }
}

/**
 * Closes a storage joinRoom opened and no longer uses. RaftStorage has no `close` (in-memory
 * storage needs none); IndexedDB and file storage do, and both tolerate a second call (the demo's
 * createNode closes its page-side copy itself, the edge peer closes its storage after a failed join
 * and after leave()).
 */
async function closeStorage(storage: RaftStorage): Promise<void> {
  const closable = storage as RaftStorage & { close?: () => void | Promise<void> };
  if (typeof closable.close !== 'function') return;
  try {
    await closable.close();
  } catch {
    // A storage that fails to close is one nobody uses any more; the join's own outcome (a fresh
    // id, or the error being rethrown) or a leave that went through matters more than this one.
  }
}

/** Closes a transport joinRoom had made, when it has a `close`; a throw there must not stop a leave or a rejoin. */
function closeTransport(transport: RaftTransport): void {
  try {
    transport.close?.();
  } catch {
    // A transport that fails to close is one nobody uses any more.
  }
}

/** Hands an id given up for good to `discardStorage` (once), reporting the outcome without waiting for it. */
function discardAbandoned<State, Command>(options: JoinRoomOptions<State, Command>, id: NodeId): void {
  const discard = options.discardStorage;
  if (discard === undefined) return;
  const clock = options.raftConfig?.clock ?? realClock;
  const report = (failure: string | null): void => emitSafely(options.onEvent, { type: 'storageDiscarded', id, failure, at: clock.now() });
  let pending: void | Promise<void>;
  try {
    pending = discard(id);
  } catch (error) {
    report(reasonOf(error));
    return;
  }
  // Not awaited: deleting a large database takes a while (or waits on a connection another tab
  // still holds), and the join under the fresh id needs nothing from it.
  Promise.resolve(pending).then(
    () => report(null),
    (error: unknown) => report(reasonOf(error)),
  );
}

interface Plumbing {
  readonly signaling: SignalingClient;
  readonly channel: RoomChannel;
  readonly presence: RoomPresence;
  readonly visibility: VisibilitySource;
  readonly unreachable: UnreachablePeers;
  /** Whether the signaling client has stopped for good (its `closed` settled). */
  signalingStopped(): boolean;
  close(): void;
}

function connect<State, Command>(options: JoinRoomOptions<State, Command>, id: NodeId, gossipIntervalMs: number, discoveryMs: number): Plumbing {
  const clock = options.raftConfig?.clock ?? realClock;
  const signaling =
    typeof options.signaling === 'function'
      ? options.signaling({ roomId: options.room, nodeId: id, ...(options.secret === undefined ? {} : { secret: options.secret }) })
      : options.signaling;
  const transport = options.createTransport(signaling);
  const channel = createRoomChannel(transport);
  const visibility = options.visibility ?? documentVisibility();
  const presence = createRoomPresence({ channel, clock, visible: visibility.visible, gossipIntervalMs });
  // A client stopped for good (refused, replaced, given up) lists nobody again: peers it listed
  // before are no longer held as if they might come back (discover-cluster.ts listedAcrossReconnects).
  let stopped = false;
  const markStopped = (): void => {
    stopped = true;
  };
  signaling.closed.then(markStopped, markStopped);
  const unreachable = watchUnreachablePeers({
    selfId: id,
    // The same list discovery counts: a signaling reconnect does not make the banner go blank.
    listed: listedAcrossReconnects({
      listed: () => signaling.peers.value,
      ready: () => signaling.ready?.value ?? true,
      clock,
      holdMs: heldPeersGraceMs + discoveryMs,
      closedForGood: () => stopped,
    }),
    reachable: channel.transport.peers,
    clock,
    // Forming a connection takes a moment: a peer counts once it is overdue by discovery's measure.
    graceMs: Math.max(discoveryMs, 2 * gossipIntervalMs),
    checkIntervalMs: Math.min(gossipIntervalMs, 250),
    report: (event) => options.onEvent?.(event),
  });
  return {
    signaling,
    channel,
    presence,
    visibility,
    unreachable,
    signalingStopped: () => stopped,
    close() {
      unreachable.close();
      presence.close();
      channel.close();
      // The transport too: the room channel only stops listening to it. A WebRTC transport left
      // open kept its connections, so the room's other pages saw a page that left, or an id this
      // page gave up, as reachable for as long as this page lived, and the policy never drops a
      // reachable member (found by npm run chaos:rooms).
      closeTransport(transport);
      signaling.close();
      if (options.visibility === undefined) visibility.close();
    },
  };
}

/**
 * null when `id` must not be used again: the room lists it as a voter while our storage is empty,
 * or it was removed while away. Whenever it returns null or throws, the storage it opened is
 * closed (the caller may then discard it, or may close a storage it shares once more).
 */
async function joinAs<State, Command>(
  options: JoinRoomOptions<State, Command>,
  identityStore: KeyValueStore,
  id: NodeId,
  onWedged: (incarnation: Incarnation<State, Command>, metric: WedgeMetric) => Promise<void>,
): Promise<Incarnation<State, Command> | null> {
  const { gossipIntervalMs, discoveryMs } = roomTimings(options);
  const policy = createMembershipPolicy({ ...options.policy, witness: options.witness ?? null });
  const storage = (await options.storage?.(id)) ?? new InMemoryRaftStorage();
  let plumbing: Plumbing | null = null;
  try {
    plumbing = connect(options, id, gossipIntervalMs, discoveryMs);
    const bootstrap = await chooseBootstrap(options, identityStore, id, storage, plumbing, discoveryMs, gossipIntervalMs);
    if (bootstrap === null) {
      plumbing.close();
      await closeStorage(storage);
      return null;
    }
    plumbing.unreachable.setWaiting(false);
    return await startIncarnation(options, { id, storage, bootstrap, plumbing, policy }, onWedged);
  } catch (error) {
    plumbing?.close();
    await closeStorage(storage);
    throw error;
  }
}

interface IncarnationParts {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly bootstrap: ClusterConfig;
  readonly plumbing: Plumbing;
  readonly policy: ReturnType<typeof createMembershipPolicy>;
}

/** Starts the node, its coordinator and the application store; a failure after the node started closes it. */
async function startIncarnation<State, Command>(
  options: JoinRoomOptions<State, Command>,
  { id, storage, bootstrap, plumbing, policy }: IncarnationParts,
  onWedged: (incarnation: Incarnation<State, Command>, metric: WedgeMetric) => Promise<void>,
): Promise<Incarnation<State, Command>> {
  const clock = options.raftConfig?.clock ?? realClock;
  // Assigned before the node can report a wedge (the report is deferred by a timer).
  let incarnation: Incarnation<State, Command> | null = null;
  const node = await (options.createNode ?? createRaftNode)({
    id,
    clusterConfig: bootstrap,
    transport: plumbing.channel.transport,
    storage,
    ...(options.raftConfig === undefined ? {} : { raftConfig: options.raftConfig }),
    onMetric: (metric) => {
      options.onMetric?.(metric);
      // Deferred: metrics are emitted inside the driver's step.
      if (metric.type === 'wedgeSuspected') clock.setTimeout(() => void (incarnation === null ? undefined : onWedged(incarnation, metric)), 0);
      // Removed while it ran (a tab asleep past the policy's unreachable window): the policy takes
      // the same id back as a learner once it is reachable (rule 2), keeping its log, so this is
      // news for the application, not a reason to start over under a fresh id.
      if (metric.type === 'removedFromCluster') clock.setTimeout(() => emitSafely(options.onEvent, { type: 'removed', id, toldBy: metric.toldBy, at: clock.now() }), 0);
    },
  });
  const timings = roomTimings(options);
  let coordinator: RoomCoordinator | null = null;
  try {
    plumbing.presence.describeSelf(() => ({
      member: true,
      voters: node.commitIndex.value > 0 ? node.membership.value.voters : null,
      term: node.term.value,
      leader: node.leader.value,
    }));
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
    const running = coordinator;
    // Once: room.leave() may run twice (an abort of `signal`, then the application's own call) or
    // after a rejoin's own call that it cut short, and a storage's `close` need not tolerate a second.
    let leaving: Promise<void> | null = null;
    incarnation = { id, storage, node, store, signaling: plumbing.signaling, presence: plumbing.presence, leave: () => (leaving ??= leaveRoom(node, store, running, plumbing, storage)) };
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
  options: JoinRoomOptions<State, Command>,
  identityStore: KeyValueStore,
  id: NodeId,
  storage: RaftStorage,
  plumbing: Plumbing,
  discoveryMs: number,
  pollMs: number,
): Promise<ClusterConfig | null> {
  if (await storageHoldsLog(storage)) {
    const bootstrap = (await loadBootstrap(identityStore, options.room)) ?? { voters: [id] };
    const clock = options.raftConfig?.clock ?? realClock;
    // A member while it restarts: a newcomer that took it for another newcomer would bootstrap a
    // second cluster beside it. No voters named (it may have been removed while away): a newcomer
    // hearing it waits until the restarted node names the cluster it follows.
    const storedTerm = await storage.term();
    plumbing.presence.describeSelf(() => ({ member: true, voters: null, term: storedTerm, leader: null }));
    const removed = await removedWhileAway({ selfId: id, storage, bootstrap, presence: plumbing.presence, clock, waitMs: discoveryMs, pollMs: Math.min(pollMs, 250), signal: options.signal });
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
    signal: options.signal,
    mayBootstrap: options.raftConfig?.witness !== true,
    ready: () => plumbing.signaling.ready?.value ?? true,
    signalingClosed: () => plumbing.signalingStopped(),
    ...(options.witness === undefined ? {} : { neverBootstrap: new Set([options.witness]) }),
    ...(options.startDespiteUnreachable === undefined ? {} : { startDespiteUnreachable: options.startDespiteUnreachable }),
  });
  if (verdict.type === 'identityReused') return null;
  await saveBootstrap(identityStore, options.room, verdict.bootstrap);
  return verdict.bootstrap;
}

async function leaveRoom(node: RaftNode, store: ReplicatedStore<unknown, unknown>, coordinator: RoomCoordinator, plumbing: Plumbing, storage: RaftStorage): Promise<void> {
  coordinator.close();
  store.close();
  await node.close();
  plumbing.close();
  // After the node, which may be finishing a write on it; an open IndexedDB connection would keep
  // the application's IndexedDbRaftStorage.destroy(name) right after leave() waiting.
  await closeStorage(storage);
}
