// The timeline's note that another member's page runs an older release of the board and stopped
// (its gossiped release, peer-release.ts): the panel marks its row, and the timeline says when it
// happened. Status gossip comes twice a second, so each stop is noted once: per peer and per stop
// (its version, the version it met and the entry), again only after that peer was heard folding
// (a reload) and then stopped once more. Only on a page that folds what stopped it (a newer page):
// an older page says so of itself (version-notes.ts).
import type { PeerRelease } from './peer-release.ts';
import type { Wording } from './timeline-text.ts';

/** Bounded like trouble-notes.ts: past it, the longest noted are forgotten (and noted again if heard so). */
export const maxNotedOutdatedPeers = 64;

/**
 * Returns, for each status heard, the note to add or null. `release` is the peer's gossiped release
 * (undefined: unknown); `ownVersion` the version this page runs.
 */
export function createOutdatedPeerNotes(): (peer: string, release: PeerRelease | undefined, ownVersion: number) => Wording | null {
  /** Each peer's stop last noted, as `version:seenVersion:index`. */
  const noted = new Map<string, string>();
  return (peer, release, ownVersion) => {
    if (release === undefined) return null;
    if (release.outdated === null) {
      noted.delete(peer);
      return null;
    }
    const { seenVersion, index } = release.outdated;
    if (ownVersion < seenVersion) return null;
    const stop = `${release.version}:${seenVersion}:${index}`;
    if (noted.get(peer) === stop) return null;
    noted.delete(peer);
    noted.set(peer, stop);
    if (noted.size > maxNotedOutdatedPeers) noted.delete(noted.keys().next().value!);
    return (nameOf) =>
      `${nameOf(peer)} runs an older version of the board (version ${release.version}): entry ${index} was written by version ${seenVersion}, so its board stopped there and it cannot change the board until it is reloaded; its node still votes and acknowledges`;
  };
}
