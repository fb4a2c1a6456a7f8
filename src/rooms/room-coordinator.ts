// What the leader of a room does on its own, every `intervalMs`: apply the membership policy (at
// most one change in flight; changeMembership runs joint consensus) and, while its page is
// hidden, hand leadership to a caught-up visible voter. Every peer runs one; only the leader acts.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import type { MembershipDecision, MembershipPolicy } from './membership-policy.ts';
import type { RoomPresence } from './room-presence.ts';

export type RoomEvent =
  | { readonly type: 'membershipChangeStarted'; readonly decision: MembershipDecision; readonly at: number }
  | { readonly type: 'membershipChanged'; readonly decision: MembershipDecision; readonly at: number }
  | { readonly type: 'membershipChangeFailed'; readonly decision: MembershipDecision; readonly reason: string; readonly at: number }
  | { readonly type: 'leadershipHandoffStarted'; readonly target: NodeId; readonly at: number }
  | { readonly type: 'leadershipHandoffFailed'; readonly target: NodeId; readonly reason: string; readonly at: number }
  /** The node keeps refusing the room's leader (its stored configuration is too old to know it). */
  | { readonly type: 'wedged'; readonly id: NodeId; readonly refusedFrom: NodeId; readonly gate: string; readonly voters: readonly NodeId[]; readonly at: number }
  /** After a wedge: the peer left and joined again under a fresh id on empty storage (SPEC "Wedge"). */
  | { readonly type: 'rejoined'; readonly previousId: NodeId; readonly id: NodeId; readonly at: number }
  | { readonly type: 'rejoinFailed'; readonly reason: string; readonly at: number };

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

export interface RoomCoordinator {
  close(): void;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export function startRoomCoordinator(options: RoomCoordinatorOptions): RoomCoordinator {
  const { node, clock, policy } = options;
  const unreachableSince = new Map<NodeId, number>();
  let changing = false;
  let handingOff = false;
  let nextHandoffAt = 0;
  let closed = false;
  let timer: unknown = null;
  const emit = (event: RoomEvent): void => options.onEvent?.(event);

  /** Counted only while leading: a new leader starts counting afresh (conservative). */
  const trackReachability = (now: number): void => {
    if (node.role.value !== 'leader') {
      unreachableSince.clear();
      return;
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

  const handoffTarget = (): NodeId | null => {
    const progress = node.replicationProgress?.() ?? new Map<NodeId, number>();
    const candidates = node.membership.value.voters.filter((voter) => voter !== node.id && options.peers.value.has(voter) && options.presence.heard(voter)?.hello.visible === true);
    // The most caught-up visible voter needs the shortest catch-up before TimeoutNow.
    candidates.sort((left, right) => (progress.get(right) ?? 0) - (progress.get(left) ?? 0) || (left < right ? -1 : 1));
    return candidates[0] ?? null;
  };

  const handOff = (now: number): void => {
    if (handingOff || now < nextHandoffAt) return;
    const target = handoffTarget();
    if (target === null) return; // a hidden leader is better than none
    handingOff = true;
    emit({ type: 'leadershipHandoffStarted', target, at: now });
    node.transferLeadership(target).catch((error: unknown) => {
      emit({ type: 'leadershipHandoffFailed', target, reason: reasonOf(error), at: clock.now() });
      nextHandoffAt = clock.now() + 4 * options.intervalMs;
    }).finally(() => {
      handingOff = false;
    });
  };

  const evaluate = (): void => {
    if (closed) return;
    const now = clock.now();
    trackReachability(now);
    if (node.role.value !== 'leader') return;
    if (!options.visible.value) {
      handOff(now);
      return;
    }
    if (changing || handingOff) return;
    const decision = policy.decide({
      selfId: node.id,
      now,
      config: node.membership.value,
      commitIndex: node.commitIndex.value,
      // Without the accessor (another RaftNode implementation) no learner counts as caught up.
      matchIndex: node.replicationProgress?.() ?? new Map(),
      reachable: options.peers.value,
      unreachableSince,
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
    close() {
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
      unsubscribeVisible();
      unsubscribeRole();
    },
  };
}
