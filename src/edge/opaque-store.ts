// Store options for an edge peer that does not know the application's reducer. It keeps the log
// and whatever snapshot the cluster installs on it, and never publishes a snapshot of its own
// (it could not compute one): such a peer keeps its whole log after the last installed snapshot.
// Give the peer the application's store options (`--app`) to let it compact and read state.
//
// A witness needs even less: it never leads, so it never streams snapshots to anyone; it keeps
// what voting and acknowledging need, plus a window of recent entries it can hand to a voter
// left behind (witnessRaftConfig), and compacts to an empty snapshot often.
//
// Neither reads a command, so neither may stop at a newer version of the application (a store
// stops at a command or snapshot stamped above its `version`): both fold every version, and write
// as version 0, unstamped (a dispatch on the opaque store writes the bytes it is given, as before).
import type { RaftConfig, ReplicatedStoreOptions, Serializer } from '../index.ts';
import { foldsEveryVersion, type PassThroughStoreOptions } from '../rooms/store-options.ts';

/**
 * A witness's engine settings. It keeps the last 1,000 entries behind each snapshot (so 1,000
 * to 2,000 in all): when the tab that led is gone, the witness hands the other tab the entries
 * it lacks (core/catch-up.ts) so that it can lead, and a tab up to 1,000 entries behind gets
 * them from that window; one further behind needs the absent tab, which holds the state.
 */
export const witnessRaftConfig = { witness: true, snapshotTrailingEntries: 1_000 } as const satisfies RaftConfig;

const bytesSerializer: Serializer<Uint8Array> = { encode: (value) => value, decode: (bytes) => bytes };

/** State: the bytes of the last snapshot installed by the cluster (the application's format), or null. */
export function opaqueStoreOptions(): ReplicatedStoreOptions<Uint8Array | null, Uint8Array> & PassThroughStoreOptions {
  return {
    initialState: null,
    apply: (state) => state,
    snapshot: (state) => state ?? new Uint8Array(0),
    restore: (bytes) => bytes,
    commandSerializer: bytesSerializer,
    // Never: its state is not the application's (apply ignores every command). A count, however
    // large, was reached in the end (10,000,000 was: a day at 100 writes/s), and the snapshot then
    // published held stale or empty bytes; the log was compacted behind it, the commands lost.
    snapshotEvery: Number.POSITIVE_INFINITY,
    [foldsEveryVersion]: true,
  };
}

/**
 * A witness compacts every 1,000 entries to an empty snapshot: it keeps no state. With
 * witnessRaftConfig it keeps the last 1,000 entries behind each snapshot, for catch-up.
 */
export function witnessStoreOptions(): ReplicatedStoreOptions<null, Uint8Array> & PassThroughStoreOptions {
  return {
    initialState: null,
    apply: () => null,
    snapshot: () => new Uint8Array(0),
    restore: () => null,
    commandSerializer: bytesSerializer,
    snapshotEvery: 1_000,
    [foldsEveryVersion]: true,
  };
}
