// Closing a storage that may or may not need it. RaftStorage has no `close` (in-memory storage
// needs none); IndexedDB and file storage do, and both tolerate a second call. Shared by joinRoom,
// which closes every storage it opened, and workerNodeFactory, which closes a page-side handle
// so that its worker can open the database: found by its `close`, not by class, so neither
// brings IndexedDB code onto a page that does not use it.
import type { RaftStorage } from './raft-storage.ts';

/**
 * Closes `storage` when it has a `close`. A throw there is swallowed: a storage that fails to close
 * is one nobody uses any more, and if it still holds its database, whoever opens it next says so.
 */
export async function closeStorage(storage: RaftStorage): Promise<void> {
  const closable = storage as RaftStorage & { close?: () => void | Promise<void> };
  if (typeof closable.close !== 'function') return;
  try {
    await closable.close();
  } catch {
    // See above: the caller's own outcome (a join, a leave, a node start) matters more.
  }
}
