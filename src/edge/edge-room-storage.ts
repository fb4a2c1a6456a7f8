// Where an edge peer keeps its Raft data, and what it gives joinRoom: one directory per node id it
// runs under (`raft-<id>`, beside the identity file), the id loaded from that file but not fixed,
// and the directory of an id given up removed. joinRoom gives an id up when the room removed this
// peer while it was down (a voter, replaced after `unreachableAfterMs`) or when the node wedged,
// and joins again under a fresh id on empty storage (SPEC "Wedge"). An edge peer used to pass its
// id as fixed and one storage for every id: after a removal it could never start again (joinRoom
// refuses a fixed id it must give up, and the process exited 2 on every restart), and a wedge was
// left to it for good (room-chaos campaigns with edge faults, README "Rooms under faults").
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyValueStore, NodeId, RaftStorage } from '../index.ts';
import { FileRaftStorage, removeStorageDirectory } from './edge-imports.ts';

export interface ClosableRaftStorage extends RaftStorage {
  close(): Promise<void>;
}

/** Each id's own storage: opened (created if new) and removed for good. */
export interface StorageShelf {
  open(id: NodeId): Promise<ClosableRaftStorage>;
  /** Refused (a RaftStorageError, reason 'inUse') while the id's storage is open, here or in another process. */
  remove(id: NodeId): Promise<void>;
}

/**
 * The directory of an id's Raft data: `raft-<id>`, with every character a path could take for a
 * separator (`/`, `\`, NUL) escaped as `%XX`, and `%` itself so that the escape stays one to
 * one. A node id is any text, and it comes from the identity file or the room: unescaped, an id
 * like `x/../../elsewhere` put the data (and, once the id was given up, a recursive removal)
 * outside the data directory. Ids without those characters keep the directory they always had.
 */
export function raftDirectoryOf(dataDirectory: string, id: NodeId): string {
  return join(dataDirectory, `raft-${id.replace(/[/\\\0%]/gu, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`);
}

/** `raft-<id>` directories of FileRaftStorage under `dataDirectory` (raftDirectoryOf). */
export function fileStorageShelf(dataDirectory: string): StorageShelf {
  const directoryOf = (id: NodeId): string => raftDirectoryOf(dataDirectory, id);
  return {
    // The id recorded in the directory (an adopted `raft/` from before owners were recorded gets
    // it at its first open): a directory renamed or copied to another id's name is refused.
    open: (id) => FileRaftStorage.open(directoryOf(id), { nodeId: id }),
    // Under the directory's lock: another raftmesh-peer started on this data directory may run a
    // node under this id, and a plain removal deleted its journal under it.
    remove: (id) => removeStorageDirectory(directoryOf(id), `discardStorage(${JSON.stringify(id)})`),
  };
}

/**
 * Data directories written before ids had directories of their own kept the one id's Raft data in
 * `raft/`: it belongs to the id the identity file names, and moves to that id's directory.
 */
export async function adoptSharedDirectory(dataDirectory: string, identity: { readonly id: NodeId; readonly minted: boolean }): Promise<'adopted' | 'left' | 'none'> {
  const shared = join(dataDirectory, 'raft');
  const own = raftDirectoryOf(dataDirectory, identity.id);
  if (!existsSync(shared) || existsSync(own)) return 'none';
  // Only the id this room had saved may take it: an id minted by this start has never run, so the
  // log there is an earlier id's, another room's on the same data directory (`--room B` on A's
  // directory took A's term, vote and log: a review, 2026-12-07). It stays for that room's next start.
  if (identity.minted) return 'left';
  await rename(shared, own);
  return 'adopted';
}

export interface EdgeJoinOptions {
  readonly identityStore: KeyValueStore;
  storage(id: NodeId): Promise<RaftStorage>;
  discardStorage(id: NodeId): Promise<void>;
  /** Closes every storage still open (after `room.leave()`: joinRoom leaves the last one open). */
  close(): Promise<void>;
}

/** The identity and storage options an edge peer passes to joinRoom (no `nodeId`: see above). */
export function edgeJoinOptions(identityStore: KeyValueStore, shelf: StorageShelf): EdgeJoinOptions {
  const open = new Map<NodeId, ClosableRaftStorage>();
  return {
    identityStore,
    async storage(id) {
      const storage = await shelf.open(id);
      open.set(id, storage);
      return storage;
    },
    async discardStorage(id) {
      // joinRoom closed it already; FileRaftStorage takes a second close.
      await open.get(id)?.close();
      open.delete(id);
      await shelf.remove(id);
    },
    async close() {
      const closing = [...open.values()];
      open.clear();
      await Promise.all(closing.map((storage) => storage.close()));
    },
  };
}
