// Which identity this tab takes (joinRoom's default identity store in browsers). Tabs of one
// browser profile share localStorage and IndexedDB, so "one id per profile" would make two tabs
// the same Raft member. Instead each join claims a slot: the lowest slot number whose lock
// (tab-slot-lock.ts) nobody holds, held until the room is left (or the join fails), then given
// back. The slot's node id, bootstrap configuration and database persist in IndexedDB
// (durable-identity-store.ts), so a reloaded tab — or the first tab after a browser restart, or a
// join after a leave in the same tab — comes back as the same member with its log, and a second
// tab joins as a new member.
//
// Slots used to be held for the tab's lifetime: a page that left and joined again (a single-page
// app's route change, React StrictMode's join, abort, join) took the next slot each time, so a
// fresh id that did not have the previous one's state, a database left behind per join, and the
// 65th join in one tab failed.
//
// A join that starts while a room of this tab is still leaving (React runs an effect's cleanup,
// which cannot await leave(), right before the next mount's join) waits for that slot to come
// back rather than take the next one: it then runs under the same id, with its log, and the slot
// comes back only once the old node and its storage are closed, so the two never share a
// database. The wait is bounded: a leave that hangs costs the next slot, as another tab's would.
import { durableIdentityStore, type DurableIdentityStore, type LegacyValues } from './durable-identity-store.ts';
import { webLocks } from '../storage/indexeddb/database-lock.ts';
import { takeSlotLock, type SlotLock } from './tab-slot-lock.ts';

const maxSlots = 64;

/** How long a claim waits for a slot this tab is giving back (a leave under way) before it passes it by. */
export const ownReleaseWaitMs = 10_000;

/** Whether this tab can claim slots: Web Locks, or IndexedDB to make locks of. */
export function canClaimTabSlots(): boolean {
  return webLocks() !== null || (globalThis as { indexedDB?: unknown }).indexedDB !== undefined;
}

/** A slot this tab holds: its store, and how it goes back. */
export interface TabSlot {
  readonly slot: number;
  readonly store: DurableIdentityStore;
  /**
   * Gives the slot back (after the node under its id has closed: room.leave() does), so the next
   * claim in any tab can take it and its id again. Resolves once it is free. Idempotent.
   */
  release(): Promise<void>;
  /**
   * Says the slot is on its way back (a leave or an abort under way): a claim in this tab
   * meanwhile waits for it, up to ownReleaseWaitMs, instead of taking the next slot.
   */
  announceRelease(): void;
}

/** A slot this tab holds, as the claims of this tab see it. */
interface HeldSlot {
  announced: boolean;
  readonly released: Promise<void>;
}

/** The slots this tab's joins hold, by room and slot number. */
const heldHere = new Map<string, HeldSlot>();
/** Each room's claims in this tab, one after another: a claim sees every slot an earlier one took, or gave back. */
const claimsInTurn = new Map<string, Promise<unknown>>();

const heldKey = (room: string, slot: number): string => JSON.stringify([room, slot]);

/**
 * Whether `promise` settles within `ms`; rejects with the signal's reason as soon as it aborts (an
 * aborted join waiting for a slot still on its way back held up the tab's next joins of the room
 * for up to `ms`: a review, 2026-12-07).
 */
function settlesWithin(promise: Promise<unknown>, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const late = new Promise<boolean>((resolve, reject) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise.then(() => true), late]).finally(() => {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  });
}

async function claimSlot(room: string, signal: AbortSignal | undefined): Promise<{ readonly slot: number; readonly lock: SlotLock }> {
  for (let slot = 0; slot < maxSlots; slot += 1) {
    signal?.throwIfAborted();
    const held = heldHere.get(heldKey(room, slot));
    // Held by a join of this tab: taken (skip it) unless it is on its way back.
    if (held !== undefined && !(held.announced && (await settlesWithin(held.released, ownReleaseWaitMs, signal)))) continue;
    const lock = await takeSlotLock(room, slot);
    if (lock === null) continue;
    if (signal?.aborted === true) {
      // Aborted while taking it: given back at once, never used.
      await lock.release();
      signal.throwIfAborted();
    }
    return { slot, lock };
  }
  throw new Error(`more than ${maxSlots} tabs of this browser are in room ${room}`);
}

function holdSlot(room: string, slot: number, lock: SlotLock): TabSlot {
  let releasing: Promise<void> | null = null;
  let markReleased: () => void = () => undefined;
  const held: HeldSlot = { announced: false, released: new Promise<void>((resolve) => (markReleased = resolve)) };
  heldHere.set(heldKey(room, slot), held);
  // Slot 0 keeps the unprefixed keys, so an identity saved before slots existed is still found.
  const prefix = slot === 0 ? '' : `slot-${slot}:`;
  const legacy = (globalThis as { localStorage?: LegacyValues }).localStorage ?? null;
  return {
    slot,
    store: durableIdentityStore(prefix, legacy),
    announceRelease: () => void (held.announced = true),
    release: () =>
      (releasing ??= lock.release().finally(() => {
        heldHere.delete(heldKey(room, slot));
        markReleased();
      })),
  };
}

/**
 * Claims the lowest free slot of `room` for a join (joinRoom's default identity store), in turn
 * with this tab's other claims of the room. Rejects with the signal's reason, holding nothing,
 * when `signal` aborts before the slot is taken or while it is.
 */
export function claimTabSlot(room: string, signal?: AbortSignal): Promise<TabSlot> {
  const previous = claimsInTurn.get(room) ?? Promise.resolve();
  const claim = previous.then(async () => {
    const { slot, lock } = await claimSlot(room, signal);
    return holdSlot(room, slot, lock);
  });
  const done = claim.catch(() => undefined);
  claimsInTurn.set(room, done);
  void done.then(() => {
    if (claimsInTurn.get(room) === done) claimsInTurn.delete(room);
  });
  return claim;
}

/**
 * A KeyValueStore private to the slot this tab claimed: in IndexedDB, durable once a write resolves
 * (durable-identity-store.ts says why not localStorage alone, which keeps a copy). The slot stays
 * this tab's until `release()` (or the tab goes).
 */
export async function claimTabIdentity(room: string): Promise<{ slot: number; store: DurableIdentityStore; release(): Promise<void> }> {
  const { slot, store, release } = await claimTabSlot(room);
  return { slot, store, release };
}
