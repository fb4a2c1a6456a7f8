// This node's §8 client identity: stamps each proposal with a DedupKey once, and watches the
// committed log for entries under its own client id that it never issued, which proves a second
// live writer holds the same id (SPEC "Collision").
import { mintAutoClientId } from '../core/auto-client-id.ts';
import type { ClientId, ClientIdentity, DedupKey, LogEntry, NodeId } from '../core/types.ts';
import { isValidCounter } from '../core/types.ts';

export type CollisionVerdict =
  | { readonly type: 'none' }
  | { readonly type: 'durableCollision'; readonly clientId: ClientId }
  | { readonly type: 'reminted'; readonly previous: ClientId; readonly next: ClientId };

export interface ClientIdentityState {
  readonly clientId: ClientId;
  /** null when the identity is `none`: proposals then carry no key. */
  stamp(requestId: number | undefined): DedupKey | null;
  /** Whether committed entries need checking at all (this incarnation issued something). */
  readonly watching: boolean;
  /** Checks a committed entry; an auto id re-mints itself on collision. */
  observeCommitted(entry: LogEntry): CollisionVerdict;
}

/**
 * Where a durable identity's automatic request ids start: above every request id an earlier
 * incarnation can have issued, or the application's ClientSessionTable would skip the new commands
 * as replays. No storage field holds the last id issued, so three floors stand in for it:
 * - `restoredEntries`: every request id the log still holds;
 * - `restoredLastIndex`, the last index storage covers (log or snapshot): compaction removes
 *   entries, and ids of proposals that all committed are no higher than the entries holding them;
 * - `wallClockFloor` (see wallClockRequestIdFloor): ids of proposals that failed run ahead of the
 *   log, and after compaction nothing in storage remembers them. A clock read in ids (1,000 per
 *   millisecond) is above them unless the clock went back or an incarnation issued ids faster than
 *   a million a second on average. 0 when the node runs on an injected clock (simulations stay
 *   deterministic). A caller's own request ids, SPEC's exactly-once recipe, need none of this.
 */
export function createClientIdentity(identity: ClientIdentity | undefined, node: NodeId, random: () => number, restoredEntries: readonly LogEntry[], restoredLastIndex = 0, wallClockFloor = 0): ClientIdentityState {
  const durable = identity?.type === 'durable';
  let current: ClientId = identity?.type === 'durable' ? identity.clientId : mintAutoClientIdUnusedIn(restoredEntries, node, random);
  // An auto id starts at 1, unless a random source that keeps repeating left it one the log holds.
  let nextRequestId = durable ? Math.max(highestRequestId(restoredEntries, current), restoredLastIndex, wallClockFloor) + 1 : highestRequestId(restoredEntries, current) + 1;
  // Until this incarnation issues something it can judge nothing: entries of an earlier
  // incarnation may still arrive after a restart (a forward in flight at the crash).
  let issuedAny = false;
  const keyless = identity?.type === 'none';

  return {
    get watching() {
      return issuedAny;
    },
    get clientId() {
      return current;
    },
    stamp(requestId) {
      if (keyless) return null;
      issuedAny = true;
      if (requestId === undefined) return { clientId: current, requestId: nextRequestId++ };
      validateRequestId(requestId);
      nextRequestId = Math.max(nextRequestId, requestId + 1);
      return { clientId: current, requestId };
    },
    observeCommitted(entry) {
      // Ids are issued in rising order, so one at or above our next id was issued by someone
      // else. (A writer behind us is caught by the same check on its side.)
      const key = entry.dedupKey;
      if (keyless || !issuedAny || key === undefined || key.clientId !== current || key.requestId < nextRequestId) return { type: 'none' };
      if (durable) return { type: 'durableCollision', clientId: current };
      const previous = current;
      current = mintAutoClientId(node, random);
      nextRequestId = 1;
      issuedAny = false;
      return { type: 'reminted', previous, next: current };
    },
  };
}

/** Request ids per millisecond of wall clock: ids stay safe integers until the year 2255. */
const requestIdsPerMillisecond = 1000;

/** The wall clock (Unix milliseconds) as a request id floor for createClientIdentity. */
export function wallClockRequestIdFloor(unixMilliseconds: number): number {
  return Math.floor(unixMilliseconds) * requestIdsPerMillisecond;
}

/**
 * A caller's request id must be a positive safe integer. propose checks it before the proposal
 * takes a place in the window, so a bad id is the caller's rejection, not a stuck slot or a
 * throw inside a later step.
 */
export function validateRequestId(requestId: number): void {
  if (!isValidCounter(requestId) || requestId === 0) throw new RangeError(`propose requestId must be a positive safe integer, got ${String(requestId)}`);
}

/** Mints before giving up on a random source that keeps returning ids the log holds. */
const autoMintAttempts = 8;

/**
 * SPEC "Collision", applied to the log a node restarts on: entries under the auto id it just
 * minted were issued by an earlier incarnation, since this one has issued nothing. That happens
 * when the random source repeats itself across a restart, as a seeded one given the same seed
 * does (API.md's deterministic tests). Reusing the id, with request ids from 1 again, made the
 * leader's dedup cache answer a new command with the old entry under the same key (the command
 * was lost, and propose resolved with another command), and an application's ClientSessionTable
 * would skip the new commands as replays. So it mints again.
 */
function mintAutoClientIdUnusedIn(restoredEntries: readonly LogEntry[], node: NodeId, random: () => number): ClientId {
  const held = new Set<string>();
  for (const entry of restoredEntries) if (entry.dedupKey !== undefined) held.add(entry.dedupKey.clientId);
  let minted = mintAutoClientId(node, random);
  for (let attempt = 1; attempt < autoMintAttempts && held.has(minted); attempt += 1) minted = mintAutoClientId(node, random);
  return minted;
}

function highestRequestId(entries: readonly LogEntry[], owner: ClientId): number {
  let highest = 0;
  for (const entry of entries) {
    if (entry.dedupKey?.clientId === owner && entry.dedupKey.requestId > highest) highest = entry.dedupKey.requestId;
  }
  return highest;
}
