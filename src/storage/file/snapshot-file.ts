// The snapshot file: [u32 meta length][u32 crc32 of meta and state][meta][state]. It is replaced
// whole (atomic-file.ts), so the checksum guards against damage at rest, not torn writes.
//
// A state may be up to 4 GiB (RaftConfig.snapshotTotalCeiling goes that far for an installed
// snapshot; an application's own has no bound but the longest Uint8Array, which is 4 GiB too). The
// file was read back with one readFile, which Node refuses past 2 GiB: a snapshot saved and
// acknowledged could not be reopened, and the node could not restart (an outside review). It is
// now written as two pieces and read and checksummed a bounded piece at a time (file-chunks.ts),
// so whatever could be saved reads back; only the state is one buffer, as the storage hands it out.
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeSnapshotMeta } from '../../codec/records.ts';
import type { StoredSnapshot } from '../../core/types.ts';
import { storageFailure } from '../storage-failure.ts';
import { checksumInPieces, readWhole } from './file-chunks.ts';
import { readIfPresent } from './read-if-present.ts';

export const snapshotFileName = 'snapshot';
const headerBytes = 8;
/** The longest Uint8Array Node makes (buffer.constants.MAX_LENGTH on 64-bit): a state is one. */
export const maxSnapshotStateBytes = 2 ** 32;

/** The file's pieces, ready to write in turn: the header with the meta, then the state itself (not copied). */
export function encodeSnapshotFile(meta: Uint8Array, state: Uint8Array): readonly Uint8Array[] {
  const head = new Uint8Array(headerBytes + meta.length);
  head.set(meta, headerBytes);
  const view = new DataView(head.buffer);
  view.setUint32(0, meta.length, true);
  view.setUint32(4, checksumInPieces(state, crc32(meta)), true);
  return [head, state];
}

/** The snapshot in `directory`, or null where there is none; refuses (corruptRecord) one that fails its checks. */
export async function readSnapshotFile(directory: string): Promise<StoredSnapshot | null> {
  const path = join(directory, snapshotFileName);
  return readIfPresent(path, (handle) => readOpenSnapshot(handle, path));
}

async function readOpenSnapshot(handle: FileHandle, path: string): Promise<StoredSnapshot> {
  const size = (await handle.stat()).size;
  const header = new Uint8Array(headerBytes);
  if (size < headerBytes || (await readWhole(handle, header, 0)) !== null) throw damaged(path, `it is ${size} bytes, shorter than its ${headerBytes}-byte header`);
  const view = new DataView(header.buffer);
  const metaLength = view.getUint32(0, true);
  const stateLength = size - headerBytes - metaLength;
  if (stateLength < 0) throw damaged(path, `its header declares ${metaLength} bytes of meta, more than the file holds`);
  // Never written so (a state is one Uint8Array): damage, or not this file at all.
  if (stateLength > maxSnapshotStateBytes) throw damaged(path, `it would hold a state of ${stateLength} bytes, more than the ${maxSnapshotStateBytes} a snapshot can have`);
  const meta = new Uint8Array(metaLength);
  const state = new Uint8Array(stateLength);
  if ((await readWhole(handle, meta, headerBytes)) !== null || (await readWhole(handle, state, headerBytes + metaLength)) !== null) throw damaged(path, `it ended while it was being read (${size} bytes when the read began)`);
  if (checksumInPieces(state, crc32(meta)) !== view.getUint32(4, true)) throw damaged(path, 'the snapshot file fails its checksum');
  const decoded = decodeSnapshotMeta(meta);
  if (!decoded.ok) throw damaged(path, `its meta checks but does not decode (${decoded.reason}): written by another build?`);
  return { meta: decoded.value, state };
}

function damaged(path: string, detail: string): Error {
  return storageFailure('corruptRecord', `reading ${path}`, new Error(detail), 'FileRaftStorage');
}
