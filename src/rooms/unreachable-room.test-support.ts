// The simulated room of unreachable-room tests: signaling lists every peer that has arrived (and,
// after a server restart, those that have rejoined it), whatever the network lets through.
import { createWatchable, type Watchable, type WritableWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomEvent } from './room-events.ts';
import { arrive, createSimulatedPeer, depart, type PeerEnvironment, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { roomTimings } from './room-simulation.test-support.ts';

type Unreachable = Extract<RoomEvent, { type: 'peersUnreachable' }>;

export function unreachableRoom(seed: number, names: readonly string[], settings: { readonly witness?: string } = {}) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  // Signaling lists every peer that has arrived, whatever the network lets through; a client that
  // is not joined to the server (not ready) lists nobody, as the WebSocket client does.
  const inRoom = createWatchable<ReadonlySet<NodeId>>(new Set());
  const ready = new Map<NodeId, WritableWatchable<boolean>>();
  const readyOf = (id: NodeId): WritableWatchable<boolean> => {
    let watchable = ready.get(id);
    if (watchable === undefined) {
      watchable = createWatchable(true);
      ready.set(id, watchable);
    }
    return watchable;
  };
  const listedPeers = (self: NodeId): Watchable<ReadonlySet<NodeId>> => ({
    get value() {
      return readyOf(self).value ? new Set([...inRoom.value].filter((peer) => peer !== self)) : new Set<NodeId>();
    },
    subscribe: (listener) => inRoom.subscribe((peers) => listener(new Set([...peers].filter((peer) => peer !== self)))),
  });
  const reports = new Map<NodeId, Unreachable[]>();
  const startAnyway = new Set<NodeId>();
  const environment: PeerEnvironment = {
    startDespiteUnreachable: (id) => startAnyway.has(id),
    ...(settings.witness === undefined ? {} : { witness: nodeId(settings.witness) }),
    seed,
    clock,
    network,
    timings: roomTimings,
    listedPeers,
    signalingReady: readyOf,
    onEvent: (peer, event) => {
      if (event.type === 'peersUnreachable') reports.set(peer, [...(reports.get(peer) ?? []), event]);
    },
    onJoined: () => {},
  };
  const peers = new Map<string, SimulatedPeer>();
  for (const name of names) {
    const peer = createSimulatedPeer(environment, name);
    // The endpoint exists before the peer arrives, so the partition below covers it from the start.
    peer.transports.set(peer.id, network.transport(peer.id));
    peers.set(name, peer);
  }
  const peer = (name: string): SimulatedPeer => peers.get(name)!;
  const enter = (name: string): void => {
    inRoom.set(new Set([...inRoom.value, nodeId(name)]));
    arrive(environment, peer(name));
  };
  /** The signaling server restarts: it forgets the room and every client is disconnected. */
  const restartSignalingServer = (): void => {
    inRoom.set(new Set());
    for (const name of peers.keys()) readyOf(nodeId(name)).set(false);
  };
  /** A page's client reconnects (each on its own backoff): listed again, and given the list. */
  const reconnectSignaling = (name: string): void => {
    inRoom.set(new Set([...inRoom.value, nodeId(name)]));
    readyOf(nodeId(name)).set(true);
  };
  const leaders = (): NodeId[] => [...peers.values()].filter((each) => each.room?.node.role.value === 'leader').map((each) => each.id);
  const lastReport = (name: string): Unreachable | undefined => reports.get(nodeId(name))?.at(-1);
  const reportsOf = (name: string): readonly Unreachable[] => reports.get(nodeId(name)) ?? [];
  const oneCluster = (): boolean => {
    const rooms = [...peers.values()].map((each) => each.room);
    if (rooms.some((room) => room === null)) return false;
    const leader = rooms[0]!.node.leader.value;
    const voters = rooms[0]!.node.membership.value.voters;
    return leader !== null && voters.length === names.length && rooms.every((room) => room!.node.leader.value === leader && room!.node.membership.value.voters.length === voters.length);
  };
  return { clock, network, peer, enter, restartSignalingServer, reconnectSignaling, leaders, lastReport, reportsOf, oneCluster, startAnyway, close: async () => {
    for (const each of peers.values()) depart(environment, each);
    await clock.advance(100);
  } };
}

