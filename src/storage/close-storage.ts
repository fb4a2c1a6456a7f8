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

/**
 * A storage's own way to close that also deletes what its open created, when nothing was written
 * since (IndexedDbRaftStorage: the database its open created). Keyed by a symbol, so it is no part
 * of RaftStorage and no wrapper has to pass it on: without it, closeStorageLeavingNothing closes.
 */
export const closeLeavingNothing: unique symbol = Symbol('raftmesh: close, deleting what the open created if unused');

/**
 * For a join that did not go through (joinRoom): it opened the id's storage to read it, and an
 * IndexedDB open creates a database that is not there, so an aborted or failed join left an empty
 * database behind under an id that never ran a node. A storage that knows it created its database
 * and wrote nothing deletes it as it closes; any other storage just closes (closeStorage).
 */
export async function closeStorageLeavingNothing(storage: RaftStorage): Promise<void> {
  const leaving = storage as RaftStorage & { [closeLeavingNothing]?: () => Promise<void> };
  if (typeof leaving[closeLeavingNothing] !== 'function') return closeStorage(storage);
  try {
    await leaving[closeLeavingNothing]();
  } catch {
    // As closeStorage: the join's own outcome matters more; an empty database left is harmless.
  }
}
