// What the page says when the board's store stopped at a newer version of the board (the room's
// `storeOutdated` event, `room.store.outdated`): another tab or person runs a newer release, whose
// commands this page's reducer may not know. The store stopped rather than fold them differently
// (the board would then have differed from the newer pages' for good, silently); the page's node
// stays in the room, so a reload with the newer code folds the whole log and loses nothing.
import type { RoomEvent } from 'raftmesh';

type StoreOutdated = Extract<RoomEvent, { type: 'storeOutdated' }>;

/** The banner under the header while the store is outdated. */
export const outdatedBannerText = 'A newer version of this board is running in this room: reload this page to get it. Until then this page shows the board as it was and cannot change it.';

/** The timeline's note of the event. */
export function storeOutdatedNote(event: StoreOutdated): string {
  return `a newer version of the board (version ${event.seenVersion}; this page runs version ${event.storeVersion}) wrote entry ${event.index}: this page stopped updating the board there and cannot change it; reload it to get the newer version (nothing is lost)`;
}
