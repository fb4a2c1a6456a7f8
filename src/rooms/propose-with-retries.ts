// A proposal retried under the same request id while the outcome is "unknown, try again"
// (leadership lost, the leader's queue full, removed from the room for now): the session table
// applies whichever copy commits first and skips the rest, so retrying is safe; attempts are
// bounded and the signal aborts.
import type { Clock } from '../core/config.ts';
import type { LogEntry } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';

/** Errors after which the same request may be proposed again (compared by name: they may cross a worker boundary). */
// NotMemberError: removed while it ran, a room peer is taken back under the same id once
// reachable, and then the same request goes through (or is recognised as a replay).
const retryableErrors = new Set(['LeadershipLostError', 'ProposalRejectedError', 'NotLeaderError', 'NotMemberError']);

const maxRetryDelayMs = 2_000;

export function isRetryableProposalError(error: unknown): boolean {
  return error instanceof Error && retryableErrors.has(error.name);
}

export async function proposeWithRetries(
  node: RaftNode,
  bytes: Uint8Array,
  requestId: number,
  policy: { readonly maxAttempts: number; readonly retryDelayMs: number; readonly clock: Clock },
  signal: AbortSignal | undefined,
): Promise<LogEntry> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await node.propose(bytes, signal === undefined ? { requestId } : { requestId, signal });
    } catch (error) {
      if (!isRetryableProposalError(error) || attempt >= policy.maxAttempts) throw error;
      await sleep(policy.clock, Math.min(maxRetryDelayMs, policy.retryDelayMs * 2 ** (attempt - 1)), signal);
    }
  }
}

/** Waits on the given clock; an abort rejects at once with the signal's reason. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
