// A LockManager for Node tests (Node 20 has no navigator.locks): exclusive locks granted first come,
// first served, `ifAvailable`, AbortSignal withdrawal, grants on a later microtask as browsers grant
// in a later task, and what a browser does when the context holding a lock ends: the lock is
// released although the holder's callback never settles.
import { afterEach, beforeEach, vi } from 'vitest';
import type { LockRequester } from './worker-life.ts';

interface Request {
  readonly name: string;
  readonly callback: (lock: Lock | null) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export interface FakeLockManager extends LockRequester {
  /** Names of the locks held now. */
  held(): string[];
  /** Names of the requests waiting now. */
  pending(): string[];
  /** What the end of the context holding `name` does in a browser: the lock goes to the next waiter. */
  endHolderOf(name: string): void;
  /** What a suspended or unloading page sees: every waiting request fails (and is never granted). */
  dropPending(reason: Error): void;
}

export function createFakeLockManager(): FakeLockManager {
  const holders = new Map<string, Request>();
  const queue: Request[] = [];

  const grantNext = (name: string): void => {
    if (holders.has(name)) return;
    const index = queue.findIndex((request) => request.name === name);
    if (index === -1) return;
    const [request] = queue.splice(index, 1);
    grant(request!);
  };
  const release = (request: Request): void => {
    if (holders.get(request.name) !== request) return;
    holders.delete(request.name);
    grantNext(request.name);
  };
  const grant = (request: Request): void => {
    request.signal?.removeEventListener('abort', request.onAbort);
    holders.set(request.name, request);
    queueMicrotask(() => {
      if (holders.get(request.name) !== request) return; // its context ended before the callback ran
      let result: unknown;
      try {
        result = request.callback({ name: request.name, mode: 'exclusive' } as Lock);
      } catch (error) {
        release(request);
        request.reject(error);
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          if (holders.get(request.name) !== request) return; // ended meanwhile: settles never
          release(request);
          request.resolve(value);
        },
        (error: unknown) => {
          release(request);
          request.reject(error);
        },
      );
    });
  };

  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const signal = options.signal ?? undefined;
        if (signal?.aborted === true) return reject(signal.reason);
        const request: Request = {
          name,
          callback,
          resolve,
          reject,
          signal,
          onAbort: () => {
            const index = queue.indexOf(request);
            if (index === -1) return;
            queue.splice(index, 1);
            reject(signal?.reason);
          },
        };
        const free = !holders.has(name) && !queue.some((waiting) => waiting.name === name);
        if (free) return grant(request);
        if (options.ifAvailable === true) {
          queueMicrotask(() => Promise.resolve(callback(null)).then(resolve, reject));
          return;
        }
        signal?.addEventListener('abort', request.onAbort, { once: true });
        queue.push(request);
      });
    },
    held: () => [...holders.keys()],
    pending: () => queue.map((request) => request.name),
    endHolderOf(name) {
      const holder = holders.get(name);
      if (holder === undefined) throw new Error(`no context holds ${name}`);
      holders.delete(name);
      grantNext(name);
    },
    dropPending(reason) {
      for (const request of queue.splice(0)) {
        request.signal?.removeEventListener('abort', request.onAbort);
        request.reject(reason);
      }
    },
  };
}

/**
 * A fresh fake lock manager as navigator.locks for each test of the enclosing describe, shared by
 * the page and the in-process workers as one origin's is; read it through the returned function.
 */
export function fakeLocksForEachTest(): () => FakeLockManager {
  let locks: FakeLockManager | null = null;
  beforeEach(() => {
    locks = createFakeLockManager();
    vi.stubGlobal('navigator', { locks });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  return () => {
    if (locks === null) throw new Error('fakeLocksForEachTest: read inside a test');
    return locks;
  };
}

/** The workers' life locks (worker-life.ts) among lock names. */
export const lifeLocks = (names: string[]): string[] => names.filter((name) => name.startsWith('raftmesh:worker-life:'));
