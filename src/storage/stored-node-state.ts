// What a room reads of an id's storage before it starts the node on it: whether the peer took
// part in a cluster, its term, and the configuration its log or snapshot holds. Plain data, so a
// worker that owns the storage can read it there and answer the page (workerNodeFactory), and the
// page never has to open the database, or load its log and snapshot, to decide how to start.
import { plainClusterConfig, type ClusterConfig, type ConfigPayload } from '../core/types.ts';
import type { RaftStorage } from './raft-storage.ts';

export interface StoredNodeState {
  /** The storage holds a snapshot or log entries: this id took part in a cluster. */
  readonly holdsLog: boolean;
  /** The stored current term (0 on empty storage). */
  readonly term: number;
  /**
   * The latest configuration stored (the last configuration entry of the log past the snapshot,
   * else the snapshot's):
   * `[new]`, or `[new, old]` while joint; empty when the storage holds none (a bootstrap cluster
   * before its first membership change).
   */
  readonly configurations: readonly ClusterConfig[];
}

/** What storage that holds nothing reads as (a fresh one, or a database that does not exist). */
export const emptyStoredNodeState: StoredNodeState = { holdsLog: false, term: 0, configurations: [] };

export async function readStoredNodeState(storage: RaftStorage): Promise<StoredNodeState> {
  const term = await storage.term();
  const snapshot = await storage.loadSnapshot();
  // Only entries past the snapshot count, as on a restart (driver/restore.ts): a compaction cut
  // short between saving a snapshot and discarding the log leaves a tail at or below it, and an
  // installed snapshot may cover entries this node held from an older leader, whose configuration
  // entry would otherwise pass for the latest.
  const floor = snapshot?.meta.lastIncludedIndex ?? 0;
  const entries = (await storage.entries(floor + 1)).filter((entry) => entry.index > floor);
  let latest: ConfigPayload | undefined;
  for (let position = entries.length - 1; position >= 0 && latest === undefined; position -= 1) latest = entries[position]?.config;
  latest ??= snapshot?.meta.config;
  return {
    holdsLog: snapshot !== null || entries.length > 0,
    term,
    configurations: latest === undefined ? [] : latest.old === null ? [plainClusterConfig(latest.new)] : [plainClusterConfig(latest.new), plainClusterConfig(latest.old)],
  };
}
