// How long a member has been unreachable is counted by every peer, so a change of leader does not
// restart the room policy's clock: under load two voters of three re-elected each other every few
// seconds while the third was away, and nobody removed it for as long as that went on (found by a
// helper cutting CI time, 2026-12-07). A new leader counts each member from the later of its own
// count and the one in its old leader's latest fresh hello, or from its election when it has none.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../core/config.ts';
import { createWatchable } from '../core/observable.ts';
import type { ClusterConfig, NodeId, RaftRole } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createMembershipPolicy } from './membership-policy.ts';
import type { RoomHello } from './room-channel.ts';
import { startRoomCoordinator, type RoomEvent } from './room-coordinator.ts';
import type { HeardHello, RoomPresence } from './room-presence.ts';
import { depart, threeVoterRoom, type RoomTimings } from './room-simulation-peers.test-support.ts';

const unreachableAfterMs = 1_500;
const intervalMs = 100;
const timings: RoomTimings = { unreachableAfterMs, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: intervalMs, targetVoters: 3 };

describe('the unreachable clock of a room whose leader keeps changing', () => {
  it('removes a voter that left although leadership moves more often than unreachableAfterMs', async () => {
    const { clock, environment, registry, leader, close } = await threeVoterRoom(5171, timings);
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
    await close();
  });
});

// From a review of the first form of this change (2026-12-08), in which a new leader took its own
// count as a follower as it was.
describe('the unreachable clock of a new leader whose link to a member was down while it followed', () => {
  it('does not remove a present voter whose link to it alone is re-forming', async () => {
    const events: { peer: NodeId; event: RoomEvent }[] = [];
    const { clock, network, registry, leader, close } = await threeVoterRoom(7301, timings, (peer, event) => events.push({ peer, event }));
    const first = leader()!;
    const [f, m] = registry.all().filter((peer) => peer !== first);
    // The link between the two followers drops (an ICE failure, a NAT rebinding): no Raft frame
    // uses it, the leader reaches both, and nobody acts on it.
    network.blockOneWay(f!.id, m!.id);
    network.blockOneWay(m!.id, f!.id);
    await clock.advance(3_000);
    expect(leader()).toBe(first);
    // The user switches to f's tab: the leader's and m's pages go to the background, so the
    // leader hands leadership to f, the only visible voter.
    first.visibility.visible.set(false);
    m!.visibility.visible.set(false);
    expect(await clock.runUntil(() => leader() === f, { timeoutMs: 5_000 })).toBe(true);
    // The link re-forms within a third of the policy's wait.
    await clock.advance(unreachableAfterMs / 3);
    network.heal();
    await clock.advance(3_000);
    const removals = events.filter(({ event }) => event.type === 'membershipChangeStarted' && 'removed' in event.decision && event.decision.removed === m!.id);
    expect(removals.map(({ peer }) => peer)).toEqual([]);
    await close();
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

/**
 * Peer a of a, b and c, whose role, leader and reachable peers the test sets, and the latest hello
 * of the leader it follows (b) as its presence keeps it (undefined: none fresh); it records the
 * changes it is asked for.
 */
function scriptedMember(clock: Pick<Clock, 'now'>, initialRole: RaftRole = 'follower') {
  const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];
  const changes: ClusterConfig[] = [];
  const role = createWatchable<RaftRole>(initialRole);
  const leader = createWatchable<NodeId | null>(initialRole === 'leader' ? a : b);
  const term = createWatchable(1);
  const node = {
    id: a,
    role,
    leader,
    term,
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
  const heard: { fromLeader: HeardHello | undefined } = { fromLeader: undefined };
  // As RoomPresence.heard promises: only a hello that arrived within a hello's lifetime (four
  // gossip intervals of 300 ms here).
  const fresh = (entry: HeardHello | undefined): HeardHello | undefined => (entry !== undefined && clock.now() - entry.at <= 1_200 ? entry : undefined);
  const presence: RoomPresence = { heard: (peer) => (peer === b ? fresh(heard.fromLeader) : undefined), recent: () => new Map(), describeSelf: () => {}, close: () => {} };
  /** b's hello as leader, heard at `at`, listing `unreachable`. */
  const leaderSaid = (at: number, unreachable: readonly (readonly [NodeId, number])[]): void => {
    const hello: RoomHello = { type: 'hello', visible: true, member: true, voters: [a, b, c], term: 1, leader: b, ...(unreachable.length === 0 ? {} : { unreachable }) };
    heard.fromLeader = { hello, at };
  };
  /** This peer wins an election: it leads from now on, in a newer term. */
  const elected = (): void => {
    term.set(term.value + 1);
    leader.set(a);
    role.set('leader');
  };
  return { node, role, leader, term, peers, presence, changes, b, c, leaderSaid, elected };
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
  const removals = (member: ReturnType<typeof scriptedMember>) => member.changes.map((target) => target.voters);
  /**
   * The changes asked for up to two intervals before `waitEndsInMs` from now (how many), and
   * two intervals after it (which): the policy looks once per interval.
   */
  const aroundTheWait = async (clock: VirtualClock, member: ReturnType<typeof scriptedMember>, waitEndsInMs: number) => {
    await clock.advance(waitEndsInMs - 2 * intervalMs);
    const beforeTheWait = removals(member).length;
    await clock.advance(4 * intervalMs);
    return { beforeTheWait, after: removals(member) };
  };

  it('a new leader counts a member from when both it and the leader before it lost it, not from its election', async () => {
    const clock = new VirtualClock(0);
    const member = scriptedMember(clock);
    const coordinator = start(clock, member);
    await clock.advance(500);
    member.peers.set(new Set([member.b]));
    await clock.advance(1_200);
    // The leader's latest hello: c unreachable for 1.3 s (since 400, before this peer saw it go).
    member.leaderSaid(1_650, [[member.c, 1_250]]);
    member.elected();
    // Counted from 600 (its own first look at c gone, the later of the two): the rest of the
    // 1.5 s, plus at most an interval.
    await clock.advance(300 + 2 * intervalMs);
    expect(removals(member)).toEqual([['a', 'b']]);
    coordinator.close();
  });

  it('a new leader counts from its election a member the leader before it reached (a link between followers, which carries no Raft traffic)', async () => {
    const clock = new VirtualClock(0);
    const member = scriptedMember(clock);
    const coordinator = start(clock, member);
    await clock.advance(500);
    member.peers.set(new Set([member.b]));
    await clock.advance(3_000);
    // b leads and reaches c: its hello lists nobody.
    member.leaderSaid(3_450, []);
    member.elected();
    expect(await aroundTheWait(clock, member, unreachableAfterMs)).toEqual({ beforeTheWait: 0, after: [['a', 'b']] });
    coordinator.close();
  });

  it('a new leader with no fresh hello of the leader before it (this page was frozen, or that leader crashed) counts from its election', async () => {
    const virtual = new VirtualClock(0);
    const { clock, freeze, thaw } = freezableClock(virtual);
    const member = scriptedMember(virtual);
    const coordinator = start(clock, member);
    await virtual.advance(500);
    member.peers.set(new Set([member.b]));
    await virtual.advance(500);
    // b's last hello before the freeze: c unreachable for 500 ms.
    member.leaderSaid(virtual.now(), [[member.c, 500]]);
    // Frozen for 5 s: c came back and went again unseen; that hello went stale meanwhile.
    freeze();
    await virtual.advance(5_000);
    member.elected();
    thaw();
    expect(await aroundTheWait(virtual, member, unreachableAfterMs)).toEqual({ beforeTheWait: 0, after: [['a', 'b']] });
    coordinator.close();
  });

  it('a leader keeps counting across a gap in its timers (a hidden leader\'s fire late)', async () => {
    const virtual = new VirtualClock(0);
    const { clock, freeze, thaw } = freezableClock(virtual);
    const member = scriptedMember(virtual, 'leader');
    const coordinator = start(clock, member);
    await virtual.advance(500);
    member.peers.set(new Set([member.b]));
    await virtual.advance(200);
    freeze();
    await virtual.advance(4_000);
    thaw();
    // The first run after the gap sees c unreachable for 4.2 s.
    await virtual.advance(1);
    expect(removals(member)).toEqual([['a', 'b']]);
    coordinator.close();
  });

  // From a review of the first form of this change (2026-12-08), which kept a leader's count
  // across a gap even when it was deposed meanwhile.
  it('a leader frozen (a laptop asleep), deposed meanwhile and re-elected soon after counts from its new election', async () => {
    const virtual = new VirtualClock(0);
    const { clock, freeze, thaw } = freezableClock(virtual);
    const member = scriptedMember(virtual, 'leader');
    const coordinator = start(clock, member);
    await virtual.advance(500);
    // c reloads: gone for a moment, seen by this leader.
    member.peers.set(new Set([member.b]));
    await virtual.advance(500);
    // Frozen 5 s: meanwhile b is elected, and c comes back (unseen by this page).
    freeze();
    await virtual.advance(5_000);
    // Thawed: it hears the new term and follows b, which reaches c; then b hands leadership to it.
    member.leader.set(member.b);
    member.role.set('follower');
    thaw();
    await virtual.advance(300);
    member.leaderSaid(virtual.now(), []);
    member.elected();
    await virtual.advance(4 * intervalMs);
    expect(removals(member)).toEqual([]);
    coordinator.close();
  });

  it('a new leader counts from its old leader\'s count when that one is the later (the old leader lost the member after it did)', async () => {
    const clock = new VirtualClock(0);
    const member = scriptedMember(clock);
    const coordinator = start(clock, member);
    await clock.advance(500);
    member.peers.set(new Set([member.b]));
    await clock.advance(1_200);
    // Its own count runs from 600; b lost c only at 1,200 (500 ms before this hello).
    member.leaderSaid(1_700, [[member.c, 500]]);
    member.elected();
    // Counted from 1,200: nothing before 2,700.
    expect(await aroundTheWait(clock, member, 2_700 - 1_700)).toEqual({ beforeTheWait: 0, after: [['a', 'b']] });
    coordinator.close();
  });

  it('a leader deposed and elected again between two of its looks (a hidden page looks once a second) counts from its new term', async () => {
    const virtual = new VirtualClock(0);
    const { clock, freeze, thaw } = freezableClock(virtual);
    const member = scriptedMember(virtual, 'leader');
    const coordinator = start(clock, member);
    await virtual.advance(500);
    member.peers.set(new Set([member.b]));
    await virtual.advance(500);
    // No look for 1.2 s (its timers held back); meanwhile a newer term in which it leads again,
    // while another leader may have reached c. Its role reads 'leader' at both looks.
    freeze();
    await virtual.advance(600);
    member.term.set(member.term.value + 1);
    await virtual.advance(600);
    thaw();
    expect(await aroundTheWait(virtual, member, unreachableAfterMs)).toEqual({ beforeTheWait: 0, after: [['a', 'b']] });
    coordinator.close();
  });

  it('says, while it leads, whom it has not reached and for how long, and nothing as a follower', async () => {
    const clock = new VirtualClock(0);
    const member = scriptedMember(clock);
    const coordinator = start(clock, member);
    await clock.advance(500);
    member.peers.set(new Set([member.b]));
    await clock.advance(500);
    const asFollower = coordinator.unreachableMembers();
    member.leaderSaid(900, [[member.c, 700]]);
    member.elected();
    await clock.advance(300);
    // Counted from 600 (its own look; b said 200, earlier): 700 ms at 1,300.
    expect({ asFollower, asLeader: coordinator.unreachableMembers() }).toEqual({ asFollower: [], asLeader: [[member.c, 700]] });
    coordinator.close();
  });
});
