// Hellos are gossip from whoever the transport reaches: in an open room any stranger who knows the
// room id, in a keyed room any peer with the secret, admitted as a newcomer or not. A hello only
// claims; what a peer does on a claim it cannot check must not cost the room its data.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { settleOnVirtualClock } from '../testing/settle-on-clock.test-support.ts';
import { encodeHello } from './room-channel.ts';
import type { RoomEvent } from './room-events.ts';
import { arrive, createPeerRegistry, depart, type PeerEnvironment, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { roomTimings } from './room-simulation.test-support.ts';

function lyingRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: { peer: NodeId; event: RoomEvent }[] = [];
  const environment: PeerEnvironment = { seed, clock, network, timings: roomTimings, onEvent: (peer, event) => void events.push({ peer, event }), onJoined: () => {} };
  const { peer, all } = createPeerRegistry(environment);
  /** A peer that runs no node and only gossips a lie to everyone it reaches, every 100 ms. */
  const liar = (name: string, lie: Parameters<typeof encodeHello>[0]): { stop(): void } => {
    const transport = network.transport(nodeId(name));
    transport.incoming.subscribe(() => {});
    let stopped = false;
    const tell = (): void => {
      if (stopped) return;
      for (const to of transport.peers.value) transport.send(to, encodeHello(lie));
      clock.setTimeout(tell, 100);
    };
    tell();
    return { stop: () => void ((stopped = true), network.setDown(nodeId(name), true)) };
  };
  return { clock, network, environment, events, peer, liar, close: async () => {
    for (const each of all()) depart(environment, each);
    await clock.advance(100);
  } };
}

describe('a hello that lies about the room', () => {
  it('a stranger claiming a newer cluster without them does not make a room of returning voters give up their ids and logs', async () => {
    const test = lyingRoom(3101);
    const names = ['a', 'b', 'c'];
    for (const name of names) {
      arrive(test.environment, test.peer(name));
      await test.clock.advance(300);
    }
    const voters = (): readonly NodeId[] | undefined => names.map(test.peer).find((each) => each.room?.node.role.value === 'leader')?.room?.node.membership.value.voters;
    expect(await test.clock.runUntil(() => voters()?.length === 3, { timeoutMs: 10_000 })).toBe(true);
    const leader = names.map(test.peer).find((each) => each.room?.node.role.value === 'leader')!;
    const written = await settleOnVirtualClock(test.clock, leader.room!.store.dispatch({ type: 'put', key: 'x', value: 'acknowledged' }), 5_000);
    expect(written.status).toBe('fulfilled');
    await test.clock.advance(500); // every voter holds it
    // Everyone closes the room's tabs (storage and identity kept).
    for (const name of names) depart(test.environment, test.peer(name));
    await test.clock.advance(1_000);

    // A peer that never was a member, running no node, says it follows a cluster of its own in a huge term.
    const liar = test.liar('z', { type: 'hello', visible: true, member: true, voters: [nodeId('z')], term: 1_000_000, leader: nodeId('z') });
    for (const name of names) arrive(test.environment, test.peer(name));
    await test.clock.advance(10 * roomTimings.discoveryMs);
    liar.stop();
    await test.clock.advance(5_000);

    const given = test.events.filter(({ event }) => event.type === 'storageDiscarded' || event.type === 'rejoined');
    expect(given).toEqual([]);
    expect(names.map((name) => test.peer(name).room?.id)).toEqual(names);
    for (const name of names) expect(test.peer(name).room?.store.state.value['x']).toBe('acknowledged');
    await test.close();
  });
});

describe('the price of believing only known members', () => {
  it('a voter removed while away by a room that has since replaced every member it knew still ends up a working member, and never leads a cluster of its own', async () => {
    const test = lyingRoom(3106);
    const everyone = ['a', 'b', 'c', 'd', 'e', 'f'];
    const leader = (): SimulatedPeer | undefined => everyone.map(test.peer).find((each) => each.present && each.room?.node.role.value === 'leader');
    const leaders = (): string[] => everyone.map(test.peer).filter((each) => each.present && each.room?.node.role.value === 'leader').map((each) => each.id);
    const configured = (): readonly NodeId[] => leader()?.room?.node.membership.value.voters ?? [];
    for (const name of ['a', 'b', 'c']) {
      arrive(test.environment, test.peer(name));
      await test.clock.advance(300);
    }
    expect(await test.clock.runUntil(() => configured().length === 3, { timeoutMs: 10_000 })).toBe(true);
    const written = await settleOnVirtualClock(test.clock, leader()!.room!.store.dispatch({ type: 'put', key: 'x', value: 'acknowledged' }), 5_000);
    expect(written.status).toBe('fulfilled');
    await test.clock.advance(500);
    // One at a time, each of a, b, c leaves and a newcomer takes its place.
    for (const [gone, comer] of [['a', 'd'], ['b', 'e'], ['c', 'f']] as const) {
      depart(test.environment, test.peer(gone));
      arrive(test.environment, test.peer(comer));
      expect(await test.clock.runUntil(() => configured().includes(nodeId(comer)) && !configured().includes(nodeId(gone)), { timeoutMs: 20_000 })).toBe(true);
      await test.clock.advance(1_000);
    }
    expect([...configured()].sort()).toEqual(['d', 'e', 'f']);
    // a comes back on its storage, which names a, b, c: it hears only d, e, f, strangers to it.
    arrive(test.environment, test.peer('a'));
    const working = (): boolean => {
      const room = test.peer('a').room;
      const config = leader()?.room?.node.membership.value;
      return room !== null && config !== undefined && [...config.voters, ...(config.learners ?? [])].includes(room.id) && room.node.leader.value === leader()?.id && room.store.state.value['x'] === 'acknowledged';
    };
    let split = false;
    const ok = await test.clock.runUntil(() => {
      if (leaders().length > 1) split = true;
      return working();
    }, { timeoutMs: 60_000 });
    expect(split).toBe(false);
    expect(ok).toBe(true); // on its old id, it reports a wedge against the leader it does not know and rejoins fresh
    await test.close();
  });
});
