// What the leader of a room does on its own, every `intervalMs`: apply the membership policy (at
// most one change in flight; changeMembership runs joint consensus) and, while its page is
// hidden, hand leadership to a caught-up visible voter. A hidden leader with no voter to hand to
// keeps applying the policy. Every peer runs one; only the leader acts.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createLeadershipHandoff } from './leadership-handoff.ts';
import { maxListedUnreachable } from './room-channel.ts';
import type { MembershipDecision, MembershipPolicy } from './membership-policy.ts';
import { emitSafely, reasonOf, type RoomEvent } from './room-events.ts';
import type { RoomPresence } from './room-presence.ts';

export type { RoomEvent } from './room-events.ts';

export interface RoomCoordinatorOptions {
  readonly node: RaftNode;
  readonly presence: RoomPresence;
  readonly peers: Watchable<ReadonlySet<NodeId>>;
  readonly visible: Watchable<boolean>;
  readonly clock: Clock;
  readonly policy: MembershipPolicy;
  readonly intervalMs: number;
  /** Stop waiting for a change after this long (it may still commit; the next one waits for it). */
  readonly changeTimeoutMs: number;
  readonly onEvent?: ((event: RoomEvent) => void) | undefined;
}

/** Waiting peers tracked at most (the transport bounds the reachable peers long before). */
const maxWaitingTracked = 1_024;

export interface RoomCoordinator {
  /**
   * While this peer leads: the members it has not reached, each with how long (ms), for its
   * hellos (RoomHello.unreachable); empty otherwise.
   */
  unreachableMembers(): readonly (readonly [NodeId, number])[];
  close(): void;
}

export function startRoomCoordinator(options: RoomCoordinatorOptions): RoomCoordinator {
  const { node, clock, policy } = options;
  const unreachableSince = new Map<NodeId, number>();
  const silentSince = new Map<NodeId, number>();
  const waitingSince = new Map<NodeId, number>();
  let changing = false;
  let closed = false;
  let timer: unknown = null;
  const emit = (event: RoomEvent): void => emitSafely(options.onEvent, event);
  const handoff = createLeadershipHandoff({ node, presence: options.presence, peers: options.peers, witness: policy.settings.witness, clock, retryAfterMs: 4 * options.intervalMs, emit });

  /** A new leader's count: see trackReachability. */
  const takeOverCount = (now: number): void => {
    const heard = followed === null ? undefined : options.presence.heard(followed);
    const said = new Map<NodeId, number>();
    // Only what that peer said as leader; `heard` keeps only fresh hellos.
    if (heard !== undefined && heard.hello.leader === followed) for (const [member, forMs] of heard.hello.unreachable ?? []) said.set(member, heard.at - forMs);
    for (const [member, since] of unreachableSince) unreachableSince.set(member, Math.max(since, said.get(member) ?? now));
  };

  /** Whether this peer led when it last looked at reachability, in which term, and whom it followed before. */
  let ledAtLastLook = false;
  let termAtLastLook = 0;
  let followed: NodeId | null = null;

  /**
   * Members this peer cannot reach, since when, counted on every role; and what a peer that
   * becomes leader takes of it. Counted only while leading, as it once was, the clock restarted
   * at every election: under load two voters of three re-elected each other every few seconds
   * while the third was away, and nobody removed it (a helper cutting CI time, 2026-12-07). But a
   * follower's own count is of links no Raft frame uses (followers do not talk to each other):
   * taken as it is, a new leader removed at once a member whose link to it alone was re-forming,
   * while the old leader reached it (a review, 2026-12-08). So a new leader counts each member
   * from the later of its own count and the one the leader it followed gave in its latest hello
   * (RoomHello.unreachable, sent by leaders); a member that leader reached, or any member when no
   * fresh hello of it is at hand (it crashed, this page was frozen), is counted from the election.
   * A lying hello can only make the count later. A leader keeps counting across a gap in its
   * timers, as it always has (a hidden leader's timers fire late).
   */
  const trackReachability = (now: number): void => {
    const leading = node.role.value === 'leader';
    const term = node.term.value;
    // A new term is a new leadership too: a leader deposed and elected again between two looks (a
    // hidden page looks about once a second, and handles messages in between) must not carry its
    // old count past a term in which another leader may have reached the member.
    if (leading && (!ledAtLastLook || term !== termAtLastLook)) takeOverCount(now);
    ledAtLastLook = leading;
    termAtLastLook = term;
    if (!leading) {
      const leader = node.leader.value;
      if (leader !== null && leader !== node.id) followed = leader;
    }
    const config = node.membership.value;
    const members = new Set([...config.voters, ...(config.learners ?? [])]);
    const peers = options.peers.value;
    for (const member of members) {
      if (member === node.id || peers.has(member)) unreachableSince.delete(member);
      else if (!unreachableSince.has(member)) unreachableSince.set(member, now);
    }
    for (const tracked of unreachableSince.keys()) if (!members.has(tracked)) unreachableSince.delete(tracked);
  };

  /**
   * Members not answering this leader (RaftNode.silentPeers), since first seen so; counted afresh
   * by each leader (only a leader hears the answers). Voters too: a voter whose node stopped may
   * stay reachable (its page keeps its connections), and only its silence says it acknowledges
   * nothing (review s52).
   */
  const trackSilence = (now: number): void => {
    if (node.role.value !== 'leader') {
      silentSince.clear();
      return;
    }
    // Without the accessor (another RaftNode implementation) no member counts as silent.
    const silent = node.silentPeers?.() ?? new Set<NodeId>();
    const config = node.membership.value;
    const members = new Set([...config.voters, ...(config.learners ?? [])]);
    members.delete(node.id);
    for (const member of members) {
      if (!silent.has(member)) silentSince.delete(member);
      else if (!silentSince.has(member)) silentSince.set(member, now);
    }
    for (const tracked of silentSince.keys()) if (!members.has(tracked)) silentSince.delete(tracked);
  };

  /**
   * Reachable peers outside the configuration, since when: tracked on every role, so a new leader
   * knows who has waited longest. A member dropped, or a peer that comes back, waits afresh.
   */
  const trackWaiting = (now: number): void => {
    const config = node.membership.value;
    const members = new Set([...config.voters, ...(config.learners ?? [])]);
    const peers = options.peers.value;
    for (const tracked of waitingSince.keys()) if (members.has(tracked) || !peers.has(tracked)) waitingSince.delete(tracked);
    for (const peer of peers) {
      if (peer === node.id || members.has(peer) || waitingSince.has(peer) || waitingSince.size >= maxWaitingTracked) continue;
      waitingSince.set(peer, now);
    }
  };

  /**
   * Reachable peers that are not admitted yet: those whose latest hello says they run no node (still
   * discovering), and those not heard from at all. Reachable is not heard: a leader that admitted
   * a newcomer before its first hello arrived listed it as a learner while it was still
   * discovering on empty storage, which took the listing for its id's old membership and gave the
   * id up (discover-cluster.ts identityReused; a flaky e2e test, 2026-12-07). No grace for
   * silence would do: the newcomer's side of a link can open seconds after the leader's (a lost
   * DTLS flight), and then hears the leader's held hellos, the latest listing it, all at once. Every
   * room peer says hello to each peer it reaches and every gossip interval after; one that says
   * nothing (a frozen tab, hellos going stale) waits until it speaks.
   */
  const discoveringPeers = (): ReadonlySet<NodeId> => {
    const discovering = new Set<NodeId>();
    for (const peer of options.peers.value) {
      if (options.presence.heard(peer)?.hello.member !== true) discovering.add(peer);
    }
    return discovering;
  };

  const changeMembership = (decision: MembershipDecision, now: number): void => {
    changing = true;
    emit({ type: 'membershipChangeStarted', decision, at: now });
    const controller = new AbortController();
    const deadline = clock.setTimeout(() => controller.abort(new Error(`not committed within ${options.changeTimeoutMs} ms`)), options.changeTimeoutMs);
    node.changeMembership(decision.target, { signal: controller.signal }).then(
      () => emit({ type: 'membershipChanged', decision, at: clock.now() }),
      (error: unknown) => emit({ type: 'membershipChangeFailed', decision, reason: reasonOf(error), at: clock.now() }),
    ).finally(() => {
      clock.clearTimeout(deadline);
      changing = false;
    });
  };

  const evaluate = (): void => {
    if (closed) return;
    const now = clock.now();
    trackReachability(now);
    trackSilence(now);
    trackWaiting(now);
    if (node.role.value !== 'leader') return;
    // One thing at a time. A change asked for during a transfer is held by the engine until the
    // transfer ends, and fails if leadership moved (the new leader's policy decides afresh); a
    // transfer started mid-change hands over a joint configuration. Neither helps, so each waits
    // for the other (a change waits at most changeTimeoutMs).
    if (changing || handoff.inFlight) return;
    if (!options.visible.value) {
      handoff.attempt(now);
      if (handoff.inFlight) return;
      // No voter to hand to (none visible that may lead), or waiting to try again: this leader
      // keeps leading, so it keeps the membership up to date too. Paused while hidden, it admitted
      // nobody and removed nobody who left while every page was in the background (review
      // 2026-12-06).
    }
    const decision = policy.decide({
      selfId: node.id,
      now,
      config: node.membership.value,
      commitIndex: node.commitIndex.value,
      // Without the accessor (another RaftNode implementation) no learner counts as caught up.
      matchIndex: node.replicationProgress?.() ?? new Map(),
      reachable: options.peers.value,
      unreachableSince,
      silentSince,
      waitingSince,
      discovering: discoveringPeers(),
    });
    if (decision !== null) changeMembership(decision, now);
  };

  const tick = (): void => {
    timer = null;
    if (closed) return;
    evaluate();
    timer = clock.setTimeout(tick, options.intervalMs);
  };
  // Becoming hidden or becoming leader while hidden should not wait for the next tick. Deferred:
  // role listeners run inside the driver's step, which must not be re-entered.
  const soon = (): void => void clock.setTimeout(evaluate, 0);
  const unsubscribeVisible = options.visible.subscribe(soon);
  const unsubscribeRole = node.role.subscribe(soon);
  tick();
  return {
    unreachableMembers() {
      if (closed || node.role.value !== 'leader' || !ledAtLastLook) return [];
      const now = clock.now();
      // The longest absent first, as many as a hello may list (a bigger hello is refused whole).
      const longestFirst = [...unreachableSince].sort(([, left], [, right]) => left - right).slice(0, maxListedUnreachable);
      // Whole milliseconds: a clock may read fractions, and a hello carries integers.
      return longestFirst.map(([member, since]) => [member, Math.max(0, Math.floor(now - since))] as const);
    },
    close() {
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
      unsubscribeVisible();
      unsubscribeRole();
    },
  };
}
