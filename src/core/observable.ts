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
  const staged = createStagedWatchable(initial, equals);
  return {
    get value() {
      return staged.value;
    },
    subscribe: staged.subscribe,
    set: staged.set,
  };
}

/**
 * A watchable whose new value can be stored first and announced later. A node's state changes as
 * a whole (a new leader comes with a new term): all of it is stored before anyone is told, so a
 * listener of one value that reads another never sees it stale.
 */
export interface StagedWatchable<T> extends WritableWatchable<T> {
  /** Stores the value without notifying; true when it changed (then call `announce`). */
  stage(value: T): boolean;
  /** Notifies the subscribers of the current value. */
  announce(): void;
}

export function createStagedWatchable<T>(initial: T, equals: (a: T, b: T) => boolean = Object.is): StagedWatchable<T> {
  let current = initial;
  const emitter = createEmitter<T>();
  const stage = (value: T): boolean => {
    if (equals(current, value)) return false;
    current = value;
    return true;
  };
  const announce = (): void => emitter.emit(current);
  return {
    get value() {
      return current;
    },
    subscribe: (listener) => emitter.subscribe(listener),
    set(value) {
      if (stage(value)) announce();
    },
    stage,
    announce,
  };
}

/** One value for one staged watchable (see setTogether). */
export interface StagedChange {
  stage(): boolean;
  announce(): void;
}

export function stagedChange<T>(watchable: StagedWatchable<T>, value: T): StagedChange {
  return { stage: () => watchable.stage(value), announce: () => watchable.announce() };
}

/** Stores every value, then announces those that changed, in the order given. */
export function setTogether(changes: readonly StagedChange[]): void {
  const changed = changes.filter((change) => change.stage());
  for (const change of changed) change.announce();
}
