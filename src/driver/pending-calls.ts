// Promises of in-flight calls keyed by id, each optionally abortable: one mechanism for reads,
// membership changes and transfers so abort and close behave the same everywhere.
import { watchAbort } from './abort-watch.ts';

export interface PendingCalls<T> {
  /** Starts a call; `onAbort` tells the engine to forget it when the signal fires. */
  start(signal: AbortSignal | undefined, onAbort: (id: number) => void, begin: (id: number) => void): Promise<T>;
  resolve(id: number, value: T): void;
  reject(id: number, error: unknown): void;
  rejectAll(error: unknown): void;
  readonly size: number;
}

export function createPendingCalls<T>(): PendingCalls<T> {
  const calls = new Map<number, { resolve(value: T): void; reject(error: unknown): void }>();
  let nextId = 1;
  return {
    start(signal, onAbort, begin) {
      return new Promise<T>((resolve, reject) => {
        signal?.throwIfAborted();
        const id = nextId++;
        const abort = (): void => {
          if (!calls.delete(id)) return;
          onAbort(id);
          reject(signal?.reason);
        };
        const endWatch = signal === undefined ? null : watchAbort(signal, abort);
        calls.set(id, {
          resolve: (value) => {
            endWatch?.();
            resolve(value);
          },
          reject: (error) => {
            endWatch?.();
            reject(error);
          },
        });
        begin(id);
      });
    },
    resolve(id, value) {
      const call = calls.get(id);
      calls.delete(id);
      call?.resolve(value);
    },
    reject(id, error) {
      const call = calls.get(id);
      calls.delete(id);
      call?.reject(error);
    },
    rejectAll(error) {
      const all = [...calls.values()];
      calls.clear();
      for (const call of all) call.reject(error);
    },
    get size() {
      return calls.size;
    },
  };
}
