// A storage passes from a stopped node to the next node created on it only once the stopped
// node's write in flight has settled. `stopped` is announced at once (close() through a signal
// does not wait, and a storage failure or a broken invariant must show even while a write hangs),
// but that write still lands afterwards: a node restored from the storage before it did would
// hold a view of the log the old write then changes underneath it (its first write refused, or
// an acknowledged log the storage no longer holds). So createRaftNode waits for that write
// before it restores. Only stopped nodes are waited for, never a live one: two live nodes on one
// storage object are the caller's error, and waiting would hang.
import type { RaftStorage } from '../storage/raft-storage.ts';

/** Per storage object: settles once every stopped node's write on it has settled. */
const finishingWrites = new WeakMap<RaftStorage, Promise<void>>();

/** A node on `storage` stopped; `writeIdle` settles (never rejects) once its write in flight has. */
export function handOverWhenIdle(storage: RaftStorage, writeIdle: Promise<void>): void {
  const earlier = finishingWrites.get(storage);
  const settled = earlier === undefined ? writeIdle : Promise.all([earlier, writeIdle]).then(() => undefined);
  finishingWrites.set(storage, settled);
  // Forgotten once settled, so a storage with no write pending costs a later node no wait.
  void settled.then(() => {
    if (finishingWrites.get(storage) === settled) finishingWrites.delete(storage);
  });
}

/** What a new node on `storage` must wait for before it restores: null when nothing is pending. */
export function writesStillFinishing(storage: RaftStorage): Promise<void> | null {
  return finishingWrites.get(storage) ?? null;
}
