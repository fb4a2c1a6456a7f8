// A store's linearizable read, retried while this peer is outside the cluster (NotMemberError: the
// room removed it while it ran, and the policy takes a reachable peer back under the same id).
// A read has no side effect, so repeating one needs no dedup; the retries are bounded like a
// dispatch's (the same readmission patience and backoff), and the caller's signal or the store
// stopping ends the wait at once. Every other error is the caller's, as from a single attempt.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import { awaitRead } from '../driver/await-read.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { isNotMember, readmissionPatienceMs, readmissionRetryDelayMs } from './propose-with-retries.ts';

/**
 * Resolves once this peer has applied everything committed before the call (or before a retry,
 * which is later still, so still linearizable); after `readmissionPatienceMs` outside the
 * cluster it rejects with the last NotMemberError.
 */
export async function readWithRetries(
  node: RaftNode,
  applied: Watchable<number>,
  policy: { readonly retryDelayMs: number; readonly clock: Clock },
  options: { signal?: AbortSignal },
  storeStopped: AbortSignal,
): Promise<void> {
  let outsideSince: number | null = null;
  for (let outsideRetries = 0; ; outsideRetries += 1) {
    try {
      await awaitRead(node, applied, options);
      return;
    } catch (error) {
      if (!isNotMember(error)) throw error;
      outsideSince ??= policy.clock.now();
      if (policy.clock.now() - outsideSince >= readmissionPatienceMs) throw error;
      const endedBy = options.signal === undefined ? [storeStopped] : [options.signal, storeStopped];
      await sleepUnlessAborted(policy.clock, readmissionRetryDelayMs(policy.retryDelayMs, outsideRetries), endedBy);
    }
  }
}

/**
 * Waits on the clock; the first of the signals to abort rejects at once with its reason. The
 * listeners are removed either way: a caller may pass one long-lived signal to many reads.
 */
function sleepUnlessAborted(clock: Clock, ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const early = signals.find((signal) => signal.aborted);
    if (early !== undefined) return reject(early.reason);
    const listeners = signals.map((signal) => ({
      signal,
      onAbort: (): void => {
        finish();
        reject(signal.reason);
      },
    }));
    const finish = (): void => {
      clock.clearTimeout(handle);
      for (const { signal, onAbort } of listeners) signal.removeEventListener('abort', onAbort);
    };
    const handle = clock.setTimeout(() => {
      finish();
      resolve();
    }, ms);
    for (const { signal, onAbort } of listeners) signal.addEventListener('abort', onAbort, { once: true });
  });
}
