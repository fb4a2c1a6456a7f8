// joinRoom: signaling -> transport -> node -> membership policy -> replicated store. A peer
// meets the room through its signaling client, finds the room's cluster (or bootstraps one),
// starts its node on its own storage under an id that survives reloads, and runs the room's
// coordinator (policy and visibility hand-off) beside an application store.
import type { RaftConfig } from '../core/config.ts';
import type { RaftMetric } from '../core/events.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { realClock } from '../driver/node-options.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { discoverCluster } from './discover-cluster.ts';
import { defaultMembershipPolicySettings, validatePolicySettings, type MembershipPolicySettings } from './membership-policy.ts';
import { createReplicatedStore, type ReplicatedStore, type ReplicatedStoreOptions } from './replicated-store.ts';
import { createRoomChannel, type RoomChannel } from './room-channel.ts';
import { startRoomCoordinator, type RoomCoordinator, type RoomEvent } from './room-coordinator.ts';
import { identityKey, defaultKeyValueStore, loadBootstrap, loadOrMintNodeId, mintNodeId, saveBootstrap, storageHoldsLog, type KeyValueStore } from './room-identity.ts';
import { createRoomPresence, type RoomPresence } from './room-presence.ts';
import { documentVisibility, type VisibilitySource } from './visibility.ts';

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
  /** The transport over that signaling client (the WebRTC transport, or any RaftTransport). */
  readonly createTransport: (signaling: SignalingClient) => RaftTransport;
  /** This peer's durable storage (IndexedDbRaftStorage.open(...) in browsers); default in memory. */
  readonly storage?: (id: NodeId) => RaftStorage | Promise<RaftStorage>;
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
  readonly id: NodeId;
  readonly node: RaftNode;
  readonly store: ReplicatedStore<State, Command>;
  readonly signaling: SignalingClient;
  /** Stops the policy, hands leadership on if we lead, closes store, node, transport wrapper and signaling. */
  leave(): Promise<void>;
}

/** Rejoining under a fresh id happens at most this often in one call (an id found reused). */
const maxIdentityAttempts = 3;

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`joinRoom ${name} = ${String(value)} must be an integer in ${min}..${max}`);
  return value;
}

export async function joinRoom<State, Command>(options: JoinRoomOptions<State, Command>): Promise<Room<State, Command>> {
  if (typeof options.room !== 'string' || options.room.length === 0) throw new RangeError('joinRoom needs a room name');
  const identityStore = options.identityStore ?? defaultKeyValueStore();
  const givenClient = typeof options.signaling === 'function' ? null : options.signaling;
  let id = givenClient?.selfId ?? options.nodeId ?? (await loadOrMintNodeId(identityStore, options.room, options.raftConfig?.random));
  for (let attempt = 1; ; attempt += 1) {
    const room = await joinAs(options, identityStore, id);
    if (room !== null) return room;
    if (givenClient !== null || options.nodeId !== undefined || attempt >= maxIdentityAttempts) {
      throw new Error(`joinRoom: the room lists ${id} as a voter but this peer's storage is empty; a voter's id must not be reused without its log (give a fresh nodeId)`);
    }
    // SPEC "Wedge": the way back is a fresh id on empty storage, admitted by the policy.
    id = mintNodeId(options.raftConfig?.random);
    await identityStore.set(identityKey(options.room), id);
  }
}

interface Plumbing {
  readonly signaling: SignalingClient;
  readonly channel: RoomChannel;
  readonly presence: RoomPresence;
  readonly visibility: VisibilitySource;
  close(): void;
}

function connect<State, Command>(options: JoinRoomOptions<State, Command>, id: NodeId, gossipIntervalMs: number): Plumbing {
  const clock = options.raftConfig?.clock ?? realClock;
  const signaling =
    typeof options.signaling === 'function'
      ? options.signaling({ roomId: options.room, nodeId: id, ...(options.secret === undefined ? {} : { secret: options.secret }) })
      : options.signaling;
  const channel = createRoomChannel(options.createTransport(signaling));
  const visibility = options.visibility ?? documentVisibility();
  const presence = createRoomPresence({ channel, clock, visible: visibility.visible, gossipIntervalMs });
  return {
    signaling,
    channel,
    presence,
    visibility,
    close() {
      presence.close();
      channel.close();
      signaling.close();
      if (options.visibility === undefined) visibility.close();
    },
  };
}

/** null when the room lists `id` as a voter while our storage is empty (the id must change). */
async function joinAs<State, Command>(options: JoinRoomOptions<State, Command>, identityStore: KeyValueStore, id: NodeId): Promise<Room<State, Command> | null> {
  const clock = options.raftConfig?.clock ?? realClock;
  const gossipIntervalMs = bounded('gossipIntervalMs', options.gossipIntervalMs, 1_000, 10, 60_000);
  const discoveryMs = bounded('discoveryMs', options.discoveryMs, 1_500, 0, 600_000);
  const settings = validatePolicySettings({ ...defaultMembershipPolicySettings, ...options.policy, witness: options.witness ?? null });
  const storage = (await options.storage?.(id)) ?? new InMemoryRaftStorage();
  const plumbing = connect(options, id, gossipIntervalMs);
  try {
    const bootstrap = await chooseBootstrap(options, identityStore, id, storage, plumbing, discoveryMs, gossipIntervalMs);
    if (bootstrap === null) {
      plumbing.close();
      return null;
    }
    const node = await createRaftNode({
      id,
      clusterConfig: bootstrap,
      transport: plumbing.channel.transport,
      storage,
      ...(options.raftConfig === undefined ? {} : { raftConfig: options.raftConfig }),
      ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }),
    });
    plumbing.presence.describeSelf(() => ({ voters: node.membership.value.voters, term: node.term.value, leader: node.leader.value }));
    const coordinator = startRoomCoordinator({
      node,
      presence: plumbing.presence,
      peers: plumbing.channel.transport.peers,
      visible: plumbing.visibility.visible,
      clock,
      settings,
      intervalMs: bounded('coordinatorIntervalMs', options.coordinatorIntervalMs, 250, 1, 60_000),
      changeTimeoutMs: bounded('changeTimeoutMs', options.changeTimeoutMs, 10_000, 1, 600_000),
      onEvent: options.onEvent,
    });
    const store = createReplicatedStore<State, Command>({ clock, ...options.store, node });
    const room: Room<State, Command> = { id, node, store, signaling: plumbing.signaling, leave: () => leaveRoom(node, store, coordinator, plumbing) };
    options.signal?.addEventListener('abort', () => void room.leave(), { once: true });
    return room;
  } catch (error) {
    plumbing.close();
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
  if (await storageHoldsLog(storage)) return (await loadBootstrap(identityStore, options.room)) ?? { voters: [id] };
  const clock = options.raftConfig?.clock ?? realClock;
  const peers = plumbing.channel.transport.peers;
  const verdict = await discoverCluster({ selfId: id, presence: plumbing.presence, peers: () => peers.value, clock, discoveryMs, pollMs: Math.min(pollMs, 250), signal: options.signal });
  if (verdict.type === 'identityReused') return null;
  await saveBootstrap(identityStore, options.room, verdict.bootstrap);
  return verdict.bootstrap;
}

async function leaveRoom(node: RaftNode, store: ReplicatedStore<unknown, unknown>, coordinator: RoomCoordinator, plumbing: Plumbing): Promise<void> {
  coordinator.close();
  store.close();
  await node.close();
  plumbing.close();
}
