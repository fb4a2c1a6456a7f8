// What an edge peer says while it cannot reach its signaling server. The client retries quietly
// with backoff and its status stays 'connecting', so `raftmesh-peer` used to log "signaling
// connecting" and then nothing while its server was down or mistyped (a newcomer's review,
// 2026-12-07). This logs the first failed attempt of an outage at once, with the client's reason
// (`connect ECONNREFUSED …`), then at most one line per interval saying how many failed since:
// an hour's outage gives a line every 30 s, not one per backoff step.
import type { SignalingRetry } from './edge-imports.ts';

export interface SignalingRetryLog {
  /** An attempt failed (the client's onRetry). */
  retry(retry: SignalingRetry): void;
  /** The client joined: the next outage is logged from its first failure again. */
  joined(): void;
}

export interface SignalingRetryLogOptions {
  readonly url: string;
  readonly log: (line: string) => void;
  readonly now: () => number;
  /** Least time between two lines of one outage; default 30 s. */
  readonly intervalMs?: number;
}

export function createSignalingRetryLog(options: SignalingRetryLogOptions): SignalingRetryLog {
  const intervalMs = options.intervalMs ?? 30_000;
  let lastLineAt: number | null = null;
  let unsaid = 0;
  return {
    retry(retry) {
      const now = options.now();
      if (lastLineAt !== null && now - lastLineAt < intervalMs) {
        unsaid += 1;
        return;
      }
      const since = unsaid === 0 ? '' : ` (${unsaid} more failed since the last line)`;
      options.log(`signaling: attempt ${retry.attempt} failed: ${retry.reason}${since}; retrying in ${(retry.delayMs / 1000).toFixed(1)} s (${options.url})`);
      lastLineAt = now;
      unsaid = 0;
    },
    joined() {
      lastLineAt = null;
      unsaid = 0;
    },
  };
}
