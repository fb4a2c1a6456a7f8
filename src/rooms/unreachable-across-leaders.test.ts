// How long a member has been unreachable is counted by every peer, so a change of leader does not
// restart the room policy's clock: under load two voters of three re-elected each other every few
// seconds while the third was away, and nobody removed it for as long as that went on (found by a
// helper cutting CI time, 2026-12-07). A follower that did not look for a while (a frozen page)
// starts afresh, since a member may have come back in between unseen.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../core/config.ts';
import { createWatchable } from '../core/observable.ts';
import type { ClusterConfig, NodeId, RaftRole } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createMembershipPolicy } from './membership-policy.ts';
import type { RoomHello } from './room-channel.ts';
import { startRoomCoordinator } from './room-coordinator.ts';
import type { RoomPresence } from './room-presence.ts';
import { arrive, createPeerRegistry, depart, type PeerEnvironment, type RoomTimings } from './room-simulation-peers.test-support.ts';

const unreachableAfterMs = 1_500;
const intervalMs = 100;

describe('the unreachable clock of a room whose leader keeps changing', () => {
  it('removes a voter that left although leadership moves more often than unreachableAfterMs', async () => {
    const timings: RoomTimings = { unreachableAfterMs, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: intervalMs, targetVoters: 3 };
    const clock = new VirtualClock(0);
    const seed = 5171;
    const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
    const environment: PeerEnvironment = { seed, clock, network, timings, onEvent: () => {}, onJoined: () => {} };
    const registry = createPeerRegistry(environment);
    const leader = () => registry.all().find((peer) => peer.room?.node.role.value === 'leader');
    for (const name of ['a', 'b', 'c']) arrive(environment, registry.peer(name));
    expect(await clock.runUntil(() => leader()?.room?.node.membership.value.voters.length === 3, { timeoutMs: 8_000 })).toBe(true);
    await clock.advance(1_000);

    const away = registry.all().find((peer) => peer !== leader())!;
    depart(environment, away);
    // Leadership moves between the two who stay every 700 ms, under half the policy's wait: a
    // leader counting from its own election never sees anyone unreachable for 1.5 s.
    const removed = (): boolean => {
      const config = leader()?.room?.node.membership.value;
      return config !== undefined && ![...config.voters, ...(config.learners ?? [])].includes(away.id);
    };
    let transfers = 0;
    for (let elapsed = 0; elapsed < 6_000 && !removed(); elapsed += 700) {
      const current = leader();
      const other = registry.all().find((peer) => peer !== away && peer !== current && peer.room !== null);
      if (current?.room && other) void current.room.node.transferLeadership(other.id).then(() => (transfers += 1), () => {});
      await clock.advance(700);
    }
    // Removed, with leadership having moved at least twice meanwhile.
    expect({ removed: removed(), movedTwice: transfers >= 2 }).toEqual({ removed: true, movedTwice: true });
    for (const peer of registry.all()) depart(environment, peer);
    await clock.advance(100);
  });
});

/** A clock whose timers can be held back, as a frozen page's are, and released late. */
function freezableClock(inner: VirtualClock) {
  let frozen = false;
  const held: (() => void)[] = [];
  const clock: Clock = {
    now: () => inner.now(),
    setTimeout: (callback, delayMs) =>
      inner.setTimeout(() => {
        if (frozen) held.push(callback);
        else callback();
      }, delayMs),
    clearTimeout: (handle) => inner.clearTimeout(handle),
  };
  return {
    clock,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      for (const callback of held.splice(0)) callback();
    },
  };
}

/** A follower of a, b and c (it is a) whose role and reachable peers the test sets; it records the changes it is asked for. */
function scriptedMember() {
  const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];
  const changes: ClusterConfig[] = [];
  const role = createWatchable<RaftRole>('follower');
  const node = {
    id: a,
    role,
    membership: createWatchable<ClusterConfig>({ voters: [a, b, c] }),
    commitIndex: createWatchable(10),
    replicationProgress: () => new Map([a, b, c].map((voter) => [voter, 10] as const)),
    silentPeers: () => new Set<NodeId>(),
    transferLeadership: () => new Promise<void>(() => {}),
    changeMembership: (target: ClusterConfig) => {
      changes.push(target);
      return new Promise<ClusterConfig>(() => {});
    },
  } as unknown as RaftNode;
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set([b, c]));
  const hello: RoomHello = { type: 'hello', visible: true, member: true, voters: [a, b, c], term: 1, leader: a };
  const presence: RoomPresence = { heard: () => ({ hello, at: 0 }), recent: () => new Map(), describeSelf: () => {}, close: () => {} };
  return { node, role, peers, presence, changes, b, c };
}

describe('the room coordinator counting unreachable members', () => {
  const start = (clock: Clock, member: ReturnType<typeof scriptedMember>) =>
    startRoomCoordinator({
      node: member.node,
      presence: member.presence,
      peers: member.peers,
      visible: createWatchable(true),
      clock,
      policy: createMembershipPolicy({ unreachableAfterMs, targetVoters: 3 }),
      intervalMs,
      changeTimeoutMs: 5_000,
    });

  it('a new leader removes a member it saw unreachable as a follower once the wait has passed since then', async () => {
    const clock = new VirtualClock(0);
    const member = scriptedMember();
    const coordinator = start(clock, member);
    await clock.advance(500);
    member.peers.set(new Set([member.b]));
    await clock.advance(1_200);
    member.role.set('leader');
    // 1.2 s seen unreachable as a follower: the rest of the 1.5 s, plus at most an interval.
    await clock.advance(300 + 2 * intervalMs);
    expect(member.changes.map((target) => target.voters)).toEqual([['a', 'b']]);
    coordinator.close();
  });

  it('a follower whose page was frozen starts counting afresh, since the member may have come back meanwhile', async () => {
    const virtual = new VirtualClock(0);
    const { clock, freeze, thaw } = freezableClock(virtual);
    const member = scriptedMember();
    const coordinator = start(clock, member);
    await virtual.advance(500);
    member.peers.set(new Set([member.b]));
    await virtual.advance(500);
    // Frozen for 5 s: c came back and went again unseen.
    freeze();
    await virtual.advance(5_000);
    member.role.set('leader');
    thaw();
    await virtual.advance(unreachableAfterMs - 2 * intervalMs);
    const beforeTheWait = member.changes.length;
    await virtual.advance(4 * intervalMs);
    expect({ beforeTheWait, after: member.changes.map((target) => target.voters) }).toEqual({ beforeTheWait: 0, after: [['a', 'b']] });
    coordinator.close();
  });

  it('a leader keeps counting across a gap in its timers (a hidden leader\'s fire late)', async () => {
    const virtual = new VirtualClock(0);
    const { clock, freeze, thaw } = freezableClock(virtual);
    const member = scriptedMember();
    member.role.set('leader');
    const coordinator = start(clock, member);
    await virtual.advance(500);
    member.peers.set(new Set([member.b]));
    await virtual.advance(200);
    freeze();
    await virtual.advance(4_000);
    thaw();
    // The first run after the gap sees c unreachable for 4.2 s.
    await virtual.advance(1);
    expect(member.changes.map((target) => target.voters)).toEqual([['a', 'b']]);
    coordinator.close();
  });
});
