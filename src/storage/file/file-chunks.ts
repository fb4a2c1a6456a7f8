// Node's file calls and crc32 take bounded lengths: a read or write of 2 GiB or more is refused
// (a write with ERR_OUT_OF_RANGE; a read, in Node 20, aborts the whole process on a native
// assertion), and zlib's crc32 counts a length of 4 GiB as 0 and answers the checksum of nothing.
// A snapshot, or a journal record, may be up to 4 GiB: every read, write and checksum of one goes
// through these, a bounded piece per call.
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/** Bytes per read, write or crc32 call: well below 2 GiB, large enough that a big file takes few calls. */
export const bytesPerCall = 256 * 1024 * 1024;

/** The CRC-32 of `bytes`, continuing from `initial`, a piece at a time. */
export function checksumInPieces(bytes: Uint8Array, initial = 0): number {
  let checksum = initial;
  for (let done = 0; done < bytes.length; done += bytesPerCall) checksum = crc32(bytes.subarray(done, Math.min(bytes.length, done + bytesPerCall)), checksum);
  return checksum;
}

/**
 * Fills `target` from the file's byte `position`; read(2) may return fewer bytes than asked. Null
 * when done; otherwise the byte at which the file ended first (it is shorter than expected).
 */
export async function readWhole(handle: FileHandle, target: Uint8Array, position: number): Promise<number | null> {
  for (let done = 0; done < target.length; ) {
    const { bytesRead } = await handle.read(target, done, Math.min(bytesPerCall, target.length - done), position + done);
    if (bytesRead <= 0) return position + done;
    done += bytesRead;
  }
  return null;
}

/** write(2) may take fewer bytes than asked (a nearly full disk, a signal): write the rest too. */
export async function writeWhole(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, Math.min(bytesPerCall, bytes.length - offset));
    if (bytesWritten <= 0) throw new Error(`the file took no bytes of ${bytes.length} at ${offset}`);
    offset += bytesWritten;
  }
}
