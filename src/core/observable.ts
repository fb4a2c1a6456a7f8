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

/**
 * Values emitted by one emit call's listeners (a listener that sets the watchable it watches),
 * delivered at most: a listener that always answers with a new value would otherwise loop forever.
 */
const maxReentrantValues = 10_000;

export function createEmitter<T>(): Emitter<T> {
  // One record per subscription, so the same function subscribed twice is two subscriptions.
  let listeners: ReadonlyArray<{ readonly listener: (value: T) => void }> = [];
  // While a value is being delivered, values emitted meanwhile wait their turn, so every
  // listener sees the values in the order they were emitted and ends on the latest. (Delivered
  // nested, a listener that set a new value made the later listeners see it before the old one.)
  let delivering = false;
  let waiting: T[] = [];
  const deliver = (value: T): void => {
    for (const { listener } of listeners) callSafely(listener, value);
  };
  return {
    subscribe(listener) {
      const record = { listener };
      listeners = [...listeners, record];
      return () => {
        listeners = listeners.filter((candidate) => candidate !== record);
      };
    },
    emit(value) {
      if (delivering) {
        waiting.push(value);
        return;
      }
      delivering = true;
      try {
        deliver(value);
        for (let next = 0; next < waiting.length; next += 1) {
          if (next === maxReentrantValues) {
            void Promise.reject(new Error(`listeners emitted more than ${maxReentrantValues} values from inside one emit; the rest were dropped`));
            break;
          }
          deliver(waiting[next] as T);
        }
      } finally {
        delivering = false;
        if (waiting.length > 0) waiting = [];
      }
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
