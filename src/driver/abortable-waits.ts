// Page-local waits that end early when any of several signals aborts (a caller's own, a
// replicated store stopping), rejecting with that signal's reason: awaitRead's wait to apply, and
// the replicated store's waits between attempts. A wait that starts
// after a signal aborted rejects at once, so a retry loop that waits between attempts starts no
// attempt after close. Listeners are removed however a wait ends: the store's stop signal lives as
// long as the store and sees every dispatch and read, so a forgotten listener would pile up.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import { watchAbort } from './abort-watch.ts';

/** The signals that end a wait; an absent one (no caller signal) is allowed, to keep call sites plain. */
export type EndingSignals = readonly (AbortSignal | undefined)[];

/** Waits on the clock; the first of the signals to abort rejects at once with its reason. */
export function sleepUnlessAborted(clock: Clock, ms: number, signals: EndingSignals): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const aborted = firstAborted(signals);
    if (aborted !== undefined) return reject(aborted.reason);
    const stopListening = listenForAbort(signals, (reason) => {
      clock.clearTimeout(handle);
      stopListening();
      reject(reason);
    });
    const handle = clock.setTimeout(() => {
      stopListening();
      resolve();
    }, ms);
  });
}

/**
 * Resolves once `applied` reaches `index`; the first of the signals to abort rejects at once with
 * its reason. An index already applied resolves even if a signal has aborted, as awaitRead always did:
 * the answer is already here and just as linearizable.
 */
export function waitUntilApplied(applied: Watchable<number>, index: number, signals: EndingSignals): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (applied.value >= index) return resolve();
    const aborted = firstAborted(signals);
    if (aborted !== undefined) return reject(aborted.reason);
    const stopListening = listenForAbort(signals, (reason) => {
      unsubscribe();
      stopListening();
      reject(reason);
    });
    const unsubscribe = applied.subscribe((value) => {
      if (value < index) return;
      unsubscribe();
      stopListening();
      resolve();
    });
  });
}

/**
 * Settles as `work` does, unless one of the signals aborts first: then it rejects at once with
 * that signal's reason (and whatever `work` settles to later is ignored). A node factory's start:
 * an abort while it restores ends the factory there, rather than handing back a node (or a
 * failure) that comes later.
 */
export function unlessAborted<T>(work: Promise<T>, signals: EndingSignals): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const aborted = firstAborted(signals);
    if (aborted !== undefined) {
      work.catch(() => undefined);
      return reject(aborted.reason);
    }
    const stopListening = listenForAbort(signals, (reason) => {
      stopListening();
      reject(reason);
    });
    work.then(
      (value) => {
        stopListening();
        resolve(value);
      },
      (error: unknown) => {
        stopListening();
        reject(error);
      },
    );
  });
}

function firstAborted(signals: EndingSignals): AbortSignal | undefined {
  return signals.find((signal) => signal?.aborted === true);
}

/** Calls `onAbort` with the reason of whichever signal aborts first; returns what removes every listener. */
function listenForAbort(signals: EndingSignals, onAbort: (reason: unknown) => void): () => void {
  const endWatches = signals.flatMap((signal) => (signal === undefined ? [] : [watchAbort(signal, () => onAbort(signal.reason))]));
  return () => {
    for (const endWatch of endWatches) endWatch();
  };
}
