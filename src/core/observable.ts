// Minimal observables (API.md "Observables"). Pure and synchronous so core, driver and
// adapters can share them without an event-loop dependency.

export type Unsubscribe = () => void;

export interface Subscribable<T> {
  subscribe(listener: (value: T) => void): Unsubscribe;
}

/** A subscriber receives every later value; `value` is always the latest. */
export interface Watchable<T> extends Subscribable<T> {
  readonly value: T;
}

export interface WritableWatchable<T> extends Watchable<T> {
  set(value: T): void;
}

export interface Emitter<T> extends Subscribable<T> {
  emit(value: T): void;
  readonly hasListeners: boolean;
}

/** Listener exceptions are reported, never allowed to break the emitter's loop or caller. */
function callSafely<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (error) {
    // Re-raised asynchronously (an unhandled rejection) so a buggy listener is loud but
    // cannot break delivery to the others or the engine that emitted.
    void Promise.reject(error);
  }
}

export function createEmitter<T>(): Emitter<T> {
  let listeners: ReadonlyArray<(value: T) => void> = [];
  return {
    subscribe(listener) {
      listeners = [...listeners, listener];
      return () => {
        listeners = listeners.filter((candidate) => candidate !== listener);
      };
    },
    emit(value) {
      for (const listener of listeners) callSafely(listener, value);
    },
    get hasListeners() {
      return listeners.length > 0;
    },
  };
}

/** Setting an equal value (by `Object.is`, or the given comparison) notifies no one. */
export function createWatchable<T>(initial: T, equals: (a: T, b: T) => boolean = Object.is): WritableWatchable<T> {
  let current = initial;
  const emitter = createEmitter<T>();
  return {
    get value() {
      return current;
    },
    subscribe: (listener) => emitter.subscribe(listener),
    set(value) {
      if (equals(current, value)) return;
      current = value;
      emitter.emit(value);
    },
  };
}
