// A former learner back on empty storage never comes back under its old id: hellos list the
// configuration's learners as well as its voters, and joinRoom refuses an id the room lists as
// any member while its storage holds nothing. A review found a learner promoted without its log
// (the leader's match index for the id stayed where the lost log ended) on 2026-12-06.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { judgeDiscovery, type DiscoveryOptions } from './discover-cluster.ts';
import { decideMembershipChange, defaultMembershipPolicySettings } from './membership-policy.ts';
import { decodeHello, encodeHello, roomFrameTag, type RoomHello } from './room-channel.ts';
import type { HeardHello, RoomPresence } from './room-presence.ts';
import { arrive, createPeerRegistry, depart, type PeerEnvironment, type RoomTimings, type SimulatedPeer } from './room-simulation-peers.test-support.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 5 };

/** Three voters a, b, c and a caught-up learner d holding 20 writes; then d reloads on empty storage (its id persists). */
async function learnerReloadsOnEmptyStorage(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const environment: PeerEnvironment = { seed, clock, network, timings, onEvent: () => {}, onJoined: () => {} };
  const registry = createPeerRegistry(environment);
  const leader = () => registry.all().find((peer) => peer.room?.node.role.value === 'leader');
  const config = () => leader()?.room?.node.membership.value;
  for (const name of ['a', 'b', 'c']) arrive(environment, registry.peer(name));
  expect(await clock.runUntil(() => config()?.voters.length === 3, { timeoutMs: 8_000 })).toBe(true);
  // A fourth peer stays a learner (4 voters would be even) and catches up.
  const d = registry.peer('d');
  arrive(environment, d);
  expect(await clock.runUntil(() => (config()?.learners ?? []).includes(d.id), { timeoutMs: 8_000 })).toBe(true);
  for (let round = 0; round < 20; round += 1) {
    const writer = leader()!.room!.store;
    const written = writer.dispatch({ type: 'put', key: `k${round}`, value: 'v' });
    await clock.runUntil(() => writer.pendingCount === 0, { timeoutMs: 2_000 });
    await written;
  }
  await clock.advance(1_000);
  expect(d.room!.node.commitIndex.value).toBeGreaterThan(20);
  // d reloads; its node's storage comes back empty (the in-memory default), its id persists.
  depart(environment, d);
  d.storages.clear();
  await clock.advance(300);
  arrive(environment, d);
  return { clock, environment, registry, leader, config, d };
}

async function leaveAll(test: { clock: VirtualClock; environment: PeerEnvironment; registry: { all(): SimulatedPeer[] } }): Promise<void> {
  for (const peer of test.registry.all()) depart(test.environment, peer);
  await test.clock.advance(100);
}

describe('a learner back on empty storage', () => {
  it('comes back under a fresh id, its old id leaves the configuration, and it is promoted only once it holds the log', async () => {
    const test = await learnerReloadsOnEmptyStorage(4831);
    expect(await test.clock.runUntil(() => test.d.room !== null, { timeoutMs: 3_000 })).toBe(true);
    const fresh = test.d.room!.id;
    expect(fresh).not.toBe('d');
    // A fifth peer arrives: two learners ready make five voters.
    arrive(test.environment, test.registry.peer('e'));
    const members = (): NodeId[] => [...(test.config()?.voters ?? []), ...(test.config()?.learners ?? [])];
    // The old id is unreachable from the reload on: dropped once unreachableAfterMs has passed.
    expect(await test.clock.runUntil(() => test.config()?.voters.length === 5 && !members().includes(nodeId('d')), { timeoutMs: 8_000 })).toBe(true);
    expect(test.config()!.voters).toContain(fresh);
    expect(test.d.room!.node.commitIndex.value).toBeGreaterThanOrEqual(20);
    expect(test.d.room!.store.state.value.k19).toBe('v');
    await leaveAll(test);
  });

  it('leaves a room of five voters that keeps writing when two of them leave', async () => {
    const test = await learnerReloadsOnEmptyStorage(4832);
    arrive(test.environment, test.registry.peer('e'));
    expect(await test.clock.runUntil(() => test.config()?.voters.length === 5, { timeoutMs: 8_000 })).toBe(true);
    await test.clock.advance(1_000);
    const lead = test.leader()!;
    // Two voters other than the leader and d close their tabs; three members remain (leader, d, one more).
    const leaving = test.registry.all().filter((peer) => peer !== lead && peer !== test.d && peer.room !== null).slice(0, 2);
    for (const peer of leaving) depart(test.environment, peer);
    await test.clock.advance(10_000);
    const writer = test.leader()?.room?.store ?? lead.room!.store;
    let outcome = 'pending';
    writer.dispatch({ type: 'put', key: 'after', value: 'v' }).then(() => (outcome = 'applied'), (error: unknown) => (outcome = String(error)));
    await test.clock.advance(10_000);
    expect({ outcome, config: test.config() }).toMatchObject({ outcome: 'applied' });
    await leaveAll(test);
  });
});

const newcomer: RoomHello = { type: 'hello', visible: true, member: false, voters: null, term: 0, leader: null };
const member: RoomHello = { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('c')], term: 3, leader: nodeId('a') };

function discoveryOptions(self: string, heard: Record<string, RoomHello>): DiscoveryOptions {
  const recent = new Map<NodeId, HeardHello>(Object.entries(heard).map(([peer, hello]) => [nodeId(peer), { hello, at: 0 }]));
  const presence: RoomPresence = { heard: (peer) => recent.get(peer), recent: () => recent, describeSelf: () => {}, close: () => {} };
  const reachable = new Set(Object.keys(heard).map(nodeId));
  return { selfId: nodeId(self), presence, peers: () => reachable, clock: new VirtualClock(), discoveryMs: 1_000, pollMs: 100 };
}

describe('discovery on empty storage', () => {
  it('refuses an id the room lists as a learner, and joins under one it does not list', () => {
    const listing = { ...member, learners: [nodeId('d')] };
    expect(judgeDiscovery(discoveryOptions('d', { a: listing }), 0)).toEqual({ type: 'identityReused' });
    expect(judgeDiscovery(discoveryOptions('e', { a: listing }), 0)).toEqual({ type: 'join', bootstrap: { voters: ['a', 'b', 'c'] } });
  });

  it('joins on a hello of an earlier version (no learners field), as that version did', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(member));
    const earlier = decodeHello(new Uint8Array([roomFrameTag, ...bytes]))!;
    expect(earlier.learners).toBeUndefined();
    expect(judgeDiscovery(discoveryOptions('d', { a: earlier }), 0)).toEqual({ type: 'join', bootstrap: { voters: ['a', 'b', 'c'] } });
  });
});

describe('a hello that lists learners', () => {
  it('round-trips, and leaves the field out when there are none', () => {
    const listing: RoomHello = { ...member, learners: [nodeId('d'), nodeId('e')] };
    expect(decodeHello(encodeHello(listing))).toEqual(listing);
    expect(new TextDecoder().decode(encodeHello(member).subarray(1))).not.toContain('learners');
  });

  it('is refused when the learners are malformed, or listed without voters', () => {
    const encode = (value: unknown): Uint8Array => new Uint8Array([roomFrameTag, ...new TextEncoder().encode(JSON.stringify(value))]);
    for (const learners of ['d', [], [''], [7], Array.from({ length: 65 }, (_, index) => `l${index}`)]) expect(decodeHello(encode({ ...member, learners }))).toBeNull();
    expect(decodeHello(encode({ ...newcomer, learners: ['d'] }))).toBeNull();
  });
});

describe('the membership policy admits a waiting peer', () => {
  it('not while its hello says it runs no node yet, so a page still discovering is never listed as a learner', () => {
    const view = (discovering: readonly string[]) => ({
      selfId: nodeId('a'),
      now: 1_000,
      config: { voters: [nodeId('a')] },
      commitIndex: 5,
      matchIndex: new Map([[nodeId('a'), 5]]),
      reachable: new Set([nodeId('b')]),
      unreachableSince: new Map(),
      silentSince: new Map(),
      waitingSince: new Map([[nodeId('b'), 0]]),
      discovering: new Set(discovering.map(nodeId)),
    });
    expect(decideMembershipChange(view(['b']), defaultMembershipPolicySettings)).toBeNull();
    expect(decideMembershipChange(view([]), defaultMembershipPolicySettings)).toMatchObject({ type: 'addLearner', added: 'b' });
  });
});
