// A bounded map from dedup keys to the entries appended under them. Two instances per node:
// - the leader's best-effort cache of recently appended forwarded requests (SPEC §8): a forward
//   retried to a leader that already appended it is answered with the same index instead of
//   being appended again. A new leader fills it with the keys of the entries it inherited
//   (rememberInheritedDedupKeys in leader-proposals.ts);
// - the keys of committed entries this node compacted away (compacted-keys.ts), which its log
//   can no longer show.
// The authoritative duplicate check is the application's ClientSessionTable.
//
// Keyed by (client, request), not by client alone: a follower pipelines up to a dedup window of
// forwards per client, and when a slow leader makes them all time out, every one of them is
// retried. A cache of only the latest request per client appended each earlier retry a second
// time, and those duplicates made the leader slower still (a collapse bench:browser found).
// Bounded in entries; the least recently written fall out first.
//
// It runs once per forwarded proposal on the leader's hot path. A single map keyed by a joined
// `request:client` string cost 5-6 % of the leader worker's time at saturation (a string built,
// flattened and hashed per proposal, four map operations): the client's map is found by the
// client id the decoder already made, and requests are keyed by number, which hash for free.
// Write order is a doubly linked list through the records, so a rewrite and an eviction are
// O(1) without scanning.
import type { ClientId, DedupKey, LogEntry } from './types.ts';

/** Whether an entry was appended under this dedup key (keys are unique per client and request). */
export function carriesKey(entry: LogEntry, key: DedupKey): boolean {
  return entry.dedupKey !== undefined && entry.dedupKey.clientId === key.clientId && entry.dedupKey.requestId === key.requestId;
}

export interface CachedAppend {
  readonly index: number;
  readonly term: number;
}

interface CachedRecord<Value> {
  readonly clientId: ClientId;
  readonly requestId: number;
  readonly append: Value;
  older: CachedRecord<Value> | null;
  newer: CachedRecord<Value> | null;
}

/** What is remembered per key: where its entry was appended, and whatever else an instance needs. */
export class DedupKeyCache<Value extends CachedAppend = CachedAppend> {
  private readonly byClient = new Map<ClientId, Map<number, CachedRecord<Value>>>();
  private oldest: CachedRecord<Value> | null = null;
  private newest: CachedRecord<Value> | null = null;
  private count = 0;

  constructor(private readonly capacity: number) {}

  get(key: DedupKey): Value | undefined {
    return this.byClient.get(key.clientId)?.get(key.requestId)?.append;
  }

  /** The least recently written value still held (the next to fall out). */
  get oldestValue(): Value | undefined {
    return this.oldest?.append;
  }

  remember(key: DedupKey, append: Value): void {
    let requests = this.byClient.get(key.clientId);
    if (requests === undefined) {
      requests = new Map();
      this.byClient.set(key.clientId, requests);
    }
    const previous = requests.get(key.requestId);
    if (previous !== undefined) this.unlink(previous);
    else this.count += 1;
    const record: CachedRecord<Value> = { clientId: key.clientId, requestId: key.requestId, append, older: this.newest, newer: null };
    if (this.newest !== null) this.newest.newer = record;
    else this.oldest = record;
    this.newest = record;
    requests.set(key.requestId, record);
    if (this.count > this.capacity && this.oldest !== null) this.evict(this.oldest);
  }

  /** The highest request id remembered for a client (a scan of its requests, up to the capacity). */
  highestRequestId(clientId: ClientId): number | undefined {
    const requests = this.byClient.get(clientId);
    if (requests === undefined) return undefined;
    let highest = 0;
    for (const requestId of requests.keys()) if (requestId > highest) highest = requestId;
    return highest;
  }

  get size(): number {
    return this.count;
  }

  /** Forgets every key. */
  clear(): void {
    this.byClient.clear();
    this.oldest = null;
    this.newest = null;
    this.count = 0;
  }

  /** Clients with at least one remembered request: a client whose last one fell out is forgotten. */
  get clientCount(): number {
    return this.byClient.size;
  }

  private evict(record: CachedRecord<Value>): void {
    this.unlink(record);
    this.count -= 1;
    const requests = this.byClient.get(record.clientId);
    if (requests === undefined) return;
    requests.delete(record.requestId);
    if (requests.size === 0) this.byClient.delete(record.clientId);
  }

  /** Takes a record out of the write order (its map entry is the caller's business). */
  private unlink(record: CachedRecord<Value>): void {
    if (record.older !== null) record.older.newer = record.newer;
    else this.oldest = record.newer;
    if (record.newer !== null) record.newer.older = record.older;
    else this.newest = record.older;
    record.older = null;
    record.newer = null;
  }
}
