// The leader's best-effort cache of the latest request appended per client (SPEC §8): a forward
// retried to a leader that already appended it is answered with the same index instead of being
// appended again. Bounded; least recently written clients fall out first. The authoritative
// duplicate check is the application's ClientSessionTable.
import type { DedupKey } from './types.ts';

export interface CachedAppend {
  readonly requestId: number;
  readonly index: number;
  readonly term: number;
}

export class LeaderDedupCache {
  private readonly latest = new Map<string, CachedAppend>();

  constructor(private readonly capacity: number) {}

  get(clientId: string): CachedAppend | undefined {
    return this.latest.get(clientId);
  }

  remember(key: DedupKey, index: number, term: number): void {
    // Delete first so Map order stays "least recently written first".
    this.latest.delete(key.clientId);
    this.latest.set(key.clientId, { requestId: key.requestId, index, term });
    if (this.latest.size > this.capacity) {
      const oldest = this.latest.keys().next();
      if (oldest.done !== true) this.latest.delete(oldest.value);
    }
  }
}
