// A hidden leader's hand-off: browsers throttle timers in background tabs, so a leader whose page
// is hidden transfers leadership to the most caught-up voter whose hello says it is visible (the
// shortest catch-up before TimeoutNow) and that may lead: never the room's witness, nor a peer
// whose hello says it never leads (an edge peer run with --witness, named or not). Such a peer
// is always visible and caught up, but refuses TimeoutNow: picked, every transfer timed out and
// the leader tried it again for good (review 2026-12-06). A voter that answers this leader goes
// before one that does not. With no voter to hand to it keeps
// leading: a hidden leader is better than none. One attempt at a time; after a failure, wait
// before the next.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { reasonOf, type RoomEvent } from './room-events.ts';
import type { RoomPresence } from './room-presence.ts';

export interface LeadershipHandoffOptions {
  readonly node: RaftNode;
  readonly presence: RoomPresence;
  readonly peers: Watchable<ReadonlySet<NodeId>>;
  /** The room's witness (MembershipPolicySettings.witness): it never leads, so it is never a target. */
  readonly witness: NodeId | null;
  readonly clock: Clock;
  readonly retryAfterMs: number;
  readonly emit: (event: RoomEvent) => void;
}

export interface LeadershipHandoff {
  readonly inFlight: boolean;
  attempt(now: number): void;
}

export function createLeadershipHandoff(options: LeadershipHandoffOptions): LeadershipHandoff {
  const { node, clock } = options;
  let inFlight = false;
  let nextAttemptAt = 0;

  const target = (): NodeId | null => {
    const progress = node.replicationProgress?.() ?? new Map<NodeId, number>();
    const mayLead = (voter: NodeId): boolean => {
      const hello = options.presence.heard(voter)?.hello;
      return voter !== options.witness && hello?.visible === true && hello.neverLeads !== true;
    };
    // A voter that answers this leader before one that does not (RaftNode.silentPeers: a wedged
    // page whose connections and hellos go on cannot catch up for TimeoutNow; picked, every
    // transfer timed out, holding the membership policy back while in flight). Preferred, not
    // required: a hidden page's timers fire about once a second, so an engine on that page sends
    // its heartbeats as late, and every voter may look silent at each look (a review, 2026-12-08).
    const silent = node.silentPeers?.() ?? new Set<NodeId>();
    const rank = (voter: NodeId): number => (silent.has(voter) ? 1 : 0);
    const candidates = node.membership.value.voters.filter((voter) => voter !== node.id && options.peers.value.has(voter) && mayLead(voter));
    candidates.sort((left, right) => rank(left) - rank(right) || (progress.get(right) ?? 0) - (progress.get(left) ?? 0) || (left < right ? -1 : 1));
    return candidates[0] ?? null;
  };

  return {
    get inFlight() {
      return inFlight;
    },
    attempt(now) {
      if (inFlight || now < nextAttemptAt) return;
      const chosen = target();
      if (chosen === null) return;
      inFlight = true;
      options.emit({ type: 'leadershipHandoffStarted', target: chosen, at: now });
      node
        .transferLeadership(chosen)
        .catch((error: unknown) => {
          options.emit({ type: 'leadershipHandoffFailed', target: chosen, reason: reasonOf(error), at: clock.now() });
          nextAttemptAt = clock.now() + options.retryAfterMs;
        })
        .finally(() => {
          inFlight = false;
        });
    },
  };
}
