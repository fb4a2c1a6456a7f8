// Which identity this tab takes (joinRoom's default identity store in browsers). Tabs of one
// browser profile share localStorage and IndexedDB, so "one id per profile" would make two tabs
// the same Raft member. Instead each tab claims a slot:
// the lowest slot number whose Web Lock no other tab holds, held for the tab's lifetime. The
// slot's node id, bootstrap configuration and database persist in IndexedDB
// (durable-identity-store.ts), so a reloaded tab — or the first tab after a browser restart —
// comes back as the same member with its log, and a second tab joins as a new member.
//
// Where Web Locks do not exist (insecure contexts: plain http from a LAN address) the slots are
// locks made of IndexedDB version changes (version-lock.ts), which other tabs see as well; every
// tab taking slot 0 there made two tabs one member, whose storage then refused the second.
import { webLocks } from '../storage/indexeddb/database-lock.ts';
import { acquireVersionLock } from '../storage/indexeddb/version-lock.ts';
import { durableIdentityStore, type DurableIdentityStore, type LegacyValues } from './durable-identity-store.ts';

const maxSlots = 64;

/** Whether this tab can claim slots: Web Locks, or IndexedDB to make locks of. */
export function canClaimTabSlots(): boolean {
  return webLocks() !== null || (globalThis as { indexedDB?: unknown }).indexedDB !== undefined;
}

/** Takes the slot's lock if no other tab holds it, for the rest of this tab's life. */
function takeSlot(room: string, slot: number): Promise<boolean> {
  const locks = webLocks();
  if (locks === null) {
    // Never released: the browser closes the connection, and so frees the slot, when the tab goes.
    return acquireVersionLock(indexedDB, `raftmesh-lock:room:${room}:slot:${slot}`, 0).then((lock) => lock !== null);
  }
  return new Promise<boolean>((resolve, reject) => {
    locks
      .request(`raftmesh:room:${room}:slot:${slot}`, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return new Promise<void>(() => undefined); // held until the tab goes away
      })
      // The request itself can be refused (InvalidStateError in a document that is not fully
      // active, SecurityError in an opaque origin): its callback never runs then, and dropping
      // this rejection left claimTabIdentity (and joinRoom) waiting forever.
      .catch((error: unknown) => {
        reject(new Error(`claimTabIdentity: the browser refused the Web Lock of slot ${slot} in room ${room} (${describeError(error)})`, { cause: error }));
      });
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function claimSlot(room: string): Promise<number> {
  for (let slot = 0; slot < maxSlots; slot += 1) {
    if (await takeSlot(room, slot)) return slot;
  }
  throw new Error(`more than ${maxSlots} tabs of this browser are in room ${room}`);
}

/**
 * A KeyValueStore private to the slot this tab claimed: in IndexedDB, durable once a write resolves
 * (durable-identity-store.ts says why not localStorage alone, which keeps a copy).
 */
export async function claimTabIdentity(room: string): Promise<{ slot: number; store: DurableIdentityStore }> {
  const slot = await claimSlot(room);
  // Slot 0 keeps the unprefixed keys, so an identity saved before slots existed is still found.
  const prefix = slot === 0 ? '' : `slot-${slot}:`;
  const legacy = (globalThis as { localStorage?: LegacyValues }).localStorage ?? null;
  return { slot, store: durableIdentityStore(prefix, legacy) };
}
