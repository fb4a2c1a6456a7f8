// Which release of the board a page runs, as its status gossip tells the other pages: the version
// its board store runs (ReplicatedStoreOptions.version; ?version= in settings.ts) and, once the
// store stopped at a newer release's entry (room.store.outdated), that version and entry. The page
// itself shows a banner then, but its node stays a voter and keeps acknowledging: without this,
// the other pages' panels showed a healthy member whose board folded nothing past a point.
//
// Pages from before this field send none: the decoder reads its absence as "unknown", and a
// present value that is not exactly this shape refuses the whole status, as peerStatusOf refuses
// any other malformed field.

export interface PeerRelease {
  /** The version of the board its store runs, from 0 (unversioned) to maxBoardVersion. */
  readonly version: number;
  /**
   * Where its store stopped: the newer version it met (above `version`) and the log index of that
   * entry. Null while its store folds.
   */
  readonly outdated: { readonly seenVersion: number; readonly index: number } | null;
}

/** The store's own range for a version (ReplicatedStoreOptions.version): 2^31-1. */
export const maxBoardVersion = 2 ** 31 - 1;

/**
 * A page's release from its store version and its store's `outdated` (a StoreVersionError or
 * null): only the two numbers are kept, since the error itself would gossip its whole message.
 */
export function releaseOf(version: number, outdated: { readonly seenVersion: number; readonly index: number } | null): PeerRelease {
  return { version, outdated: outdated === null ? null : { seenVersion: outdated.seenVersion, index: outdated.index } };
}

const isVersion = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= maxBoardVersion;
const isIndex = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/**
 * A gossiped release's JSON as a PeerRelease, or null when it is not one: a version out of the
 * store's range, an outdated entry that is not a log index, or a version met that is not newer
 * than the page's own (a store stops only at a newer one).
 */
export function peerReleaseOf(value: unknown): PeerRelease | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { version, outdated } = value as Record<string, unknown>;
  if (!isVersion(version)) return null;
  if (outdated === null) return { version, outdated: null };
  if (typeof outdated !== 'object' || outdated === undefined || Array.isArray(outdated)) return null;
  const { seenVersion, index } = outdated as Record<string, unknown>;
  if (!isVersion(seenVersion) || seenVersion <= version || !isIndex(index)) return null;
  return { version, outdated: { seenVersion, index } };
}
