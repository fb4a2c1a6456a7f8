// Before a peer with a log starts its node again, it checks that it was not removed from the
// voters while it was away. Removed voters keep their old configuration; if several come back
// together they could form a majority of it and elect a "zombie" leader that commits a second
// history (and makes healthy members refuse its frames). A removed voter therefore rejoins under
// a fresh id, as a learner that takes the cluster's log, instead of restarting as a voter.
import type { Clock } from '../core/config.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { sleep } from './propose-with-retries.ts';
import type { RoomPresence } from './room-presence.ts';

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
  readonly signal?: AbortSignal | undefined;
}

/** True when a member in a newer term names voters without us while our log says we are one. */
export async function removedWhileAway(options: RemovedCheckOptions): Promise<boolean> {
  if (!(await storedVoters(options.storage, options.bootstrap)).has(options.selfId)) return false; // learners cannot vote
  const storedTerm = await options.storage.term();
  const started = options.clock.now();
  for (;;) {
    for (const { hello } of options.presence.recent().values()) {
      if (!hello.member || hello.voters === null) continue;
      if (hello.voters.includes(options.selfId)) return false;
      if (hello.term > storedTerm) return true;
    }
    if (options.clock.now() - started >= options.waitMs) return false;
    await sleep(options.clock, options.pollMs, options.signal);
  }
}
