// ClientSessionTable (API.md "Exactly-once", SPEC.md §8): the authoritative duplicate check an
// application runs on every committed entry. Raft alone gives at-least-once (a client retries
// a proposal whose answer it never saw, and both copies may commit); the table makes applying
// at-most-once per (clientId, requestId), which together gives exactly-once.
//
// It keeps one high-water mark per client plus an anti-replay window below it (as IPsec does):
// a client issues request ids in increasing order but pipelines them, and a forward lost and
// retried can commit after later ones, so ids inside the window that were never seen are still
// applied once; ids below the window can only be duplicates (the proposer keeps fewer than
// dedupWindowSize requests unresolved). The log delivers entries in one order to every replica,
// so every replica makes the same decisions. The table
// lives in the application's snapshot (toBytes / fromBytes), so InstallSnapshot carries it.
//
// Bounds. Auto ids (`<nodeId>-<16 hex>`, see auto-client-id.ts) supersede each other: when a
// new auto id of a node appears, the older one is dropped, because a node id is never live
// twice (a restarted node mints a new suffix; a rebuilt node gets a new node id). The last
// retiredSuffixesPerNode dropped suffixes of each node are remembered, so a straggler proposal
// of a dead incarnation (forwarded before the crash, committed after the new incarnation's
// first entry) is refused instead of evicting the live id and resetting its mark. The table
// cannot tell a straggler of an incarnation it never saw (or one retired longer ago than that)
// from a newer incarnation: by the order rule it would retire the live id, whose later commands
// would then commit and be skipped. Such a straggler never reaches the log: a leader appends a
// forward under an auto id only when the proposer's commit index proves its incarnation is no
// older than its node's last one in the leader's log (incarnation-proof.ts), so every auto id
// that first appears after a live one is a newer incarnation's, and the order rule is right for
// every entry a leader of this version appended. Durable ids
// are dropped only by closeSession. At most maxTrackedClients ids are tracked; a new client
// beyond that throws a RangeError (deterministically, on every replica) instead of growing a
// table that fromBytes would later refuse.

import { parseAutoClientId } from './auto-client-id.ts';
import { assertWellFormedText } from './client-session-bytes.ts';
import type { AutoClientIdParts } from './auto-client-id.ts';
import {
  dedupWindowSize,
  decodeSessionRecords,
  encodeSessionRecords,
  maxTrackedClients,
  retiredSuffixesPerNode,
} from './client-session-format.ts';
import type { SessionRecord } from './client-session-format.ts';
import { maxIdLength } from './types.ts';
import type { ClientId, DedupKey } from './types.ts';

export { mintAutoClientId, parseAutoClientId } from './auto-client-id.ts';
export type { AutoClientIdParts } from './auto-client-id.ts';
export { dedupWindowSize, maxTrackedClients, retiredSuffixesPerNode, sessionTableFormatVersion } from './client-session-format.ts';

export class ClientSessionTable {
  private readonly sessions = new Map<string, SessionRecord>();
  /** nodeId -> the node's live auto client id, so supersession is O(1). */
  private readonly liveAutoIdByNode = new Map<string, string>();

  /** Number of clients with a session (retired auto suffixes are not counted; a node's closed live auto id is). */
  get size(): number {
    return this.sessions.size;
  }

  /** Whether this request was already applied (a pure query; shouldApply records). */
  hasApplied(key: DedupKey): boolean {
    const record = this.sessions.get(key.clientId);
    if (record === undefined) return false;
    if (key.requestId > record.highWaterMark) return false;
    if (key.requestId <= record.highWaterMark - dedupWindowSize) return true;
    return !record.missing.includes(key.requestId);
  }

  /** The largest request id applied for this client, or undefined if the table holds none. */
  highWaterMark(id: ClientId): number | undefined {
    return this.sessions.get(id)?.highWaterMark;
  }

  /**
   * True if the entry should be applied: it carries no key (no-op, config, or an application
   * that does not deduplicate), or its request id is above its client's high-water mark (which
   * this call then records). False for a replay, or a straggler of a superseded auto id.
   */
  shouldApply(key: DedupKey | undefined): boolean {
    if (key === undefined) return true;
    validateKey(key);
    const existing = this.sessions.get(key.clientId);
    if (existing !== undefined) return admitRequest(existing, key.requestId);
    const auto = parseAutoClientId(key.clientId);
    if (auto === null) {
      this.insert(key.clientId, freshRecord(key.requestId, []));
      return true;
    }
    return this.admitAutoClient(key.clientId, auto, key.requestId);
  }

  /**
   * Forgets the client: its next request, if any, starts a fresh session. A node's live auto id
   * is forgotten the same way, but its record stays, empty (mark 0, nothing missing), because it
   * also stands for the node's lineage: the suffixes of the ids it superseded. Dropped with it,
   * a predecessor's replay was admitted as a new client and applied a second time, and a
   * predecessor's straggler then superseded the node's next live id, whose commands were skipped
   * (a black-box review). The record goes when a newer auto id of the node supersedes it.
   */
  closeSession(id: ClientId): void {
    const record = this.sessions.get(id);
    if (record === undefined) return;
    const auto = parseAutoClientId(id);
    if (auto !== null && this.liveAutoIdByNode.get(auto.nodeId) === id) {
      this.sessions.set(id, { highWaterMark: 0, retiredSuffixes: record.retiredSuffixes, missing: [] });
      return;
    }
    this.sessions.delete(id);
  }

  toBytes(): Uint8Array {
    return encodeSessionRecords(this.sessions);
  }

  /**
   * Throws a RangeError naming the problem for malformed, truncated or newer-version bytes, and a
   * TypeError for anything that is not bytes at all (an ArrayBuffer, a string from a JSON field),
   * which would otherwise surface as a misleading "truncated" or "unknown version" complaint.
   */
  static fromBytes(bytes: Uint8Array): ClientSessionTable {
    // By tag rather than instanceof: bytes from another realm (a worker, an iframe) are still bytes.
    if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
      const kind = bytes === null ? 'null' : typeof bytes === 'object' ? Object.prototype.toString.call(bytes).slice(8, -1) : typeof bytes;
      throw new TypeError(`ClientSessionTable.fromBytes needs a Uint8Array (the output of toBytes), got ${kind}`);
    }
    const table = new ClientSessionTable();
    for (const [id, record] of decodeSessionRecords(bytes)) {
      table.sessions.set(id, record);
      const auto = parseAutoClientId(id);
      if (auto !== null) table.liveAutoIdByNode.set(auto.nodeId, id);
    }
    return table;
  }

  private admitAutoClient(id: string, auto: AutoClientIdParts, requestId: number): boolean {
    const liveId = this.liveAutoIdByNode.get(auto.nodeId);
    const live = liveId === undefined ? undefined : this.sessions.get(liveId);
    if (liveId === undefined || live === undefined) {
      this.insert(id, freshRecord(requestId, []));
      this.liveAutoIdByNode.set(auto.nodeId, id);
      return true;
    }
    if (live.retiredSuffixes.includes(auto.suffix)) return false;
    const liveSuffix = parseAutoClientId(liveId)?.suffix;
    const retiredSuffixes = liveSuffix === undefined ? live.retiredSuffixes : [...live.retiredSuffixes, liveSuffix];
    this.insert(id, freshRecord(requestId, retiredSuffixes.slice(-retiredSuffixesPerNode)), liveId);
    this.liveAutoIdByNode.set(auto.nodeId, id);
    return true;
  }

  /** Adds a session, replacing `supersededId` if given; checks come first so a throw changes nothing. */
  private insert(id: string, record: SessionRecord, supersededId?: string): void {
    // Checked here rather than at toBytes time, so an id the snapshot could not encode is
    // refused at the entry that introduced it, on every replica alike.
    assertWellFormedText(id, `DedupKey.clientId ${JSON.stringify(id)}`);
    if (supersededId === undefined && this.sessions.size >= maxTrackedClients) {
      throw new RangeError(
        `ClientSessionTable is full (${maxTrackedClients} clients): cannot admit ${JSON.stringify(id)}; close sessions of clients that are gone`,
      );
    }
    if (supersededId !== undefined) this.sessions.delete(supersededId);
    this.sessions.set(id, record);
  }
}

function validateKey(key: DedupKey): void {
  const id: unknown = key.clientId;
  if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength) {
    throw new RangeError(`DedupKey.clientId must be a string of 1..${maxIdLength} characters, got ${JSON.stringify(id)}`);
  }
  if (!Number.isSafeInteger(key.requestId) || key.requestId < 0) {
    throw new RangeError(`DedupKey.requestId must be a safe non-negative integer, got ${key.requestId}`);
  }
}

/**
 * A client the table has never seen may have pipelined earlier requests that commit after this
 * one: every id from 1 inside the window below it is still missing (never applied).
 */
function freshRecord(requestId: number, retiredSuffixes: readonly string[]): SessionRecord {
  const missing: number[] = [];
  for (let id = Math.max(1, requestId - dedupWindowSize + 1); id < requestId; id += 1) missing.push(id);
  return { highWaterMark: requestId, retiredSuffixes, missing };
}

/** The window rule: above the mark slides the window; inside it, apply an id once; below it, refuse. */
function admitRequest(record: SessionRecord, requestId: number): boolean {
  const mark = record.highWaterMark;
  if (requestId > mark) {
    const windowFloor = requestId - dedupWindowSize; // ids at or below this fall out of the window
    const kept = record.missing.filter((id) => id > windowFloor);
    for (let gap = Math.max(mark + 1, windowFloor + 1); gap < requestId; gap += 1) kept.push(gap);
    record.missing = kept;
    record.highWaterMark = requestId;
    return true;
  }
  if (requestId <= mark - dedupWindowSize) return false;
  const position = record.missing.indexOf(requestId);
  if (position === -1) return false;
  record.missing.splice(position, 1);
  return true;
}
