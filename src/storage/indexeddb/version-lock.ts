// An exclusive lock shared by every tab and worker of an origin, made of IndexedDB version
// changes, for where Web Locks do not exist. Browsers leave Web Locks out of insecure contexts (a
// page served over plain http from a LAN address, as when a phone opens a dev server), while
// IndexedDB is still there: two tabs there reading one node id would open one database and run
// two Raft nodes under one id (both could vote in a term). A same-page lock cannot see them.
//
// The lock is a database of its own. Holding it means holding a connection to it that *we*
// upgraded, and never closing that connection when another asks for a newer version:
// - Only one open request can run the upgrade to a given version, so at most one contender wins
//   each version. A contender opens at the current version + 1: with a holder connected, the
//   browser fires `versionchange` at the holder, which stays open, and `blocked` at the contender,
//   whose request then waits until the holder's connection closes.
// - A connection closes when its holder releases it or its context goes away (a closed or
//   reloaded tab, a terminated worker), so a dead holder frees the lock as Web Locks would.
// - A contender whose bound ran out stops waiting at once; its request, which cannot be withdrawn,
//   aborts the upgrade when it finally runs, so the lock is never granted to nobody.
// - An open that succeeds without running an upgrade (another contender won that version) or
//   fails with a VersionError (the version moved past ours) starts over from the current version.
//
// Open requests of one database queue in order across the origin, so waiters are served first
// come, first served.

/** Held until `release()`: closing the connection lets the next contender's upgrade run. Idempotent. */
export interface VersionLock {
  release(): void;
}

/**
 * With a zero bound the lock is taken only if it is free now: a `blocked` event says a holder is
 * connected. A request queued behind another contender's pending one gets no such event, so the
 * zero bound still gives up after this long.
 */
const freeNowBoundMs = 1_000;

/** Starts over at most this often per acquisition (each start over means another contender won). */
const maxAttempts = 64;

/**
 * Takes the lock named by `databaseName` (a database of its own, created on first use), waiting up
 * to `timeoutMs`; null when it was not free within that. Rejects only when IndexedDB itself fails.
 */
export function acquireVersionLock(factory: IDBFactory, databaseName: string, timeoutMs: number): Promise<VersionLock | null> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let attempts = 0;
    const finish = (outcome: VersionLock | null | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish(null), timeoutMs === 0 ? freeNowBoundMs : timeoutMs);

    /** `version` undefined: learn the current version (creating the database at 1 counts as winning it). */
    const attempt = (version: number | undefined): void => {
      attempts += 1;
      if (attempts > maxAttempts) return finish(null);
      const request = version === undefined ? factory.open(databaseName) : factory.open(databaseName, version);
      let upgraded = false;
      request.onupgradeneeded = () => {
        // Given up meanwhile: abort, so this version is not taken by a contender that left.
        if (settled) request.transaction?.abort();
        else upgraded = true;
      };
      request.onblocked = () => {
        if (timeoutMs === 0) finish(null);
      };
      request.onsuccess = () => {
        const connection = request.result;
        if (!upgraded || settled) {
          connection.close();
          if (settled) return;
          // Learned the version (or another contender won ours): ask for the next one.
          return attempt(version === undefined ? connection.version + 1 : undefined);
        }
        // Held: another contender's versionchange is deliberately left unanswered (it waits, blocked).
        connection.onversionchange = () => undefined;
        let released = false;
        finish({
          release() {
            if (released) return;
            released = true;
            connection.close();
          },
        });
      };
      request.onerror = (event) => {
        event.preventDefault();
        if (settled) return;
        const error = request.error;
        // Our own abort is only ever issued once settled; a VersionError means the version moved on.
        if (error?.name === 'VersionError' || error?.name === 'AbortError') return attempt(undefined);
        finish(new Error(`IndexedDB refused the lock database ${JSON.stringify(databaseName)}`, { cause: error ?? undefined }));
      };
    };
    attempt(undefined);
  });
}
