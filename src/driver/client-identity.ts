// This node's §8 client identity: stamps each proposal with a DedupKey once, and watches the
// committed log for entries under its own client id that it never issued, which proves a second
// live writer holds the same id (SPEC "Collision").
import { mintAutoClientId } from '../core/auto-client-id.ts';
import { dedupWindowSize } from '../core/client-session-format.ts';
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
  /** The request id stamp(requestId) would give now, without issuing it; null for `none`. */
  requestIdFor(requestId: number | undefined): number | null;
  /**
   * Throws a RangeError for a caller's request id that is not a positive safe integer, or that
   * every ClientSessionTable would skip as a replay: more than a window below an id this client
   * already used (see createClientIdentity).
   */
  checkCallerRequestId(requestId: number): void;
  /** Whether committed entries need checking at all (false for the keyless identity `none`). */
  readonly watching: boolean;
  /** Checks a committed entry; an auto id re-mints itself on collision. */
  observeCommitted(entry: LogEntry): CollisionVerdict;
}

/** What createClientIdentity needs to know about the incarnation it starts. */
export interface IncarnationStart {
  /** Every entry the log still holds. */
  readonly restoredEntries: readonly LogEntry[];
  /** The last index storage covers, log or snapshot. */
  readonly restoredLastIndex?: number;
  /** See clockRequestIdFloor: 0 when no clock reading can serve. */
  readonly clockFloor?: number;
  /** Mixed into a minted auto id (mintAutoClientId): when this incarnation started and what it restored. */
  readonly salt?: string;
}

/**
 * Where a durable identity's automatic request ids start: above every request id an earlier
 * incarnation can have issued, or the application's ClientSessionTable would skip the new commands
 * as replays. No storage field holds the last id issued, so three floors stand in for it:
 * - `restoredEntries`: every request id the log still holds;
 * - `restoredLastIndex`, the last index storage covers (log or snapshot): compaction removes
 *   entries, and ids of proposals that all committed are no higher than the entries holding them;
 * - `clockFloor` (see clockRequestIdFloor): ids of proposals that failed, or were still in flight
 *   at a crash, run ahead of the log, and nothing in storage remembers them. A clock read in ids
 *   (1,000 per millisecond) is above them unless the clock went back or an incarnation issued ids
 *   faster than a million a second on average. An injected clock's reading serves too: a
 *   simulation's virtual clock runs on across restarts, and stays deterministic.
 * A caller's own request ids, SPEC's exactly-once recipe, need none of this.
 *
 * Being above every earlier id is what lets a committed entry be judged (SPEC "Collision"): once
 * this incarnation has issued an id, one under its own id at or above the next id it would issue
 * was issued by someone else. Before that, such an entry may also be an earlier incarnation's
 * proposal still in flight at the crash under an id its caller chose (SPEC's exactly-once recipe
 * lets a caller pick any ids, above the floors too), so it only moves this incarnation's ids
 * past it (see idsLeftToAnotherWriter).
 */
export function createClientIdentity(identity: ClientIdentity | undefined, node: NodeId, random: () => number, start: IncarnationStart): ClientIdentityState {
  const { restoredEntries, restoredLastIndex = 0, clockFloor = 0, salt = '' } = start;
  const durable = identity?.type === 'durable';
  let current: ClientId = identity?.type === 'durable' ? identity.clientId : mintAutoClientIdUnusedIn(restoredEntries, node, random, salt);
  // An auto id starts at 1, unless a random source that keeps repeating left it one the log holds.
  let nextRequestId = durable ? Math.max(highestRequestId(restoredEntries, current), restoredLastIndex, clockFloor) + 1 : highestRequestId(restoredEntries, current) + 1;
  const keyless = identity?.type === 'none';
  let issuedAny = false;
  // The highest request id this client is known to have used: stamped by this incarnation, held
  // by the restored log, or seen committed. A session table that applied it has slid its window
  // past every id more than dedupWindowSize below it, so such an id from the caller would commit
  // (propose resolving) and then be skipped by every replica as a replay: refused up front. A
  // caller mixing its own small ids with the node's (which start above the wall clock) met that.
  let highestUsed = highestRequestId(restoredEntries, current);

  return {
    get watching() {
      return !keyless;
    },
    get clientId() {
      return current;
    },
    stamp(requestId) {
      if (keyless) return null;
      issuedAny = true;
      if (requestId === undefined) {
        highestUsed = Math.max(highestUsed, nextRequestId);
        return { clientId: current, requestId: nextRequestId++ };
      }
      validateRequestId(requestId);
      nextRequestId = Math.max(nextRequestId, requestId + 1);
      highestUsed = Math.max(highestUsed, requestId);
      return { clientId: current, requestId };
    },
    requestIdFor(requestId) {
      return keyless ? null : (requestId ?? nextRequestId);
    },
    checkCallerRequestId(requestId) {
      validateRequestId(requestId);
      if (keyless || requestId > highestUsed - dedupWindowSize) return;
      throw new RangeError(
        `propose requestId ${requestId} is more than ${dedupWindowSize} below request id ${highestUsed}, which client ${JSON.stringify(current)} already used: every ClientSessionTable would skip it as a replay of a forgotten request, so it is refused rather than committed and never applied. Only a retry may go back, and by less than ${dedupWindowSize}; ids the node issues itself (propose without requestId) start above the wall clock, so give a client's proposals your own ids on all of them or on none`,
      );
    },
    observeCommitted(entry) {
      // Ids are issued in rising order, from above every id an earlier incarnation numbered, so
      // one at or above our next id was issued by someone else. (A writer behind us is caught by
      // the same check on its side.)
      const key = entry.dedupKey;
      if (keyless || key === undefined || key.clientId !== current) return { type: 'none' };
      highestUsed = Math.max(highestUsed, key.requestId);
      if (key.requestId < nextRequestId) return { type: 'none' };
      if (durable && !issuedAny) {
        // Ambiguous before our first proposal (see createClientIdentity): an earlier incarnation's
        // late entry, or a second live writer. Our ids must not meet either: issuing the same
        // ids, a second writer's commands were answered with the first's entries (lost, their
        // calls resolved with another's entry). Jumping well past it, ours reach a live writer
        // before its own reach ours, and it is refused at its check.
        nextRequestId = Math.max(nextRequestId, idsPast(key.requestId));
        return { type: 'none' };
      }
      if (durable) return { type: 'durableCollision', clientId: current };
      // An auto id is fresh at every start, so an entry under it before our first proposal is
      // someone else's too: a random source that repeated (mintAutoClientIdUnusedIn).
      const previous = current;
      current = mintAutoClientId(node, random);
      nextRequestId = 1;
      highestUsed = 0;
      issuedAny = false;
      return { type: 'reminted', previous, next: current };
    },
  };
}

/**
 * How far past an unexplained entry a durable identity that has issued nothing yet starts its own
 * ids: more than another live writer issues before it sees ours committed (a million proposals).
 */
const idsLeftToAnotherWriter = 2 ** 20;

function idsPast(requestId: number): number {
  const past = requestId + 1 + idsLeftToAnotherWriter;
  return Number.isSafeInteger(past) ? past : requestId + 1;
}

/** Request ids per millisecond of wall clock: ids stay safe integers until the year 2255. */
const requestIdsPerMillisecond = 1000;

/** The wall clock (Unix milliseconds) as a request id floor for createClientIdentity. */
export function wallClockRequestIdFloor(unixMilliseconds: number): number {
  return Math.floor(unixMilliseconds) * requestIdsPerMillisecond;
}

/**
 * An injected clock's reading (milliseconds from wherever it starts) as a request id floor: 0
 * when the reading cannot serve (negative, not finite, or so large that ids would leave the safe
 * integers), since the other floors still apply.
 */
export function clockRequestIdFloor(milliseconds: number): number {
  if (!(milliseconds >= 0) || !Number.isFinite(milliseconds)) return 0;
  const floor = wallClockRequestIdFloor(milliseconds);
  return floor <= 2 ** 52 ? floor : 0;
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
 * would skip the new commands as replays. So it mints again. (The salt makes such a repeat rare
 * already: a repeating source mints the same id again only at the same clock reading on the same
 * storage; entries under it that this node never received are judged once they commit.)
 */
function mintAutoClientIdUnusedIn(restoredEntries: readonly LogEntry[], node: NodeId, random: () => number, salt: string): ClientId {
  const held = new Set<string>();
  for (const entry of restoredEntries) if (entry.dedupKey !== undefined) held.add(entry.dedupKey.clientId);
  let minted = mintAutoClientId(node, random, salt);
  for (let attempt = 1; attempt < autoMintAttempts && held.has(minted); attempt += 1) minted = mintAutoClientId(node, random, salt);
  return minted;
}

function highestRequestId(entries: readonly LogEntry[], owner: ClientId): number {
  let highest = 0;
  for (const entry of entries) {
    if (entry.dedupKey?.clientId === owner && entry.dedupKey.requestId > highest) highest = entry.dedupKey.requestId;
  }
  return highest;
}
