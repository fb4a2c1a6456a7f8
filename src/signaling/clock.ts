// The signaling module reads time only through a `Clock` (core's interface), so tests drive idle
// timeouts, heartbeats and backoff with a virtual clock instead of waiting.
import type { Clock } from '../core/config.ts';

export type { Clock };

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};
