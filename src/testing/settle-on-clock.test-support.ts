// Tests on virtual time wait for a promise by advancing the clock, not the wall clock.
import type { VirtualClock } from './virtual-clock.ts';

/** Advances the virtual clock until the promise settles (or timeoutMs passes), then says how it settled. */
export async function settleOnVirtualClock<T>(clock: VirtualClock, promise: Promise<T>, timeoutMs: number): Promise<PromiseSettledResult<T>> {
  let done = false;
  const outcome = promise.then(
    (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
  );
  void outcome.then(() => (done = true));
  await clock.runUntil(() => done, { timeoutMs });
  return outcome;
}
