// Which node a FileRaftStorage directory belongs to, and whether an open may start an empty log.
//
// A directory records no owner by itself: a node started on a mistyped path used to start at term
// 0 with no vote (a voter that forgot its vote may vote twice in a term, breaking Raft's safety),
// and node `b` opened on node `a`'s directory took `a`'s term, vote and log (a newcomer's review,
// 2026-12-07). FileStorageOptions.nodeId records the owner in `owner` (JSON: the id and a CRC-32
// of its UTF-8 bytes, so a damaged id reads as damage, not as another node's), written once the
// atomic way (atomic-file.ts) and checked at every later open that names an id;
// FileStorageOptions.create false refuses a directory that holds no journal.
//
// Both checks run before the open writes anything, the directory lock included (checkBeforeOpen),
// and the owner is read once more under the lock before it is recorded (a second process may have
// recorded another id in between).
import { readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { RaftStorageError } from '../../core/errors.ts';
import { nodeId, type NodeId } from '../../core/types.ts';
import { storageFailure } from '../storage-failure.ts';
import { replaceFile, type BeforeRename } from './atomic-file.ts';
import { readWhole } from './file-chunks.ts';
import { format1JournalFileName } from './journal-format1.ts';
import { journalFileName } from './journal-format.ts';
import { readIfPresent } from './read-if-present.ts';
import { snapshotFileName } from './snapshot-file.ts';

export const ownerFileName = 'owner';
/**
 * Larger than any owner file this build writes: an id is at most maxIdLength (256) UTF-16 units,
 * at most 1,536 characters once JSON escapes each as `\uXXXX`, plus a few dozen for the rest.
 * A larger file is damage (or not this file at all), and is not read into memory.
 */
export const maxOwnerFileBytes = 4_096;
/** Names that mark a directory as a storage's (journal-open.ts): a journal, its format-1 copy set aside mid-migration, a snapshot. */
const storageFileNames: readonly string[] = [journalFileName, format1JournalFileName, `${format1JournalFileName}.format1`, snapshotFileName];

/** What FileStorageOptions says about ownership and creation, validated. */
export interface OwnershipOptions {
  readonly nodeId: NodeId | null;
  readonly create: boolean;
}

/** Validates the options (a caller's mistake is a RangeError, as elsewhere, not a storage failure). */
export function ownershipOptionsOf(options: { readonly nodeId?: string; readonly create?: boolean }): OwnershipOptions {
  if (options.create !== undefined && typeof options.create !== 'boolean') throw new RangeError(`FileRaftStorage.open: create must be a boolean, got ${JSON.stringify(options.create)}`);
  let id: NodeId | null = null;
  if (options.nodeId !== undefined) {
    try {
      id = nodeId(options.nodeId);
    } catch (error) {
      throw new RangeError(`FileRaftStorage.open: nodeId is not a node id: ${(error as Error).message}`);
    }
  }
  return { nodeId: id, create: options.create ?? true };
}

/**
 * Before the open writes anything: with `create` false, refuses a directory that is missing or
 * holds no storage file; with a node id, refuses a directory recorded as another node's.
 */
export async function checkBeforeOpen(directory: string, ownership: OwnershipOptions): Promise<void> {
  if (!ownership.create) await requireExistingStorage(directory);
  if (ownership.nodeId === null) return;
  const recorded = await readOwner(directory).catch((error: unknown) => {
    // A directory not made yet has no owner (`create` true makes it next); any other failure is the open's.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR' && ownership.create) return null;
    throw error;
  });
  if (recorded !== null) requireSameOwner(directory, recorded, ownership.nodeId);
}

/**
 * Under the directory lock: checks the owner again and records `ownership.nodeId` where none is
 * recorded (a new directory, or one written before owners were recorded). A directory recorded
 * with an id and opened without one opens: callers from before this option name no id, and
 * refusing them would stop every node they run at its next restart.
 */
export async function recordOwner(directory: string, ownership: OwnershipOptions, sync: boolean, beforeRename: BeforeRename): Promise<void> {
  if (ownership.nodeId === null) return;
  const recorded = await readOwner(directory);
  if (recorded !== null) {
    requireSameOwner(directory, recorded, ownership.nodeId);
    return;
  }
  await replaceFile(directory, ownerFileName, encodeOwner(ownership.nodeId), sync, beforeRename);
}

/** The owner's file: a JSON object, one line, the id's checksum beside it. */
export function encodeOwner(id: NodeId): Uint8Array {
  const text = `${JSON.stringify({ storage: 'raftmesh FileRaftStorage', nodeId: id, nodeIdCrc32: crc32(new TextEncoder().encode(id)) })}\n`;
  return new TextEncoder().encode(text);
}

/** The id recorded in `directory`, or null where none is; refuses (corruptRecord) a damaged owner file. */
export async function readOwner(directory: string): Promise<NodeId | null> {
  const path = join(directory, ownerFileName);
  return readIfPresent(path, (handle) => readOpenOwner(handle, path));
}

async function readOpenOwner(handle: FileHandle, path: string): Promise<NodeId> {
  const size = (await handle.stat()).size;
  if (size > maxOwnerFileBytes) throw damaged(path, `it is ${size} bytes, more than the ${maxOwnerFileBytes} an owner file ever holds`);
  const bytes = new Uint8Array(size);
  if ((await readWhole(handle, bytes, 0)) !== null) throw damaged(path, `it ended while it was being read (${size} bytes when the read began)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw damaged(path, `it is not JSON text (${(error as Error).message})`);
  }
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { storage?: unknown; nodeId?: unknown; nodeIdCrc32?: unknown };
  if (fields.storage !== 'raftmesh FileRaftStorage' || typeof fields.nodeId !== 'string' || typeof fields.nodeIdCrc32 !== 'number') throw damaged(path, 'it does not hold a FileRaftStorage owner record');
  if (crc32(new TextEncoder().encode(fields.nodeId)) !== fields.nodeIdCrc32) throw damaged(path, `the node id it holds (${JSON.stringify(fields.nodeId)}) fails its checksum`);
  try {
    return nodeId(fields.nodeId);
  } catch (error) {
    throw damaged(path, `it holds no valid node id (${(error as Error).message})`);
  }
}

function requireSameOwner(directory: string, recorded: NodeId, given: NodeId): void {
  if (recorded === given) return;
  throw storageFailure('wrongOwner', `opening ${directory}`, undefined, 'FileRaftStorage', `this directory belongs to node ${JSON.stringify(recorded)}, not to node ${JSON.stringify(given)} (FileStorageOptions.nodeId): check the path and the id; a node opened on another node's data would take its term, vote and log`);
}

/**
 * `create` false: the directory must exist and hold a journal or a snapshot. An existing but empty
 * directory is refused too: it is as empty a log as a missing one, and it is what a mistyped path
 * made by hand, or a data volume that failed to mount over its mount point, looks like. The owner
 * file alone does not count: an open that recorded it and crashed before its journal acknowledged
 * nothing, and reopening it with `create` true is harmless.
 */
async function requireExistingStorage(directory: string): Promise<void> {
  let names: string[];
  try {
    if (!(await stat(directory)).isDirectory()) throw Object.assign(new Error(`${directory} is not a directory`), { code: 'ENOTDIR' });
    names = await readdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    throw notCreated(directory, code === 'ENOENT' ? 'there is no such directory' : 'it is not a directory');
  }
  if (!names.some((name) => storageFileNames.includes(name))) throw notCreated(directory, `it holds no ${journalFileName} or ${snapshotFileName}`);
}

function notCreated(directory: string, why: string): RaftStorageError {
  return storageFailure('notFound', `opening ${directory}`, undefined, 'FileRaftStorage', `${why}, and create is false (FileStorageOptions.create): refusing to start an empty log where a node's data was expected. Check the path (and that its volume is mounted); to start a new node there, open it once with create: true`);
}

function damaged(path: string, detail: string): RaftStorageError {
  return storageFailure('corruptRecord', `reading ${path}`, new Error(detail), 'FileRaftStorage', `the owner file is damaged; if you know which node this directory belongs to, remove ${path} and open it with that nodeId to record it again`);
}
