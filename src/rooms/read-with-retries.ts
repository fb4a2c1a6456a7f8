// A store's linearizable read, retried while this peer is outside the cluster (NotMemberError: the
// room removed it while it ran, and the policy takes a reachable peer back under the same id).
// A read has no side effect, so repeating one needs no dedup; the retries are bounded like a
// dispatch's (the same readmission patience and backoff), and the caller's signal or the store
// stopping ends the wait at once. Every other error is the caller's, as from a single attempt.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { sleepUnlessAborted, waitUntilApplied } from '../driver/abortable-waits.ts';
import { isNotMember, readmissionPatienceMs, readmissionRetryDelayMs } from './propose-with-retries.ts';

/**
 * Resolves once this peer has applied everything committed before the call (or before a retry,
 * which is later still, so still linearizable); after `readmissionPatienceMs` outside the
 * cluster it rejects with the last NotMemberError. The store stopping rejects every local wait
 * with its stop error, including the wait to apply the read index: nothing is applied after it.
 */
export async function readWithRetries(
  node: RaftNode,
  applied: Watchable<number>,
  policy: { readonly retryDelayMs: number; readonly clock: Clock },
  options: { signal?: AbortSignal },
  storeStopped: AbortSignal,
): Promise<void> {
  const endedBy = [options.signal, storeStopped];
  let outsideSince: number | null = null;
  for (let outsideRetries = 0; ; outsideRetries += 1) {
    try {
      // awaitRead's two steps, but only the caller's signal crosses to the node (a worker, maybe):
      // the store's stop signal would cost a signal per read across that boundary, and a read
      // index in flight settles on its own. The page-local wait is the one only a stop can end.
      const readIndex = await node.readIndex(options);
      await waitUntilApplied(applied, readIndex, endedBy);
      return;
    } catch (error) {
      if (!isNotMember(error)) throw error;
      outsideSince ??= policy.clock.now();
      if (policy.clock.now() - outsideSince >= readmissionPatienceMs) throw error;
      await sleepUnlessAborted(policy.clock, readmissionRetryDelayMs(policy.retryDelayMs, outsideRetries), endedBy);
    }
  }
}
