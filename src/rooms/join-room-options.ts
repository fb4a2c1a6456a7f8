// joinRoom's options and the room it returns, with the bounds every interval is checked against
// before anything is opened.
import type { FollowerUnsubscribes, RoomIncarnation } from './incarnation-followers.ts';
import { describeValue } from '../core/describe-value.ts';
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import type { RaftMetric } from '../core/events.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode, RaftNodeOptions } from '../driver/node-options.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import type { SignalingRetry } from '../signaling/websocket-client.ts';
import { requireOptionalSecret } from '../signaling/room-settings.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import type { StoredNodeState } from '../storage/stored-node-state.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createMembershipPolicy, defaultMembershipPolicySettings, type MembershipPolicy, type MembershipPolicySettings } from './membership-policy.ts';
import type { ReplicatedStore, ReplicatedStoreOptions } from './replicated-store.ts';
import type { RoomEvent } from './room-coordinator.ts';
import type { KeyValueStore } from './room-identity.ts';
import { resolveStoreOptions } from './store-options.ts';
import type { VisibilitySource } from './visibility.ts';
import { silenceFloorMs } from './wedge-verdict.ts';
import type { TransportContext } from './transport-context.ts';

export interface SignalingContext {
  readonly roomId: string;
  readonly nodeId: NodeId;
  readonly secret?: string | undefined;
  /**
   * What proves `nodeId` to the signaling server, for the claimed ids joinRoom mints (`peer-k…`,
   * signaling/node-claim.ts): pass it on to createWebSocketSignalingClient, or spread the whole
   * context into it. A server refuses a claimed id without it (`claim-refused`).
   */
  readonly claim?: string | undefined;
  /**
   * Where a WebSocket signaling client tells the room of each failed attempt to reach it
   * (createWebSocketSignalingClient's `onRetry`): the room reports it as a `signalingRetry` event,
   * so a join that waits for an unreachable server, or for an id another connection holds
   * (`member-in-use`), says why. Spreading the context passes it on; to pass an `onRetry` of your
   * own, call this one from it, since a property written after the spread replaces it. A client
   * that has no retries (BroadcastChannel) ignores it.
   */
  readonly onRetry?: (retry: SignalingRetry) => void;
}

/** Starts a room's node: createRaftNode, workerNodeFactory(…)'s result, or the application's own. */
export type NodeFactory = ((options: RaftNodeOptions) => Promise<RaftNode>) & {
  /**
   * Reads what an id's storage holds where this factory's node will run (workerNodeFactory's
   * reads it in a worker). joinRoom calls it before starting a node when it was given no
   * `storage` of its own, so a page whose engine runs in a worker opens no database itself and
   * ships no IndexedDB code. Without it, joinRoom reads the storage it opened (in memory when
   * `storage` is left out). `signal` aborts once the join attempt that read is over, whether a
   * node started on the id or not (and with joinRoom's own `signal`): whatever the read set aside
   * for the id's node (workerNodeFactory keeps its worker) and the node did not take may go then.
   */
  readonly readStoredState?: (id: NodeId, signal?: AbortSignal) => Promise<StoredNodeState>;
};

export interface JoinRoomOptions<State, Command> {
  readonly room: string;
  /**
   * The room secret. joinRoom hands it to the signaling factory (its context, for admission at a
   * server that checks it, and to sign BroadcastChannel envelopes) and to `createTransport` (its
   * context, for the WebRTC transport, which makes every peer prove it over every connection).
   * The transport's check is what keeps a page with another secret out: an open signaling server
   * (the default `raftmesh-signal`) admits anyone. So joinRoom refuses, before it waits for the
   * room, a raftmesh WebRTC transport (or a wrapper that passes its `usesSecret` through) that
   * was given no secret or another one. A transport of the application's own cannot be checked:
   * such a transport must authenticate peers itself, or the secret keeps nobody out. It does not
   * encrypt the room's data beyond WebRTC's own DTLS, and does not hide the room from a signaling
   * server (README "Hardening").
   */
  readonly secret?: string | undefined;
  /** A signaling client, or a factory given our node id (which joinRoom loads or mints). */
  readonly signaling: SignalingClient | ((context: SignalingContext) => SignalingClient);
  /**
   * The transport over that signaling client (the WebRTC transport, or any RaftTransport). Called
   * once per id; joinRoom closes it (when it has a `close` method) once it stops using it: on
   * `leave()`, and for an id it gives up. A wrapper should pass `close` through (and `usesSecret`,
   * so the room secret check below still applies). `context` carries the room secret and the
   * room's ear for failed peer authentication; spread it in:
   * `(signaling, context) => createWebRtcTransport({ signaling, ...context, iceServers: [] })`.
   */
  readonly createTransport: (signaling: SignalingClient, context: TransportContext) => RaftTransport;
  /**
   * This peer's durable storage (IndexedDbRaftStorage.open(...) in browsers, for an engine on the
   * page); default in memory. Leave it out when `createNode` runs the engine and its storage
   * elsewhere and can read that storage there (workerNodeFactory's does, in its worker): joinRoom
   * then asks it (`NodeFactory.readStoredState`). Called once per id, and each id needs storage of
   * its own: a fresh id starts on empty storage.
   * joinRoom closes (when it has a `close` method) every storage it opened: on `leave()` (and an
   * abort of `signal`) once the node has closed, so `IndexedDbRaftStorage.destroy(name)` may follow
   * right after; for a join that did not go through; and for an id it gives up (after a wedge,
   * or when the room will not take it back). A storage that refuses to open because it lost what
   * it held (`RaftStorageError` reason 'dataLost') makes joinRoom give its id up too: a
   * `storageLost` event, then a fresh id (a fixed `nodeId` fails with that error instead).
   */
  readonly storage?: (id: NodeId) => RaftStorage | Promise<RaftStorage>;
  /**
   * Deletes the durable storage of an id this peer has given up for good: it was removed while
   * away, the room lists it as a member (voter or learner) while its storage is empty, it wedged, or its storage lost
   * what it held (reason 'dataLost': an empty database under that name); each time joinRoom
   * goes on under a fresh id and the old storage would otherwise stay on disk for good. Called
   * once per such id, after the fresh id is saved in the identity store (so a crash in between
   * leaves an orphan at worst; a browser may reach the disk with localStorage only after the
   * delete, and then the old id comes back on empty storage and the room treats it as it treats
   * any peer that lost its storage), and after joinRoom closed the
   * node and the storage it opened for the old id (when that storage has a `close` method). A copy
   * the application opened itself (`createNode` in a worker) must be closed by the node's `close`,
   * or this callback must cope with it still open. joinRoom does not wait for it: the outcome is a
   * `storageDiscarded` event, and a throw never fails the join. Never called for a fixed id (`nodeId`,
   * or a signaling client's selfId). Browsers: `(id) => IndexedDbRaftStorage.destroy(nameOf(id))`,
   * or, with the engine in a worker, `engine.discardStorage` (`engine` being the
   * `workerNodeFactory(…)` passed as `createNode`), which deletes it in a worker.
   */
  readonly discardStorage?: (id: NodeId) => void | Promise<void>;
  /**
   * Starts the node (default createRaftNode on this thread; required by `raftmesh/rooms`'s
   * joinRoom, which carries no engine). Browsers pass `workerNodeFactory` (raftmesh/worker) so the
   * engine and its storage run in a Web Worker, and leave `storage` out: the factory reads the
   * stored state in a worker as well (and closes a page-side storage it is given anyway, which
   * the worker could not open while it is held). A hand-written one must forward `onMetric`: the
   * room hears through it that its node wedged or was removed. One that wraps workerNodeFactory's
   * must carry its `readStoredState` along too (`Object.assign(wrapper, { readStoredState:
   * engine.readStoredState })`): without it and without `storage`, joinRoom finds no log and
   * takes every restart for a newcomer's first join.
   */
  readonly createNode?: NodeFactory;
  readonly store: ReplicatedStoreOptions<State, Command>;
  /**
   * Overrides the persisted identity. A claimed id (`peer-k…`) needs its claim in the identity
   * store (saveNodeIdentity), or the join is refused: a signaling server would refuse it.
   */
  readonly nodeId?: NodeId;
  /**
   * Where the node id, its claim and bootstrap config live across reloads. Default in a browser
   * tab: a slot of the tab's own in IndexedDB (the `raftmesh-identity` database; tab-identity.ts),
   * held from the join until `leave()` resolves (or the join fails or is aborted), so two open
   * tabs are two members, a reloaded tab is the same one, and a join after a leave in the same
   * tab takes the same slot and id again; elsewhere localStorage if present, else memory.
   */
  readonly identityStore?: KeyValueStore;
  /**
   * Default: document.visibilityState where a document exists, else always visible; and
   * `pagehide` (not kept for the back/forward cache) as `gone`, on which the room closes its
   * connections at once. A source of the application's own keeps that only if it provides `gone`.
   */
  readonly visibility?: VisibilitySource;
  /** An always-on peer (an edge peer) preferred as voter, so two-tab rooms survive a tab closing. */
  readonly witness?: NodeId;
  readonly policy?: Partial<Omit<MembershipPolicySettings, 'witness'>>;
  /**
   * The node's engine settings. Its `random`, when given, also draws the claim of every id joinRoom
   * mints: a seeded source (tests, simulations) makes ids reproducible and claims guessable.
   */
  readonly raftConfig?: RaftConfig;
  /** How long a newcomer listens for the room's cluster before the smallest id bootstraps one (default 1,500 ms). */
  readonly discoveryMs?: number;
  /**
   * A newcomer listens for the room only once signaling holds the room's peer list
   * (`SignalingClient.ready`): without it an empty room cannot be told from one whose members are
   * out of sight, and a cluster started beside theirs splits the room for good. Set this to let a
   * newcomer whose signaling is still not ready after this many ms listen anyway, and bootstrap if
   * it hears nobody: same-origin tabs meeting over a BroadcastChannel while the server is down
   * can then start a room offline (the demo does, with 5,000). Default: never. A member heard is
   * joined either way. 0..600,000.
   */
  readonly offlineBootstrapAfterMs?: number;
  /**
   * Polled while this peer waits without a cluster because signaling lists peers the transport
   * cannot reach (a `peersUnreachable` event with `waiting: true`): once it returns true, those
   * peers no longer keep it from starting a cluster (say, after the user chose "start anyway").
   * The risk is the user's to take: an unreachable peer may hold a cluster that this one splits from.
   * The choice goes out in our hellos: a reachable page that has not chosen, held back by peers it
   * cannot reach, promises to join (`deferringTo`), and this page starts once every smaller
   * reachable id has promised it. Once this page has promised another chooser, its own choice
   * changes nothing. A callback that throws counts as false.
   */
  readonly startDespiteUnreachable?: () => boolean;
  /** Hello period (default 1,000 ms). */
  readonly gossipIntervalMs?: number;
  /** How often the leader re-evaluates the policy (default 250 ms). */
  readonly coordinatorIntervalMs?: number;
  readonly changeTimeoutMs?: number;
  readonly onEvent?: (event: RoomEvent) => void;
  readonly onMetric?: (metric: RaftMetric) => void;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The options of `raftmesh/rooms`'s joinRoom: the same, with `createNode` required. That joinRoom
 * names no engine of its own, so a page whose engine runs in a worker (`workerNodeFactory`) does
 * not ship a second copy of it (README "Measured figures", the bundle table).
 */
export type JoinRoomOptionsWithNode<State, Command> = JoinRoomOptions<State, Command> & { readonly createNode: NodeFactory };

export interface Room<State, Command> {
  /** This peer's node id (changes only after a wedge, see `rejoined` events). */
  readonly id: NodeId;
  /** The current node and store: replaced (new objects) when the peer rejoins after a wedge. */
  readonly node: RaftNode;
  readonly store: ReplicatedStore<State, Command>;
  readonly signaling: SignalingClient;
  /**
   * Subscriptions that stay on the current node and store: `subscribe` runs now with them, and
   * again after every rejoin (`rejoined` event) once the unsubscribe functions it returned for the
   * old ones have run; on `leave()` they run and it is not called again. Returns a function that
   * stops following (and unsubscribes). Subscribe to `room.node` or `room.store` directly only for
   * what may end with the first incarnation.
   */
  follow(subscribe: (current: RoomIncarnation<State, Command>) => FollowerUnsubscribes): () => void;
  /**
   * Stops the policy, closes store, node, transport (its connections), signaling and the storage joinRoom
   * opened (once the node has closed), then gives the tab's identity slot back (default identity
   * store), so the next join in the tab runs under the same id. A second call does nothing more.
   */
  leave(): Promise<void>;
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`joinRoom ${name} = ${describeValue(value)} must be an integer in ${min}..${max}`);
  return value;
}

/**
 * Every option checked again where it is used, checked once before anything is opened: an invalid
 * store or interval found only after discovery and the node's start (as it was) left a bootstrap
 * saved and a log written for a room the application never joined.
 */
export function validateBeforeJoining<State, Command>(options: JoinRoomOptions<State, Command>): void {
  // Only what every signaling client needs: the WebSocket protocol's own bounds are checked by
  // its client (a BroadcastChannel-only room may use a longer name).
  if (typeof options !== 'object' || options === null) throw new TypeError('joinRoom: pass the room options ({ room, signaling, createTransport, store, ... })');
  if (typeof options.room !== 'string' || options.room.length === 0) throw new RangeError('joinRoom: room must be a non-empty string');
  refuseUnknownOptions(options);
  requireOptionalSecret(options.secret, 'joinRoom');
  // Untyped callers got "cannot read properties of undefined" from deep inside for these.
  const signaling = options.signaling as unknown;
  const isClient = typeof signaling === 'object' && signaling !== null && typeof (signaling as { signal?: unknown }).signal === 'function';
  if (typeof signaling !== 'function' && !isClient) throw new TypeError('joinRoom: signaling must be a signaling client, or a function (context) => client, the context ({ roomId, nodeId, secret, claim }) spread into createWebSocketSignalingClient or createBroadcastChannelSignalingClient');
  if (typeof options.createTransport !== 'function') throw new TypeError('joinRoom: createTransport must be a function (signaling, context) => transport, e.g. (signaling, context) => createWebRtcTransport({ signaling, ...context })');
  if (typeof options.store !== 'object' || options.store === null) throw new TypeError('joinRoom: store must be the replicated store\'s options, { initialState, apply: (state, command) => state }');
  for (const name of ['storage', 'discardStorage', 'createNode', 'onEvent', 'onMetric'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`joinRoom: ${name} must be a function when given`);
  }
  // Before any storage opens or discovery waits: a peer that waits for its room (a witness never
  // starts one) would otherwise hear of a bad timing only once a room appeared.
  resolveRaftConfig(options.raftConfig);
  resolveStoreOptions(options.store);
  roomTimings(options);
  roomMembershipPolicy(options);
}

/**
 * The room's membership policy: its settings, the witness, and `silentAfterMs` held above the
 * time a wedged learner takes to be told to rejoin with this room's timings (silenceFloorMs):
 * the default is raised to it, and a shorter explicit value is refused.
 */
export function roomMembershipPolicy<State, Command>(options: JoinRoomOptions<State, Command>): MembershipPolicy {
  const raft = resolveRaftConfig(options.raftConfig);
  const floor = silenceFloorMs(raft.electionTimeoutMaxMs, raft.wedgeSuspicionTimeouts, roomTimings(options).gossipIntervalMs);
  const chosen = options.policy?.silentAfterMs;
  if (chosen !== undefined && Number.isFinite(chosen) && chosen < floor) {
    throw new RangeError(`joinRoom: policy.silentAfterMs = ${String(chosen)} ms is shorter than a wedged learner may take to be told to rejoin with these timings (${String(floor)} ms: twice (wedgeSuspicionTimeouts + 4) election timeouts and three gossip intervals); use at least that`);
  }
  const silentAfterMs = chosen ?? Math.max(defaultMembershipPolicySettings.silentAfterMs, floor);
  return createMembershipPolicy({ ...options.policy, silentAfterMs, witness: options.witness ?? null });
}

/** The room's intervals, each with its default and bounds, in one place. */
export function roomTimings<State, Command>(options: JoinRoomOptions<State, Command>) {
  return {
    gossipIntervalMs: bounded('gossipIntervalMs', options.gossipIntervalMs, 1_000, 10, 60_000),
    discoveryMs: bounded('discoveryMs', options.discoveryMs, 1_500, 0, 600_000),
    coordinatorIntervalMs: bounded('coordinatorIntervalMs', options.coordinatorIntervalMs, 250, 1, 60_000),
    changeTimeoutMs: bounded('changeTimeoutMs', options.changeTimeoutMs, 10_000, 1, 600_000),
    offlineBootstrapAfterMs: options.offlineBootstrapAfterMs === undefined ? null : bounded('offlineBootstrapAfterMs', options.offlineBootstrapAfterMs, 0, 0, 600_000),
  };
}

/**
 * Every option joinRoom reads; `satisfies` keeps the list and JoinRoomOptions the same, both ways.
 * A misspelt option (`discoverMs`) was silently ignored, its default taken (the browser newcomer).
 */
const joinRoomOptionNames = {
  room: true, secret: true, signaling: true, createTransport: true, storage: true, discardStorage: true, createNode: true, store: true,
  nodeId: true, identityStore: true, visibility: true, witness: true, policy: true, raftConfig: true, discoveryMs: true,
  offlineBootstrapAfterMs: true, startDespiteUnreachable: true, gossipIntervalMs: true, coordinatorIntervalMs: true,
  changeTimeoutMs: true, onEvent: true, onMetric: true, signal: true,
} as const satisfies Record<keyof JoinRoomOptions<unknown, unknown>, true>;

function refuseUnknownOptions(options: object): void {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(joinRoomOptionNames, name)) continue;
    const near = Object.keys(joinRoomOptionNames).find((known) => known.toLowerCase().startsWith(name.toLowerCase().slice(0, 5)));
    throw new TypeError(`joinRoom: unknown option ${JSON.stringify(name)}${near === undefined ? '' : ` (did you mean ${near}?)`}; the options are ${Object.keys(joinRoomOptionNames).join(', ')}`);
  }
}
