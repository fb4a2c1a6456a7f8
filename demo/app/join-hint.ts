// When the cluster panel tells a page it is alone and where another page joins it from. A
// first-time user otherwise sees a one-row cluster and no hint that the point is several windows
// (an outside audit); but the hint must not contradict the rest of the page (a later review).
import type { ClusterConfig } from 'raftmesh';

/** Where another page joins this room from: any browser, or (signaling server down) only this one's tabs. */
export interface JoinHint {
  readonly address: string;
  readonly thisBrowserOnly: boolean;
}

export interface JoinHintInputs {
  readonly membership: ClusterConfig;
  readonly self: string;
  /** Peers with an open connection: a page joining is connected before it is a member. */
  readonly connectedPeers: number;
  /** Peers the room announced that this page cannot connect to (the banner names them). */
  readonly unreachablePeers: number;
  /** False while the user has cut this page off: it is not waiting for company then. */
  readonly connected: boolean;
  readonly signalingDown: boolean;
  /** This page's address. */
  readonly href: string;
}

/** The hint, or null when this page is not alone (or would be told two things at once). */
export function joinHintOf(inputs: JoinHintInputs): JoinHint | null {
  const { membership } = inputs;
  const onlyMember = membership.voters.length === 1 && membership.voters[0] === inputs.self && (membership.learners ?? []).length === 0;
  if (!onlyMember || inputs.connectedPeers > 0 || inputs.unreachablePeers > 0 || !inputs.connected) return null;
  // Without its name, so the other window picks a name of its own.
  const address = new URL(inputs.href);
  address.searchParams.delete('name');
  // Other browsers find this one through the signaling server; this browser's tabs also over BroadcastChannel.
  return { address: address.href, thisBrowserOnly: inputs.signalingDown };
}
