// Before a peer with a log starts its node again, it checks that it was not removed from the
// voters while it was away. Removed voters keep their old configuration; if several come back
// together they could form a majority of it and elect a "zombie" leader that commits a second
// history (and makes healthy members refuse its frames). A removed voter therefore rejoins under
// a fresh id, as a learner that takes the cluster's log, instead of restarting as a voter.
// A peer, voter or learner, whose stored configuration does not know the room's leader gives its
// id up too (stale-configuration.ts): restarted on it, its node would refuse that leader and
// follow no one until its wedge detector reported, many election timeouts later.
import type { Clock } from '../core/config.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { sleep } from './propose-with-retries.ts';
import type { RoomPresence } from './room-presence.ts';
import { judgeRoomLeader } from './stale-configuration.ts';

/** The voters (old and new, while joint) of the latest configuration the storage holds. */
export async function storedVoters(storage: RaftStorage, bootstrap: ClusterConfig): Promise<ReadonlySet<NodeId>> {
  const entries = await storage.entries();
  for (let position = entries.length - 1; position >= 0; position -= 1) {
    const config = entries[position]?.config;
    if (config !== undefined) return new Set([...config.new.voters, ...(config.old?.voters ?? [])]);
  }
  const snapshotConfig = (await storage.loadSnapshot())?.meta.config;
  if (snapshotConfig !== undefined) return new Set([...snapshotConfig.new.voters, ...(snapshotConfig.old?.voters ?? [])]);
  return new Set(bootstrap.voters);
}

export interface RemovedCheckOptions {
  readonly selfId: NodeId;
  readonly storage: RaftStorage;
  readonly bootstrap: ClusterConfig;
  readonly presence: RoomPresence;
  readonly clock: Clock;
  /** How long to listen for a member before starting anyway (a room of one, everyone away). */
  readonly waitMs: number;
  readonly pollMs: number;
  /**
   * Whether to give the id up when the room's leader is one the stored configuration does not
   * know (stale-configuration.ts). False for an id the peer cannot change (a fixed nodeId): it
   * starts as before, and its `wedged` event leaves the decision to the application.
   */
  readonly giveUpIfLeaderUnknown: boolean;
  readonly signal?: AbortSignal | undefined;
}

/**
 * `removedWhileAway`: a member in a newer term names voters without us while our log says we are
 * one. `leaderUnknown`: the room's leader is one our stored configuration would refuse, so the
 * node would follow no one (still listed or not). Either way the id must not run again.
 */
export type RestartVerdict = 'restart' | 'removedWhileAway' | 'leaderUnknown';

export async function restartVerdict(options: RemovedCheckOptions): Promise<RestartVerdict> {
  const voters = await storedVoters(options.storage, options.bootstrap);
  const stored = { selfId: options.selfId, voters, term: await options.storage.term(), pinned: await options.storage.leaderForTerm() };
  const isVoter = voters.has(options.selfId);
  const started = options.clock.now();
  for (;;) {
    const hellos = options.presence.recent();
    const leader = options.giveUpIfLeaderUnknown ? judgeRoomLeader(stored, hellos) : 'unknown';
    if (leader === 'refuses') return 'leaderUnknown';
    // Learners cannot vote, so they cannot elect a zombie: only the leader check applies to them.
    if (!isVoter && leader !== 'doubt') return 'restart';
    for (const { hello } of isVoter ? hellos.values() : []) {
      if (!hello.member || hello.voters === null) continue;
      // Still listed: restart, unless a member names a leader we would refuse and that leader's
      // own hello has not come yet (it comes within a gossip interval, at once to a new peer).
      if (hello.voters.includes(options.selfId)) {
        if (leader === 'doubt') continue;
        return 'restart';
      }
      if (hello.term > stored.term) return 'removedWhileAway';
    }
    if (options.clock.now() - started >= options.waitMs) return 'restart';
    await sleep(options.clock, options.pollMs, options.signal);
  }
}
