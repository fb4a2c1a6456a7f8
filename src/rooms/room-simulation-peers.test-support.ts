// The peers of a simulated room: each has an id, a simulated-network endpoint, durable storage
// and an identity store that outlive its visits (a reload), a manual visibility source, and
// while present a joinRoom handle. Joining and leaving go through the real joinRoom. The storage
// of an id can be lost while its peer is away (as Chromium deletes a database after a crash): it
// then refuses to open as IndexedDbRaftStorage does (reason 'dataLost'), until discarded.
import { createEmitter, type Watchable } from '../core/observable.ts';
import { RaftStorageError } from '../core/errors.ts';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork, type SimulatedNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import type { RoomEvent } from './room-coordinator.ts';
import { joinRoom, type Room } from './join-room.ts';
import { identityKey, memoryKeyValueStore, type KeyValueStore } from './room-identity.ts';
import { manualVisibility } from './visibility.ts';

export type KvState = Readonly<Record<string, string>>;

export const kvReducer = (state: KvState, command: KvCommand): KvState => {
  switch (command.type) {
    case 'put':
      return { ...state, [command.key]: command.value };
    case 'append':
      return { ...state, [command.key]: (state[command.key] ?? '') + command.value };
    default:
      return state;
  }
};

export interface SimulatedPeer {
  /** The name it first joined under (a wedge makes it rejoin under a fresh id: see `room.id`). */
  readonly id: NodeId;
  /** A network endpoint and a disk per id it has used. */
  readonly transports: Map<NodeId, RaftTransport>;
  readonly storages: Map<NodeId, InMemoryRaftStorage>;
  /** Ids whose storage was lost (loseStorage) and not yet discarded: opening it is refused. */
  readonly lostStorages: Set<NodeId>;
  readonly identity: KeyValueStore;
  readonly visibility: ReturnType<typeof manualVisibility>;
  room: Room<KvState, KvCommand> | null;
  /**
   * The id it joins under now (its endpoint is up, every other of its ids down), from its first
   * connection on: while it rejoins under a fresh id `room` is null, and its name is an id it no
   * longer uses.
   */
  usingId: NodeId;
  /** Aborts a visit still discovering when the peer leaves. */
  visitController: AbortController | null;
  /** Joining (discovery may take a while) or joined. */
  present: boolean;
  visits: number;
}

export interface RoomTimings {
  readonly unreachableAfterMs: number;
  readonly discoveryMs: number;
  readonly gossipIntervalMs: number;
  readonly coordinatorIntervalMs: number;
  readonly targetVoters: number;
}

export interface PeerEnvironment {
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly network: SimulatedNetwork;
  readonly timings: RoomTimings;
  readonly onEvent: (peer: NodeId, event: RoomEvent) => void;
  readonly onJoined: (peer: SimulatedPeer, room: Room<KvState, KvCommand>) => void;
  readonly witness?: NodeId;
  /** A peer that runs as a witness (never leads) though the room does not name it as its witness. */
  readonly unnamedWitness?: NodeId;
  /**
   * Who signaling lists in the room for a peer (default: exactly the peers its transport reaches).
   * A test that lists peers the network does not connect plays signaling that works while
   * WebRTC does not (README "The demo": mDNS candidates that cannot resolve).
   */
  readonly listedPeers?: (id: NodeId) => Watchable<ReadonlySet<NodeId>>;
  /** The application's "start anyway" (JoinRoomOptions.startDespiteUnreachable), per peer. */
  readonly startDespiteUnreachable?: (id: NodeId) => boolean;
  /** Whether a peer's signaling client has the room's list (SignalingClient.ready; default: always). */
  readonly signalingReady?: (id: NodeId) => Watchable<boolean>;
  /** Told of each endpoint as it is created, before any use (the room simulation's link history). */
  readonly onTransport?: (id: NodeId, transport: RaftTransport) => void;
}

function stubSignaling(environment: PeerEnvironment, id: NodeId, transport: RaftTransport): SignalingClient {
  const peers = environment.listedPeers?.(id) ?? transport.peers;
  const ready = environment.signalingReady?.(id);
  return { selfId: id, roomId: 'sim', peers, signal: () => {}, signals: createEmitter(), close: () => {}, closed: new Promise(() => {}), ...(ready === undefined ? {} : { ready }) };
}

export function createSimulatedPeer(environment: PeerEnvironment, name: string): SimulatedPeer {
  const id = nodeId(name);
  const identity = memoryKeyValueStore();
  void identity.set(identityKey('sim'), id);
  return { id, transports: new Map(), storages: new Map(), lostStorages: new Set(), identity, visibility: manualVisibility(true), room: null, usingId: id, visitController: null, present: false, visits: 0 };
}

/** The endpoint of the id the peer joins under now; every other id of it is gone from the network. */
function endpointFor(environment: PeerEnvironment, peer: SimulatedPeer, id: NodeId): RaftTransport {
  let transport = peer.transports.get(id);
  if (transport === undefined) {
    transport = environment.network.transport(id);
    peer.transports.set(id, transport);
    environment.onTransport?.(id, transport);
  }
  for (const other of peer.transports.keys()) environment.network.setDown(other, other !== id);
  peer.usingId = id;
  return transport;
}

function storageFor(peer: SimulatedPeer, id: NodeId): InMemoryRaftStorage {
  if (peer.lostStorages.has(id)) throw new RaftStorageError(`the simulated browser deleted the storage of ${id} as corrupt`, { reason: 'dataLost' });
  let storage = peer.storages.get(id);
  if (storage === undefined) {
    storage = new InMemoryRaftStorage();
    peer.storages.set(id, storage);
  }
  return storage;
}

/**
 * What createTransport hands joinRoom in visit `visit`: the id's endpoint, with a `close` that
 * takes the endpoint off the network, as a WebRTC transport closes its connections (joinRoom
 * closes it when its node stops for good, when it gives the id up, and on leave). A visit that
 * is over, or an id the peer no longer uses, changes nothing: a later visit may be on the same
 * endpoint already.
 */
function closableEndpoint(environment: PeerEnvironment, peer: SimulatedPeer, id: NodeId, visit: number): RaftTransport {
  const transport = endpointFor(environment, peer, id);
  const close = (): void => {
    if (peer.visits === visit && peer.usingId === id) environment.network.setDown(id, true);
  };
  return { selfId: transport.selfId, peers: transport.peers, incoming: transport.incoming, send: (to, bytes) => transport.send(to, bytes), close };
}

/** Arrives (first visit, or a reload with the same id, storage and identity store). */
export function arrive(environment: PeerEnvironment, peer: SimulatedPeer): void {
  if (peer.present) return;
  peer.present = true;
  peer.visits += 1;
  const visit = peer.visits;
  const { timings } = environment;
  const controller = new AbortController();
  peer.visitController = controller;
  void joinRoom<KvState, KvCommand>({
    room: 'sim',
    signaling: (context) => stubSignaling(environment, context.nodeId, endpointFor(environment, peer, context.nodeId)),
    createTransport: (signaling) => closableEndpoint(environment, peer, signaling.selfId, visit),
    storage: (id) => storageFor(peer, id),
    discardStorage: (id) => {
      peer.storages.delete(id);
      peer.lostStorages.delete(id);
    },
    identityStore: peer.identity,
    visibility: peer.visibility,
    store: { initialState: {}, apply: kvReducer, snapshotEvery: 25 },
    policy: { unreachableAfterMs: timings.unreachableAfterMs, targetVoters: timings.targetVoters },
    ...(environment.witness === undefined ? {} : { witness: environment.witness }),
    ...(environment.startDespiteUnreachable === undefined ? {} : { startDespiteUnreachable: () => environment.startDespiteUnreachable?.(peer.id) === true }),
    // Twice the default timings: half the heartbeat traffic to simulate, same behaviour.
    // The peer the room names as its witness runs as one (votes, never campaigns), as
    // `raftmesh-peer --witness` does, under every id it joins as.
    raftConfig: { clock: environment.clock, random: seededRandom(deriveSeed(environment.seed, `${peer.id}-${visit}`)), snapshotTrailingEntries: 10, heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600, ...(environment.witness === peer.id || environment.unnamedWitness === peer.id ? { witness: true } : {}) },
    discoveryMs: timings.discoveryMs,
    gossipIntervalMs: timings.gossipIntervalMs,
    coordinatorIntervalMs: timings.coordinatorIntervalMs,
    onEvent: (event) => environment.onEvent(peer.id, event),
    signal: controller.signal,
  }).then((room) => {
    if (!peer.present || peer.visits !== visit) {
      void room.leave();
      return;
    }
    peer.room = room;
    environment.onJoined(peer, room);
  }, () => {
    // Left while still discovering: the abort ended the visit.
  });
}

/** While the peer is away: the storage of the id it used is gone, and refuses to open until discarded. */
export function loseStorage(peer: SimulatedPeer): void {
  if (peer.present) throw new Error(`${peer.id} is present: its storage is lost only while it is away`);
  peer.storages.delete(peer.usingId);
  peer.lostStorages.add(peer.usingId);
}

/** Closes the tab: gone from the network at once, its node closed, its storage kept. */
export function depart(environment: PeerEnvironment, peer: SimulatedPeer): void {
  if (!peer.present) return;
  peer.present = false;
  for (const id of peer.transports.keys()) environment.network.setDown(id, true);
  const room = peer.room;
  peer.room = null;
  peer.visitController?.abort(new Error('left the room'));
  peer.visitController = null;
  if (room !== null) void room.leave();
}

/** Peers by name, each created on first use, so a scenario names them instead of keeping handles. */
export function createPeerRegistry(environment: PeerEnvironment): { peer(name: string): SimulatedPeer; all(): SimulatedPeer[] } {
  const peers = new Map<string, SimulatedPeer>();
  return {
    peer(name) {
      const existing = peers.get(name);
      if (existing !== undefined) return existing;
      const created = createSimulatedPeer(environment, name);
      peers.set(name, created);
      return created;
    },
    all: () => [...peers.values()],
  };
}

/**
 * A room on a reliable simulated network in which peer `a` has arrived and leads (rejects if it
 * does not within 5 s); every peer's events are kept in order.
 */
export async function roomLedByA(seed: number, timings: RoomTimings): Promise<{ clock: VirtualClock; network: SimulatedNetwork; environment: PeerEnvironment; registry: ReturnType<typeof createPeerRegistry>; events: { peer: string; event: RoomEvent }[]; a: SimulatedPeer }> {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: { peer: string; event: RoomEvent }[] = [];
  const environment: PeerEnvironment = { seed, clock, network, timings, onEvent: (peer, event) => events.push({ peer, event }), onJoined: () => {} };
  const registry = createPeerRegistry(environment);
  const a = registry.peer('a');
  arrive(environment, a);
  if (!(await clock.runUntil(() => a.room?.node.role.value === 'leader', { timeoutMs: 5_000 }))) throw new Error('peer a did not lead within 5 s');
  return { clock, network, environment, registry, events, a };
}

/**
 * Peers a, b and c on a reliable simulated network, all three voters, a second after they became
 * so (rejects if they do not within 8 s); `close` has every peer leave.
 */
export async function threeVoterRoom(seed: number, timings: RoomTimings, onEvent: PeerEnvironment['onEvent'] = () => {}) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const environment: PeerEnvironment = { seed, clock, network, timings, onEvent, onJoined: () => {} };
  const registry = createPeerRegistry(environment);
  const leader = (): SimulatedPeer | undefined => registry.all().find((peer) => peer.room?.node.role.value === 'leader');
  for (const name of ['a', 'b', 'c']) arrive(environment, registry.peer(name));
  if (!(await clock.runUntil(() => leader()?.room?.node.membership.value.voters.length === 3, { timeoutMs: 8_000 }))) throw new Error('a, b and c did not become voters within 8 s');
  await clock.advance(1_000);
  const close = async (): Promise<void> => {
    for (const peer of registry.all()) depart(environment, peer);
    await clock.advance(100);
  };
  return { clock, network, environment, registry, leader, close };
}
