// Rooms on the simulator where signaling lists peers the transport cannot connect (the demo's
// split-brain: WebRTC failing behind unresolvable mDNS candidates while the signaling server
// works). No page may start a cluster beside peers it can see but not reach; each says which
// peers it cannot reach; once the network heals, everyone ends in one cluster.
import { describe, expect, it } from 'vitest';
import { createWatchable, type Watchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomEvent } from './room-events.ts';
import { arrive, createSimulatedPeer, depart, type PeerEnvironment, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { roomTimings } from './room-simulation.test-support.ts';

type Unreachable = Extract<RoomEvent, { type: 'peersUnreachable' }>;

function unreachableRoom(seed: number, names: readonly string[]) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  // Signaling lists every peer that has arrived, whatever the network lets through.
  const inRoom = createWatchable<ReadonlySet<NodeId>>(new Set());
  const listedPeers = (self: NodeId): Watchable<ReadonlySet<NodeId>> => ({
    get value() {
      return new Set([...inRoom.value].filter((peer) => peer !== self));
    },
    subscribe: (listener) => inRoom.subscribe((peers) => listener(new Set([...peers].filter((peer) => peer !== self)))),
  });
  const reports = new Map<NodeId, Unreachable[]>();
  const startAnyway = new Set<NodeId>();
  const environment: PeerEnvironment = {
    startDespiteUnreachable: (id) => startAnyway.has(id),
    seed,
    clock,
    network,
    timings: roomTimings,
    listedPeers,
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
  const leaders = (): NodeId[] => [...peers.values()].filter((each) => each.room?.node.role.value === 'leader').map((each) => each.id);
  const lastReport = (name: string): Unreachable | undefined => reports.get(nodeId(name))?.at(-1);
  const oneCluster = (): boolean => {
    const rooms = [...peers.values()].map((each) => each.room);
    if (rooms.some((room) => room === null)) return false;
    const leader = rooms[0]!.node.leader.value;
    const voters = rooms[0]!.node.membership.value.voters;
    return leader !== null && voters.length === names.length && rooms.every((room) => room!.node.leader.value === leader && room!.node.membership.value.voters.length === voters.length);
  };
  return { clock, network, peer, enter, leaders, lastReport, oneCluster, startAnyway, close: async () => {
    for (const each of peers.values()) depart(environment, each);
    await clock.advance(100);
  } };
}

describe('a room whose peers signaling lists but the transport cannot reach', () => {
  it('three pages that connect to nobody: none starts a cluster of its own, each names the other two, and once connected they form one cluster', async () => {
    const test = unreachableRoom(901, ['a', 'b', 'c']);
    test.network.partition([[nodeId('a')], [nodeId('b')], [nodeId('c')]]);
    for (const name of ['a', 'b', 'c']) test.enter(name);
    await test.clock.advance(10 * roomTimings.discoveryMs);
    // Before the fix every page bootstrapped alone and led a cluster of one.
    expect(test.leaders()).toEqual([]);
    expect(['a', 'b', 'c'].filter((name) => test.peer(name).room !== null)).toEqual([]);
    expect(test.lastReport('a')).toMatchObject({ peers: ['b', 'c'], count: 2, waiting: true });
    expect(test.lastReport('b')).toMatchObject({ peers: ['a', 'c'], count: 2, waiting: true });
    expect(test.lastReport('c')).toMatchObject({ peers: ['a', 'b'], count: 2, waiting: true });

    test.network.heal();
    expect(await test.clock.runUntil(test.oneCluster, { timeoutMs: 10_000 })).toBe(true);
    for (const name of ['a', 'b', 'c']) expect(test.lastReport(name)).toMatchObject({ count: 0 });
    await test.close();
  });

  it('pages arriving after a page that started the room, but unable to reach it, wait for it instead of starting a second cluster', async () => {
    const test = unreachableRoom(902, ['b', 'c', 'd']);
    test.network.partition([[nodeId('d')], [nodeId('b'), nodeId('c')]]);
    test.enter('d'); // alone in the room: it starts the cluster
    await test.clock.runUntil(() => test.leaders().length === 1, { timeoutMs: 5_000 });
    test.enter('b');
    test.enter('c');
    await test.clock.advance(10 * roomTimings.discoveryMs);
    // b and c reach each other and are both newcomers with smaller ids than d: before the fix b bootstrapped.
    expect(test.leaders()).toEqual(['d']);
    expect(test.peer('b').room).toBeNull();
    expect(test.peer('c').room).toBeNull();
    expect(test.lastReport('b')).toMatchObject({ peers: ['d'], count: 1, waiting: true });
    expect(test.lastReport('d')).toMatchObject({ peers: ['b', 'c'], count: 2, waiting: false });

    test.network.heal();
    expect(await test.clock.runUntil(test.oneCluster, { timeoutMs: 10_000 })).toBe(true);
    expect(test.leaders()).toHaveLength(1);
    await test.close();
  });

  it('a page whose application chooses to start anyway bootstraps; the others keep waiting, and join it once connected', async () => {
    const test = unreachableRoom(903, ['a', 'b', 'c']);
    test.network.partition([[nodeId('a')], [nodeId('b')], [nodeId('c')]]);
    for (const name of ['a', 'b', 'c']) test.enter(name);
    await test.clock.advance(10 * roomTimings.discoveryMs);
    expect(test.leaders()).toEqual([]);
    test.startAnyway.add(nodeId('b')); // b's user pressed "start anyway"
    expect(await test.clock.runUntil(() => test.leaders().length === 1, { timeoutMs: 5_000 })).toBe(true);
    expect(test.leaders()).toEqual(['b']);
    expect(test.peer('a').room).toBeNull();
    expect(test.lastReport('b')).toMatchObject({ count: 2, waiting: false });

    test.network.heal();
    expect(await test.clock.runUntil(test.oneCluster, { timeoutMs: 10_000 })).toBe(true);
    expect(test.leaders()).toEqual(['b']);
    await test.close();
  });
});
