// What a room reads of an id's storage before it starts the node on it: whether the peer took
// part in a cluster, its term, and the configuration its log or snapshot holds. Plain data, so a
// worker that owns the storage can read it there and answer the page (workerNodeFactory), and the
// page never has to open the database, or load its log and snapshot, to decide how to start.
import type { ClusterConfig, ConfigPayload } from '../core/types.ts';
import type { RaftStorage } from './raft-storage.ts';

export interface StoredNodeState {
  /** The storage holds a snapshot or log entries: this id took part in a cluster. */
  readonly holdsLog: boolean;
  /** The stored current term (0 on empty storage). */
  readonly term: number;
  /**
   * The latest configuration stored (the last configuration entry of the log, else the snapshot's):
   * `[new]`, or `[new, old]` while joint; empty when the storage holds none (a bootstrap cluster
   * before its first membership change).
   */
  readonly configurations: readonly ClusterConfig[];
}

export async function readStoredNodeState(storage: RaftStorage): Promise<StoredNodeState> {
  const term = await storage.term();
  const entries = await storage.entries();
  let latest: ConfigPayload | undefined;
  for (let position = entries.length - 1; position >= 0 && latest === undefined; position -= 1) latest = entries[position]?.config;
  // The snapshot (its state can be megabytes) is loaded only when the log cannot answer alone.
  const snapshot = latest === undefined ? await storage.loadSnapshot() : null;
  latest ??= snapshot?.meta.config;
  return {
    holdsLog: entries.length > 0 || snapshot !== null,
    term,
    configurations: latest === undefined ? [] : latest.old === null ? [plain(latest.new)] : [plain(latest.new), plain(latest.old)],
  };
}

/** A copy without anything a structured clone could refuse or a caller could change underneath. */
function plain(config: ClusterConfig): ClusterConfig {
  return config.learners === undefined ? { voters: [...config.voters] } : { voters: [...config.voters], learners: [...config.learners] };
}
