// A leader whose page is hidden keeps applying the membership policy while it keeps leading (no
// voter to hand to, or waiting to try again), and never starts a change while a hand-off is in
// flight, nor a hand-off while a change is. A review found the policy paused whenever the
// leader's page was hidden on 2026-12-06.
import { describe, expect, it } from 'vitest';
import { createWatchable } from '../core/observable.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createMembershipPolicy } from './membership-policy.ts';
import type { RoomHello } from './room-channel.ts';
import { startRoomCoordinator, type RoomEvent } from './room-coordinator.ts';
import type { RoomPresence } from './room-presence.ts';
import { arrive, createPeerRegistry, depart, type PeerEnvironment, type RoomTimings } from './room-simulation-peers.test-support.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 5 };

function room(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const environment: PeerEnvironment = { seed, clock, network, timings, onEvent: () => {}, onJoined: () => {} };
  const registry = createPeerRegistry(environment);
  const leader = () => registry.all().find((peer) => peer.room?.node.role.value === 'leader');
  const config = () => leader()?.room?.node.membership.value;
  return { clock, environment, registry, leader, config };
}

describe('the membership policy of a leader whose page is hidden', () => {
  it('admits a newcomer while every voter page is hidden (the leader keeps leading)', async () => {
    const test = room(4821);
    for (const name of ['a', 'b', 'c']) arrive(test.environment, test.registry.peer(name));
    expect(await test.clock.runUntil(() => test.config()?.voters.length === 3, { timeoutMs: 8_000 })).toBe(true);
    await test.clock.advance(1_000);
    // The user moved to another window: all three pages are in the background.
    for (const name of ['a', 'b', 'c']) test.registry.peer(name).visibility.visible.set(false);
    await test.clock.advance(2_000);
    const leaderBefore = test.leader()!.id;
    // A new (visible) tab opens the room.
    arrive(test.environment, test.registry.peer('d'));
    await test.clock.advance(10_000);
    expect(test.leader()?.id).toBe(leaderBefore);
    const config = test.config()!;
    expect([...config.voters, ...(config.learners ?? [])]).toContain('d');
    for (const peer of test.registry.all()) depart(test.environment, peer);
    await test.clock.advance(100);
  });

  it('removes voters that left while every voter page is hidden, so the room survives a later departure', async () => {
    const test = room(4822);
    for (const name of ['a', 'b', 'c', 'd', 'e']) arrive(test.environment, test.registry.peer(name));
    expect(await test.clock.runUntil(() => test.config()?.voters.length === 5, { timeoutMs: 10_000 })).toBe(true);
    await test.clock.advance(1_000);
    for (const name of ['a', 'b', 'c', 'd', 'e']) test.registry.peer(name).visibility.visible.set(false);
    await test.clock.advance(1_000);
    const leader = test.leader()!;
    const others = test.registry.all().filter((peer) => peer !== leader);
    // Two tabs close; well past unreachableAfterMs (1.5 s) a third closes.
    depart(test.environment, others[0]!);
    depart(test.environment, others[1]!);
    await test.clock.advance(8_000);
    const votersAfterTwoLeft = test.config()!.voters.length;
    depart(test.environment, others[2]!);
    await test.clock.advance(8_000);
    // With the policy running the room shrinks 5 -> 3 and then keeps a majority; paused, 2 of 5 remain.
    let outcome = 'pending';
    leader.room!.store.dispatch({ type: 'put', key: 'k', value: 'after' }).then(() => (outcome = 'applied'), (error: unknown) => (outcome = String(error)));
    await test.clock.advance(5_000);
    expect({ votersAfterTwoLeft, outcome }).toEqual({ votersAfterTwoLeft: 3, outcome: 'applied' });
    for (const peer of test.registry.all()) depart(test.environment, peer);
    await test.clock.advance(100);
  });
});

/** A leader whose transfers and changes settle only when the test says so, oldest first. */
function scriptedLeader(voters: readonly NodeId[], silent: ReadonlySet<NodeId> = new Set()) {
  const self = voters[0]!;
  const calls: string[] = [];
  const waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const pending = <T>(value: T): Promise<T> => new Promise<T>((resolve, reject) => waiting.push({ resolve: () => resolve(value), reject }));
  const node = {
    id: self,
    role: createWatchable('leader'),
    term: createWatchable(1),
    membership: createWatchable<ClusterConfig>({ voters: [...voters] }),
    commitIndex: createWatchable(10),
    replicationProgress: () => new Map(voters.map((voter) => [voter, 10] as const)),
    silentPeers: () => silent,
    transferLeadership: (target: NodeId) => {
      calls.push(`transfer ${target}`);
      return pending(undefined);
    },
    changeMembership: (target: ClusterConfig) => {
      calls.push(`change ${JSON.stringify(target)}`);
      return pending(target);
    },
  } as unknown as RaftNode;
  return {
    node,
    calls,
    succeed: () => waiting.shift()?.resolve(),
    fail: (reason: string) => waiting.shift()?.reject(new Error(reason)),
  };
}

function presenceOf(hellos: ReadonlyMap<NodeId, RoomHello>): RoomPresence {
  const heard = new Map([...hellos].map(([peer, hello]) => [peer, { hello, at: 0 }] as const));
  return { heard: (peer) => heard.get(peer), recent: () => heard, describeSelf: () => {}, close: () => {} };
}

describe('the room coordinator of a hidden leader', () => {
  const [a, b, c, newcomer] = [nodeId('a'), nodeId('b'), nodeId('c'), nodeId('n')];
  const hello = (visible: boolean): RoomHello => ({ type: 'hello', visible, member: true, voters: [a, b, c], term: 1, leader: a });
  /** The newcomer runs its node (it decided to join), so the policy admits it. */
  const newcomerHello: RoomHello = { type: 'hello', visible: true, member: true, voters: null, term: 0, leader: null };
  const admitNewcomer = `change ${JSON.stringify({ voters: [a, b, c], learners: [newcomer] })}`;

  function hiddenLeader(hellos: ReadonlyMap<NodeId, RoomHello>, silent: ReadonlySet<NodeId> = new Set()) {
    const clock = new VirtualClock(0);
    const leader = scriptedLeader([a, b, c], silent);
    const events: RoomEvent[] = [];
    const coordinator = startRoomCoordinator({
      node: leader.node,
      presence: presenceOf(hellos),
      // A newcomer waits to be admitted the whole time.
      peers: createWatchable<ReadonlySet<NodeId>>(new Set([b, c, newcomer])),
      visible: createWatchable(false),
      clock,
      policy: createMembershipPolicy({ targetVoters: 3 }),
      intervalMs: 100,
      changeTimeoutMs: 10_000,
      onEvent: (event) => events.push(event),
    });
    return { clock, ...leader, events, coordinator };
  }

  it('starts no membership change while its hand-off is in flight, nor a hand-off while a change is', async () => {
    const test = hiddenLeader(new Map([[b, hello(true)], [c, hello(false)], [newcomer, newcomerHello]]));
    await test.clock.advance(1_000);
    expect(test.calls).toEqual([`transfer ${b}`]);
    // The transfer fails (b never answered TimeoutNow): until the retry is due this leader keeps
    // leading, and admits the newcomer meanwhile.
    test.fail('timed out');
    await test.clock.advance(150);
    expect(test.events.map((event) => event.type)).toEqual(['leadershipHandoffStarted', 'leadershipHandoffFailed', 'membershipChangeStarted']);
    expect(test.calls).toEqual([`transfer ${b}`, admitNewcomer]);
    // The retry is due 400 ms after the failure, but the change is still in flight.
    await test.clock.advance(1_000);
    expect(test.calls).toHaveLength(2);
    test.succeed();
    await test.clock.advance(150);
    expect(test.calls.slice(2)).toEqual([`transfer ${b}`]);
    test.coordinator.close();
  });

  it('applies the policy while no voter may take over (only a peer that never leads is visible)', async () => {
    const test = hiddenLeader(new Map([[b, { ...hello(true), neverLeads: true }], [c, hello(false)], [newcomer, newcomerHello]]));
    await test.clock.advance(500);
    expect(test.calls).toEqual([admitNewcomer]);
    test.coordinator.close();
  });

  it('hands leadership to a visible voter that answers, not to a visible one that does not (a wedged page)', async () => {
    // b is visible and its hello says it runs a node, but it has not answered this leader: a
    // transfer to it can only time out.
    const test = hiddenLeader(new Map([[b, hello(true)], [c, hello(true)], [newcomer, newcomerHello]]), new Set([b]));
    await test.clock.advance(500);
    expect(test.calls).toEqual([`transfer ${c}`]);
    test.coordinator.close();
  });

  it('still hands leadership over when every visible voter looks silent (an engine on a hidden page sends its heartbeats late)', async () => {
    const test = hiddenLeader(new Map([[b, hello(true)], [c, hello(false)], [newcomer, newcomerHello]]), new Set([b, c]));
    await test.clock.advance(500);
    expect(test.calls).toEqual([`transfer ${b}`]);
    test.coordinator.close();
  });
});
