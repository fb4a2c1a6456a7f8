// The leader's best-effort cache of recently appended forwarded requests (SPEC §8): a forward
// retried to a leader that already appended it is answered with the same index instead of being
// appended again. The authoritative duplicate check is the application's ClientSessionTable.
//
// Keyed by (client, request), not by client alone: a follower pipelines up to a dedup window of
// forwards per client, and when a slow leader makes them all time out, every one of them is
// retried. A cache of only the latest request per client appended each earlier retry a second
// time, and those duplicates made the leader slower still (a collapse bench:browser found).
// Bounded in entries; the least recently written fall out first.
import type { DedupKey } from './types.ts';

export interface CachedAppend {
  readonly index: number;
  readonly term: number;
}

export class LeaderDedupCache {
  private readonly appended = new Map<string, CachedAppend>();

  constructor(private readonly capacity: number) {}

  get(key: DedupKey): CachedAppend | undefined {
    return this.appended.get(cacheKey(key));
  }

  remember(key: DedupKey, index: number, term: number): void {
    const name = cacheKey(key);
    // Delete first so Map order stays "least recently written first".
    this.appended.delete(name);
    this.appended.set(name, { index, term });
    if (this.appended.size > this.capacity) {
      const oldest = this.appended.keys().next();
      if (oldest.done !== true) this.appended.delete(oldest.value);
    }
  }

  get size(): number {
    return this.appended.size;
  }
}

/** The request id (digits only) first: the first ':' ends it, whatever the client id holds. */
function cacheKey(key: DedupKey): string {
  return `${key.requestId}:${key.clientId}`;
}
