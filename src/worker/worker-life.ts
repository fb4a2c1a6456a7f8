// Noticing a worker that dies without an `error` event (the browser killed it for memory, its
// process crashed, or its script called self.close()): without this the page's calls would wait
// forever and its observables would freeze.
//
// The worker holds a Web Lock with a name unique to it for its whole life; the page then requests
// the same lock. Browsers release every lock of a context when the context goes away (Web Locks
// "Agent Integration"), so the page's request is granted exactly when the worker is gone: no
// timers, so a throttled background tab cannot raise a false alarm, and a busy or slow worker
// never loses its lock. Measured in Chromium 156 and Firefox 153 here: the grant arrives 1-6 ms
// after the worker's end. A worker that is alive but stuck (an endless loop) keeps its lock and
// is not detected: see "Engine in a Web Worker" in the README for why there is no ping.
//
// Apart from the database lock (storage/indexeddb/database-lock.ts): that one guards a database
// across tabs, this one only reports a death, and neither needs to know of the other.

/** What is used of a LockManager (navigator.locks), so tests can pass a fake one. */
export interface LockRequester {
  request(name: string, options: LockOptions, callback: (lock: Lock | null) => unknown): Promise<unknown>;
}

/** The context's Web Locks, or null where there are none (Node, old browsers, insecure pages). */
export function webLocks(): LockRequester | null {
  const navigatorLike = (globalThis as { navigator?: { locks?: LockRequester } }).navigator;
  return typeof navigatorLike?.locks?.request === 'function' ? navigatorLike.locks : null;
}

/**
 * A name no other worker uses (several nodes may run on one page, and several pages on one
 * origin share one lock namespace), readable in navigator.locks.query() when debugging.
 */
export function lifeLockName(nodeId: string): string {
  const random = crypto.getRandomValues(new Uint8Array(12));
  return `raftmesh:worker-life:${nodeId}:${Array.from(random, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export interface HeldLifeLock {
  /** Lets the lock go (an orderly close); the page stops watching before it asks for that. */
  release(): void;
}

/**
 * Worker side: takes the lock and keeps it until released or until this context ends. Resolves
 * null when it cannot (no Web Locks here, or the name is taken, which a random name never is):
 * the page then has no watch rather than a wrong one.
 */
export function holdLifeLock(locks: LockRequester, name: string): Promise<HeldLifeLock | null> {
  return new Promise((resolve) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolveHeld) => (release = resolveHeld));
    locks
      .request(name, { mode: 'exclusive', ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(null);
          return undefined;
        }
        resolve({ release });
        return held;
      })
      .catch(() => resolve(null));
  });
}

export interface LifeWatch {
  /** Withdraws the page's request (close, or the worker released on purpose); idempotent. */
  stop(): void;
}

/**
 * Page side: requests the lock the worker holds and calls `onGone` once if it is ever granted,
 * which happens only when the worker's context has ended (or it released the lock on purpose, in
 * an orderly close, which the caller knows about). The request is abortable, so a closed node
 * leaves no request queued. A request that fails instead of being granted (the page itself is
 * being unloaded or suspended) is not a death: the watch just ends, silently.
 */
export function watchWorkerLife(locks: LockRequester, name: string, onGone: () => void): LifeWatch {
  const controller = new AbortController();
  let watching = true;
  locks
    .request(name, { mode: 'exclusive', signal: controller.signal }, () => {
      if (!watching) return undefined;
      watching = false;
      onGone();
      // Returning at once releases the lock: nobody needs it any more.
      return undefined;
    })
    .catch(() => {
      watching = false;
    });
  return {
    stop() {
      if (!watching) return;
      watching = false;
      controller.abort();
    },
  };
}
