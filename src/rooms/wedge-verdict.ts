// Whether a wedge report (SPEC "Wedge": the node keeps refusing a sender's frames) means this peer
// is wedged, so that it must rejoin under a fresh id. A healthy member also refuses a removed
// peer campaigning on its stale configuration, so the report counts only when the node follows no
// leader, or only the one it refuses. But the leader a node names can be stale: a learner never
// times its leader out (it never campaigns), so one restarted on an old configuration kept naming
// the leader of an earlier term, dismissed the report against the room's real leader, and - the
// report coming once per sender - stayed wedged for good (found by npm run chaos:rooms, seed 404).
// The leader's own hello tells: a peer whose hello says it does not lead, or that we no longer
// hear, is followed by no one.
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
