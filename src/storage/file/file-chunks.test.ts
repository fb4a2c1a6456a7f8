// Node takes at most 2 GiB − 1 bytes in one read or write (a larger write is refused; a larger
// read, in Node 20, aborts the process on a native assertion), and zlib's crc32 misreads a length
// of 4 GiB. A journal record or a snapshot may be up to 4 GiB: these check that every call stays
// within the bound, on a file handle that answers as Node does without the file ever existing (a
// buffer of 2 GiB + 4 KiB is allocated, never touched, so it costs no memory).
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bytesPerCall, checksumInPieces, writeWhole } from './file-chunks.ts';
import { JournalReader } from './journal-reader.ts';

const overTwoGiB = 2 ** 31 + 4_096;
/** The most Node's read and write take in one call. */
const mostPerCall = 2 ** 31 - 1;

/** A handle over `size` bytes that records each call's length and refuses one over Node's bound, as Node does. */
function boundedHandle(size: number): { readonly handle: FileHandle; readonly lengths: number[] } {
  const lengths: number[] = [];
  const refuseOverBound = (length: number): void => {
    lengths.push(length);
    if (length > mostPerCall) throw Object.assign(new RangeError(`The value of "length" is out of range. It must be >= 0 && <= ${mostPerCall}. Received ${length}`), { code: 'ERR_OUT_OF_RANGE' });
  };
  const handle = {
    stat: async () => ({ size }),
    read: async (_buffer: Uint8Array, _offset: number, length: number, position: number) => {
      refuseOverBound(length);
      return { bytesRead: Math.max(0, Math.min(length, size - position)) };
    },
    write: async (_buffer: Uint8Array, _offset: number, length: number) => {
      refuseOverBound(length);
      return { bytesWritten: length };
    },
  };
  return { handle: handle as unknown as FileHandle, lengths };
}

describe('file calls on more than 2 GiB', () => {
  it('reads a journal record over 2 GiB a bounded piece at a time (one read of it all would abort the process)', async () => {
    const { handle, lengths } = boundedHandle(overTwoGiB + 100);
    const reader = await JournalReader.open(handle, 4 * 1024 * 1024);
    const record = await reader.bytes(50, overTwoGiB);
    expect(record.length).toBe(overTwoGiB);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(mostPerCall);
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(overTwoGiB);
  });

  it('writes a snapshot or record over 2 GiB a bounded piece at a time (one write of it all is refused)', async () => {
    const { handle, lengths } = boundedHandle(0);
    await writeWhole(handle, new Uint8Array(overTwoGiB));
    expect(Math.max(...lengths)).toBeLessThanOrEqual(mostPerCall);
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(overTwoGiB);
  });

  it('checksums in pieces to the same CRC-32 as in one call', () => {
    const pattern = Uint8Array.from({ length: 1_021 }, (_, position) => (position * 7) % 256);
    const bytes = new Uint8Array(bytesPerCall + 1_000);
    for (let at = 0; at < bytes.length; at += pattern.length) bytes.set(pattern.subarray(0, Math.min(pattern.length, bytes.length - at)), at);
    expect(checksumInPieces(bytes)).toBe(crc32(bytes));
    expect(checksumInPieces(bytes.subarray(5), crc32(bytes.subarray(0, 5)))).toBe(crc32(bytes));
  });
});
