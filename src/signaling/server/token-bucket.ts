// Per-client rate limit: a token bucket lets a short burst through (an offer plus a trickle of
// candidates) while holding the sustained rate down. Time comes from an injected clock.
export interface TokenBucket {
  /** Takes one token; false when the client is over its rate. */
  take(): boolean;
}

export function createTokenBucket(ratePerSecond: number, burst: number, now: () => number): TokenBucket {
  let tokens = burst;
  let last = now();
  return {
    take() {
      const current = now();
      // A clock that steps backwards (it should not) refills nothing rather than draining.
      tokens = Math.min(burst, tokens + (Math.max(0, current - last) * ratePerSecond) / 1000);
      last = current;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
