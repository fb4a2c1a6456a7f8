// Why a replicated store stopped folding: the room's log holds a command (or a snapshot) written by
// a newer version of the application than this peer's reducer. Folding on, skipping what it
// cannot read, would split this peer's state from the newer peers' for good, with no error
// anywhere (README "Rooms", "The store"); stopping says so, and a reload with the newer code
// folds the log from the start again, losing nothing.

export class StoreVersionError extends Error {
  /** This store's `ReplicatedStoreOptions.version`: the newest version its reducer folds. */
  readonly storeVersion: number;
  /** The version stamped on what it met (a command, or an installed snapshot's reducer version). */
  readonly seenVersion: number;
  /** The log index of that command, or the last index the snapshot covers. */
  readonly index: number;
  constructor(storeVersion: number, seenVersion: number, index: number) {
    super(
      `this page's replicated store folds versions up to ${storeVersion}, but entry ${index} of the room's log was written by version ${seenVersion}: a newer version of the app is running in this room. ` +
        'Reload (or update) this page to get the newer app; until then this store folds nothing more and refuses dispatches and reads (its node stays in the room, and the reloaded page folds the whole log, losing nothing).',
    );
    this.name = 'StoreVersionError';
    this.storeVersion = storeVersion;
    this.seenVersion = seenVersion;
    this.index = index;
  }
}
