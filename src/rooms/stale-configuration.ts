// Whether a peer about to restart its node could follow the room's leader at all. The engine
// takes a leader's frames only from a voter of the configuration it has adopted, or from the
// leader it pinned for that term (SPEC "Leader authority"); on restart that is the configuration
// in its own storage. A peer away while a learner was promoted and then took the lead stores a
// configuration without that leader: restarted on it, it refuses every frame of the room's
// leader, so nothing the room does (keeping it as a voter, or removing it and taking it back as a
// learner under the same id) reaches it, and it follows no one until its wedge detector reports
// after `wedgeSuspicionTimeouts` election timeouts (20 s on the chaos pages' timing: the witness
// of campaign seed 62). The hellos say so before the node starts: a peer whose own hello says it
// leads, in a term no older than ours, that our stored configuration does not list.
import type { NodeId } from '../core/types.ts';
import type { HeardHello } from './room-presence.ts';

export interface StoredView {
  readonly selfId: NodeId;
  /** The voters (old and new, while joint) of the latest configuration the storage holds. */
  readonly voters: ReadonlySet<NodeId>;
  readonly term: number;
  /** The leader the storage pins for a term (it was a voter when first accepted). */
  readonly pinned: { readonly term: number; readonly leaderId: NodeId } | null;
}

/**
 * `follows`: some peer that says it leads is one the node would accept (restart; a leader the
 * node knows brings it the configurations it missed). `refuses`: peers say they lead, and the node
 * would refuse every one of them (the id cannot be used again). `doubt`: no leader's own hello
 * settles it yet, but a member names as its leader one the node would refuse (wait for that
 * leader's hello, rather than restart on a member's word that the room still lists us).
 */
export type LeaderVerdict = 'follows' | 'refuses' | 'doubt' | 'unknown';

/** Whether the node, restarted on its storage, would take this leader's frames in this term. */
function wouldAccept(stored: StoredView, leader: NodeId, term: number): boolean {
  return stored.voters.has(leader) || (stored.pinned !== null && stored.pinned.term === term && stored.pinned.leaderId === leader);
}

export function judgeRoomLeader(stored: StoredView, hellos: ReadonlyMap<NodeId, HeardHello>): LeaderVerdict {
  let refused = false;
  let doubt = false;
  for (const [from, { hello }] of hellos) {
    // A member that has not seen a commit names no cluster; an older term's leader is history.
    if (!hello.member || hello.voters === null || hello.leader === null || hello.leader === stored.selfId || hello.term < stored.term) continue;
    const accepted = wouldAccept(stored, hello.leader, hello.term);
    // Any leader the node would follow keeps the id: a zombie leader (removed voters electing
    // one on their stale configuration) must not talk a healthy member out of its id.
    if (from === hello.leader && accepted) return 'follows';
    if (from === hello.leader) refused = true;
    else if (!accepted) doubt = true;
  }
  if (refused) return 'refuses';
  return doubt ? 'doubt' : 'unknown';
}
