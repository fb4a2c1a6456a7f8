// A proposal retried under the same request id while the outcome is "unknown, try again"
// (leadership lost, the leader's queue full, removed from the room for now): the session table
// applies whichever copy commits first and skips the rest, so retrying is safe; attempts are
// bounded, and the caller's signal or the store stopping ends the wait between attempts.
//
// While every attempt so far was refused before it reached the log, nothing under its request id
// can ever commit, and the retry takes a fresh id (when the caller gives a source of them): the
// store's other dispatches go on while this one backs off (up to 2 s), and once they had used
// 1,024 newer ids the old one lay below every session table's window, so the node refused it for
// good with a RangeError (an outside review, 2026-12-07), though the command had never been in
// the log. Once an attempt's outcome is unknown (it may be in the log), every retry keeps that
// attempt's id, or the command could apply twice.
import type { Clock } from '../core/config.ts';
import { LeadershipLostError, NotMemberError } from '../core/errors.ts';
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
 * Whether an attempt was refused before it could reach any log: a leader's full queue or the
 * node's own queue of waiting proposals (ProposalRejectedError: its own proposal is never
 * appended then, a follower's forward is retried by the node itself), or a node outside the
 * cluster that never sent it (NotMemberError without outcomeUnknown). Anything else counts as
 * possibly appended.
 */
const refusedBeforeTheLog = (error: unknown): boolean => (error instanceof Error && error.name === 'ProposalRejectedError') || (isNotMember(error) && error.outcomeUnknown !== true);

/**
 * Proposes until an attempt is appended, retrying what may be retried. `storeStopped` ends every
 * wait between attempts with its reason, and a wait starting after it aborted rejects at once, so
 * no attempt starts after the store closed. It is not sent with the proposal: an attempt in flight
 * is the node's to settle, and a second signal per proposal would cross the worker boundary.
 * `freshRequestId`, given the id the refused attempts used, returns a new one for the next attempt
 * (see the header); it is asked right before that attempt, after the backoff, so that the id is
 * the newest then. Without it every attempt uses `requestId`.
 */
export async function proposeWithRetries(
  node: RaftNode,
  bytes: Uint8Array,
  requestId: number,
  policy: { readonly maxAttempts: number; readonly retryDelayMs: number; readonly clock: Clock },
  signal: AbortSignal | undefined,
  storeStopped: AbortSignal,
  freshRequestId?: (refused: number) => number,
): Promise<LogEntry> {
  const endedBy = [signal, storeStopped];
  let attempts = 0;
  let outsideSince: number | null = null;
  let outsideRetries = 0;
  /** The first attempt whose outcome was unknown: from then on, no failure is definite. */
  let mayHaveCommitted: Error | null = null;
  /** Every attempt so far was refused before the log: nothing under `current` can commit. */
  let neverInTheLog = true;
  let current = requestId;
  for (let attempt = 0; ; attempt += 1) {
    if (attempt > 0 && neverInTheLog && freshRequestId !== undefined) current = freshRequestId(current);
    try {
      return await node.propose(bytes, signal === undefined ? { requestId: current } : { requestId: current, signal });
    } catch (error) {
      if (mayHaveCommitted === null && outcomeUnknown(error)) mayHaveCommitted = error as Error;
      if (!refusedBeforeTheLog(error)) neverInTheLog = false;
      if (isNotMember(error)) {
        outsideSince ??= policy.clock.now();
        if (policy.clock.now() - outsideSince >= readmissionPatienceMs) throw finalFailure(error, mayHaveCommitted, endedBy);
        await sleepUnlessAborted(policy.clock, readmissionRetryDelayMs(policy.retryDelayMs, outsideRetries), endedBy);
        outsideRetries += 1;
        continue;
      }
      attempts += 1;
      if (!isRetryableProposalError(error) || attempts >= policy.maxAttempts) throw finalFailure(error, mayHaveCommitted, endedBy);
      await sleepUnlessAborted(policy.clock, Math.min(maxRetryDelayMs, policy.retryDelayMs * 2 ** (attempts - 1)), endedBy);
    }
  }
}

/**
 * What a dispatch rejects with when its last attempt failed. The last attempt failing before it
 * was appended (a RangeError, NotMemberError without outcomeUnknown, a full queue) says nothing of
 * an earlier attempt that may have been: after one, the failure is reported in the form that says
 * the outcome is unknown, NotMemberError(true) or LeadershipLostError, never as the definite
 * error a caller would take to mean the command was not applied. (A wait ended by the caller's
 * signal or the store's close keeps its reason, which says nothing about the command either.)
 */
function finalFailure(error: unknown, mayHaveCommitted: Error | null, endedBy: readonly (AbortSignal | undefined)[]): unknown {
  if (mayHaveCommitted === null || outcomeUnknown(error)) return error;
  // The caller's abort or the store's close: that reason claims nothing about the command.
  if (endedBy.some((signal) => signal?.aborted === true)) return error;
  if (isNotMember(error) || isNotMember(mayHaveCommitted)) return new NotMemberError(true);
  const last = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new LeadershipLostError(`leadership was lost while an earlier attempt of this command was in flight, so it may have committed; the outcome is unknown (the last attempt failed with ${last})`);
}

/** Waits on the given clock; an abort rejects at once with the signal's reason. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return sleepUnlessAborted(clock, ms, [signal]);
}
