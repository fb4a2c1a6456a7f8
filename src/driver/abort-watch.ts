// One 'abort' listener per signal, however many calls wait on it. An application passes one signal
// to many calls at once as a matter of course (a component's lifetime to every proposal it makes,
// a replicated store's stop signal to every dispatch and read), and a listener per call made Node
// print "MaxListenersExceededWarning: Possible EventTarget memory leak detected" once eleven were
// pending: a false alarm, but one that tells a user the library leaks. Here each signal carries a
// single listener while any call watches it, and none once the last watch ends.

interface Watchers {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const watched = new WeakMap<AbortSignal, Watchers>();

/**
 * Calls `onAbort` once when `signal` aborts, unless the returned function (which ends the watch)
 * ran first. Watches of one signal fire in the order they began, as listeners would; a watch
 * ended by another one's callback in the same abort does not fire. A signal already aborted
 * never fires (its abort event is over): check `signal.aborted` first, as with addEventListener.
 * A throwing callback does not stop the others; its error is reported as a listener's would be,
 * as an uncaught exception once this dispatch is over.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watchers = watched.get(signal);
  if (watchers === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      watched.delete(signal);
      for (const callback of [...callbacks]) {
        if (!callbacks.delete(callback)) continue; // ended by an earlier callback of this abort
        try {
          callback();
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    };
    watchers = { callbacks, listener };
    watched.set(signal, watchers);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = watchers;
  // A function of its own per watch, so one callback passed twice is two watches.
  const callback = (): void => onAbort();
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    if (watched.get(signal)?.callbacks === callbacks) watched.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}
