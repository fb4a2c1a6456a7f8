// A proposal retried under the same request id while the outcome is "unknown, try again"
// (leadership lost, the leader's queue full, removed from the room for now): the session table
// applies whichever copy commits first and skips the rest, so retrying is safe; attempts are
// bounded, and the caller's signal or the store stopping ends the wait between attempts.
import type { Clock } from '../core/config.ts';
import { NotMemberError } from '../core/errors.ts';
import type { LogEntry } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { sleepUnlessAborted } from '../driver/abortable-waits.ts';

/** Errors after which the same request may be proposed again (compared by name: they may cross a worker boundary). */
const retryableErrors = new Set(['LeadershipLostError', 'ProposalRejectedError', 'NotLeaderError']);

const maxRetryDelayMs = 2_000;

/**
 * How long a peer the room removed while it ran keeps retrying (NotMemberError) before its command
 * fails: the policy takes a reachable peer back under the same id, and then the same request goes
 * through, or is recognised as a replay. Those retries do not use up `maxAttempts`, which are
 * about a leader's troubles; a removal lasts as long as the policy takes to notice the peer is back.
 */
export const readmissionPatienceMs = 30_000;

export function isRetryableProposalError(error: unknown): boolean {
  return error instanceof Error && retryableErrors.has(error.name);
}

export const isNotMember = (error: unknown): error is Error & { readonly outcomeUnknown?: unknown } => error instanceof Error && error.name === 'NotMemberError';

/** The wait before retry number `retries` (from 0) while outside the cluster: doubling from the first delay, at most 2 s. */
export function readmissionRetryDelayMs(firstDelayMs: number, retries: number): number {
  return Math.min(maxRetryDelayMs, firstDelayMs * 2 ** Math.min(retries, 8));
}

/** Whether a failed attempt may still have been appended (and may commit). */
const outcomeUnknown = (error: unknown): boolean => (error instanceof Error && error.name === 'LeadershipLostError') || (isNotMember(error) && error.outcomeUnknown === true);

/**
 * Proposes until an attempt is appended, retrying what may be retried. `storeStopped` ends every
 * wait between attempts with its reason, and a wait starting after it aborted rejects at once, so
 * no attempt starts after the store closed. It is not sent with the proposal: an attempt in flight
 * is the node's to settle, and a second signal per proposal would cross the worker boundary.
 */
export async function proposeWithRetries(
  node: RaftNode,
  bytes: Uint8Array,
  requestId: number,
  policy: { readonly maxAttempts: number; readonly retryDelayMs: number; readonly clock: Clock },
  signal: AbortSignal | undefined,
  storeStopped: AbortSignal,
): Promise<LogEntry> {
  const endedBy = [signal, storeStopped];
  let attempts = 0;
  let outsideSince: number | null = null;
  let outsideRetries = 0;
  let earlierMayHaveCommitted = false;
  for (;;) {
    try {
      return await node.propose(bytes, signal === undefined ? { requestId } : { requestId, signal });
    } catch (error) {
      const mayHaveCommitted = earlierMayHaveCommitted;
      earlierMayHaveCommitted ||= outcomeUnknown(error);
      if (isNotMember(error)) {
        outsideSince ??= policy.clock.now();
        if (policy.clock.now() - outsideSince >= readmissionPatienceMs) {
          // The last attempt failing before it was sent says nothing of an earlier one that was.
          throw mayHaveCommitted && error.outcomeUnknown !== true ? new NotMemberError(true) : error;
        }
        await sleepUnlessAborted(policy.clock, readmissionRetryDelayMs(policy.retryDelayMs, outsideRetries), endedBy);
        outsideRetries += 1;
        continue;
      }
      attempts += 1;
      if (!isRetryableProposalError(error) || attempts >= policy.maxAttempts) throw error;
      await sleepUnlessAborted(policy.clock, Math.min(maxRetryDelayMs, policy.retryDelayMs * 2 ** (attempts - 1)), endedBy);
    }
  }
}

/** Waits on the given clock; an abort rejects at once with the signal's reason. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return sleepUnlessAborted(clock, ms, [signal]);
}
