// One tab slot's lock (tab-identity.ts claims slots with it): a Web Lock, or where Web Locks do not
// exist (insecure contexts: plain http from a LAN address) an IndexedDB version lock
// (version-lock.ts), which other tabs see as well. Either way the browser frees it when the tab
// goes; `release` frees it before that, once the tab is done with the slot (room.leave()).
import { webLocks } from '../storage/indexeddb/database-lock.ts';
import { acquireVersionLock } from '../storage/indexeddb/version-lock.ts';

/** A slot lock this tab holds. */
export interface SlotLock {
  /** Frees the slot; resolves once the browser has let it go, so a claim made after sees it free. Idempotent. */
  release(): Promise<void>;
}

/** The slot's Web Lock name. */
export function slotLockName(room: string, slot: number): string {
  return `raftmesh:room:${room}:slot:${slot}`;
}

/** The database the slot's version lock is made of, where there are no Web Locks. */
export function slotVersionLockName(room: string, slot: number): string {
  return `raftmesh-lock:room:${room}:slot:${slot}`;
}

/** Takes the slot's lock if no other holder (another tab, or another join in this one) has it; null if one has. */
export function takeSlotLock(room: string, slot: number): Promise<SlotLock | null> {
  const locks = webLocks();
  if (locks === null) {
    return acquireVersionLock(indexedDB, slotVersionLockName(room, slot), 0).then((lock) =>
      lock === null
        ? null
        : {
            // Closing the connection frees it: the next contender's upgrade runs, no event needed.
            release: async () => lock.release(),
          },
    );
  }
  return new Promise<SlotLock | null>((resolve, reject) => {
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((resolveHeld) => (letGo = resolveHeld));
    const request = locks.request(slotLockName(room, slot), { ifAvailable: true }, (lock) => {
      if (lock === null) {
        resolve(null);
        return undefined;
      }
      // request() resolves once the lock is released: a claim that waits for it then finds it free.
      let released: Promise<void> | null = null;
      resolve({
        release: () => {
          letGo();
          return (released ??= request.then(
            () => undefined,
            () => undefined,
          ));
        },
      });
      return held;
    });
    // The request itself can be refused (InvalidStateError in a document that is not fully
    // active, SecurityError in an opaque origin): its callback never runs then, and dropping
    // this rejection left claimTabIdentity (and joinRoom) waiting forever.
    request.catch((error: unknown) => {
      reject(new Error(`claimTabIdentity: the browser refused the Web Lock of slot ${slot} in room ${room} (${describeError(error)})`, { cause: error }));
    });
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
