// Store options for an edge peer that does not know the application's reducer. It keeps the log
// and whatever snapshot the cluster installs on it, and never publishes a snapshot of its own
// (it could not compute one): such a peer keeps its whole log after the last installed snapshot.
// Give the peer the application's store options (`--app`) to let it compact and read state.
//
// A witness needs even less: it never leads, so it never serves entries or snapshots to anyone;
// it keeps only what voting and acknowledging need, and compacts to an empty snapshot often.
import type { ReplicatedStoreOptions, Serializer } from '../index.ts';

const bytesSerializer: Serializer<Uint8Array> = { encode: (value) => value, decode: (bytes) => bytes };

/** State: the bytes of the last snapshot installed by the cluster (the application's format), or null. */
export function opaqueStoreOptions(): ReplicatedStoreOptions<Uint8Array | null, Uint8Array> {
  return {
    initialState: null,
    apply: (state) => state,
    snapshot: (state) => state ?? new Uint8Array(0),
    restore: (bytes) => bytes,
    commandSerializer: bytesSerializer,
    snapshotEvery: 10_000_000,
  };
}

/** A witness compacts every 1,000 entries to an empty snapshot: it serves no one, so it keeps nothing. */
export function witnessStoreOptions(): ReplicatedStoreOptions<null, Uint8Array> {
  return {
    initialState: null,
    apply: () => null,
    snapshot: () => new Uint8Array(0),
    restore: () => null,
    commandSerializer: bytesSerializer,
    snapshotEvery: 1_000,
  };
}
