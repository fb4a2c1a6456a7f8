// Whether a wedge report (SPEC "Wedge": the node keeps refusing a sender's frames) means this peer
// is wedged, so that it must rejoin under a fresh id. A healthy member also refuses a removed
// peer campaigning on its stale configuration, so the report counts only when the node follows no
// leader, or only the one it refuses. But the leader a node names can be stale: a learner never
// times its leader out (it never campaigns), so one restarted on an old configuration kept naming
// the leader of an earlier term, dismissed the report against the room's real leader, and - the
// report coming once per sender - stayed wedged for good (found by npm run chaos:rooms, seed 404).
// The leader's own hello tells: a peer whose hello says it does not lead, or that we no longer
// hear, is followed by no one.
//
// Nor is one look enough. A report is dismissed while the node follows a healthy leader, and looked
// at again every gossip interval; a stranger's refused frames were enough for a report, and a
// two-second network blip (no leader for a moment) then turned it into a verdict: both followers
// of a three-voter room gave their ids and logs up, and the room stalled for good (review 31). A
// real wedge lasts: the leader that lists the node keeps sending it frames, the node keeps
// refusing them and follows no one, for as long as it keeps its id. So a report counts only while
// its sender is still being refused, and the verdict needs it to count without a break for longer
// than an election and the hellos that tell of the new leader take.
import type { NodeId } from '../core/types.ts';
import type { HeardHello } from './room-presence.ts';

export interface WedgeView {
  readonly selfId: NodeId;
  /** The leader the node names (node.leader). */
  readonly following: NodeId | null;
  readonly term: number;
  /** The sender whose frames the node keeps refusing. */
  readonly refused: NodeId;
  /** Recent hellos of the peers we reach (RoomPresence.recent()). */
  readonly hellos: ReadonlyMap<NodeId, HeardHello>;
}

/** The leader the node really follows: null when the one it names is silent or says it does not lead. */
export function followedLeader(view: WedgeView): NodeId | null {
  const { following } = view;
  if (following === null || following === view.selfId) return following;
  const heard = view.hellos.get(following)?.hello;
  if (heard === undefined) return null;
  return heard.leader !== following && heard.term >= view.term ? null : following;
}

export function isWedged(view: WedgeView): boolean {
  const leader = followedLeader(view);
  return leader === null || leader === view.refused;
}

export interface WedgeTimings {
  /** The sender still counts as refused while its latest refusal is at most this old. */
  readonly refusedWithinMs: number;
  /** How long a report must count, without a break, before it is a verdict. */
  readonly lastingMs: number;
}

/**
 * A leader sends every heartbeat interval, a stuck candidate every election timeout at the most,
 * so two election timeouts without a refusal mean the sender stopped. Four election timeouts
 * cover an election with a split vote or two (a blip, a tab that slept), and two gossip intervals
 * the hello in which the new leader says it leads.
 */
export function wedgeTimings(electionTimeoutMaxMs: number, gossipIntervalMs: number): WedgeTimings {
  return { refusedWithinMs: 2 * electionTimeoutMaxMs, lastingMs: 4 * electionTimeoutMaxMs + 2 * gossipIntervalMs };
}

/**
 * The shortest `silentAfterMs` a room's policy may use (membership-policy.ts rule 6): a wedged
 * learner refuses the leader's frames and so does not answer, and must be told to rejoin before
 * its slot goes, or, dropped, it stops hearing the frames its report counts and keeps its wedged
 * id. Twice the worst case: the report after `wedgeSuspicionTimeouts` election timeouts, the
 * verdict `lastingMs` later, looked at once per gossip interval. 14.4 s at the defaults.
 */
export function silenceFloorMs(electionTimeoutMaxMs: number, wedgeSuspicionTimeouts: number, gossipIntervalMs: number): number {
  const verdict = wedgeSuspicionTimeouts * electionTimeoutMaxMs + wedgeTimings(electionTimeoutMaxMs, gossipIntervalMs).lastingMs + gossipIntervalMs;
  return 2 * verdict;
}

/** One report, looked at time and again. */
export interface WedgeWatch {
  /** A look: true once the report has counted, without a break, for `lastingMs`. */
  (now: number, view: WedgeView, lastRefused: number | undefined): boolean;
  /** Whether the report counted at the latest look: a verdict is then at most `lastingMs` away, or the count breaks. */
  readonly counting: boolean;
}

export function createWedgeWatch(timings: WedgeTimings): WedgeWatch {
  let countingSince: number | null = null;
  const look = (now: number, view: WedgeView, lastRefused: number | undefined): boolean => {
    const stillRefused = lastRefused !== undefined && now - lastRefused <= timings.refusedWithinMs;
    if (!stillRefused || !isWedged(view)) {
      countingSince = null;
      return false;
    }
    countingSince ??= now;
    return now - countingSince >= timings.lastingMs;
  };
  return Object.defineProperty(look, 'counting', { get: () => countingSince !== null }) as WedgeWatch;
}
