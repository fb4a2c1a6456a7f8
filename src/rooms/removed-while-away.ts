// Before a peer with a log starts its node again, it checks that it was not removed from the
// voters while it was away. Removed voters keep their old configuration; if several come back
// together they could form a majority of it and elect a "zombie" leader that commits a second
// history (and makes healthy members refuse its frames). A removed voter therefore rejoins under
// a fresh id, as a learner that takes the cluster's log, instead of restarting as a voter.
import type { Clock } from '../core/config.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import type { StoredNodeState } from '../storage/stored-node-state.ts';
import { sleep } from './propose-with-retries.ts';
import type { RoomPresence } from './room-presence.ts';

/** The voters and learners (old and new, while joint) of the stored configuration, else the bootstrap's: the peers this one knows were of its cluster. */
function storedMembers(stored: StoredNodeState, bootstrap: ClusterConfig): ReadonlySet<NodeId> {
  return new Set(configurationsOf(stored, bootstrap).flatMap((config) => [...config.voters, ...(config.learners ?? [])]));
}

function configurationsOf(stored: StoredNodeState, bootstrap: ClusterConfig): readonly ClusterConfig[] {
  return stored.configurations.length === 0 ? [bootstrap] : stored.configurations;
}

export interface RemovedCheckOptions {
  readonly selfId: NodeId;
  /** What the id's storage holds (read where the node will run: on this page, or in its worker). */
  readonly stored: StoredNodeState;
  readonly bootstrap: ClusterConfig;
  readonly presence: RoomPresence;
  readonly clock: Clock;
  /** How long to listen for a member before starting anyway (a room of one, everyone away). */
  readonly waitMs: number;
  readonly pollMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** True when a member in a newer term names voters without us while our log says we are one. */
export async function removedWhileAway(options: RemovedCheckOptions): Promise<boolean> {
  if (!configurationsOf(options.stored, options.bootstrap).some((config) => config.voters.includes(options.selfId))) return false; // learners cannot vote
  // Only a peer our own configuration lists is believed. A hello is an unchecked claim from
  // whoever the transport reaches (anyone who knows an open room's id, any holder of a keyed
  // room's secret, admitted or not), and believing a stranger's "voters without you, term 10^6"
  // made every returning voter give up its id and its log: a room reopened next to one such
  // peer lost everything it had acknowledged. A voter removed while away by a room that has
  // since replaced every member it knows, and that hears only strangers, restarts on its id;
  // it cannot elect on its stale configuration alone (the change that removed it was
  // acknowledged by a majority of that configuration, which then knows the newer one), and the
  // room's leader, once it adds it back as a learner, makes it report a wedge and rejoin fresh.
  const known = storedMembers(options.stored, options.bootstrap);
  const storedTerm = options.stored.term;
  const started = options.clock.now();
  for (;;) {
    const claims = [...options.presence.recent()].flatMap(([sender, { hello }]) => (hello.member && hello.voters !== null && known.has(sender) ? [{ voters: hello.voters, term: hello.term }] : []));
    // Removal first, whatever order the hellos came in: a member that has yet to learn of the
    // change still lists us, and believing it restarts a removed voter (the unsafe side); a
    // fresh id costs only the id.
    if (claims.some((claim) => !claim.voters.includes(options.selfId) && claim.term > storedTerm)) return true;
    if (claims.some((claim) => claim.voters.includes(options.selfId))) return false;
    if (options.clock.now() - started >= options.waitMs) return false;
    await sleep(options.clock, options.pollMs, options.signal);
  }
}
