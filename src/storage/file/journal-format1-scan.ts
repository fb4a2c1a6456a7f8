// Reading a journal of format 1 (journal-format1.ts), only to migrate it to format 2
// (journal-format.ts). Format 1's records carry no anchor, so a header whose length and checksum
// are both damaged reads as a torn tail and the records after it are lost (format 2 refuses
// that); the rules this reads by are the best that format allows. A crash can only damage what
// was being appended when it happened (every earlier record was fsynced before its call resolved), so:
// - a record that runs past the end of the file, or fails its checksum with nothing valid after
//   it, is a torn tail: it is dropped (its call never resolved), never misread;
// - a record that fails its checksum or decoding with a VALID record after it is damage in the
//   middle of acknowledged data: the journal is refused with a clear error, because silently
//   skipping it would lose acknowledged entries or resurrect truncated ones. So is a record whose
//   length field alone is damaged, found by its intact checksum (journal-format1-resync.ts).
// The journal is read a chunk at a time (journal-reader.ts), so its size is not bounded by what
// one read may return; the rules above do not depend on where the chunks fall.
import { crc32 } from 'node:zlib';
import { storageFailure } from '../storage-failure.ts';
import { format1HeaderBytes } from './journal-format1.ts';
import { decodeRecord, maxRecordBytes, type JournalRecord } from './journal-record.ts';
import type { JournalReader } from './journal-reader.ts';
import { findRecordAfterDamagedLength } from './journal-format1-resync.ts';

const checksumMatches = (payload: Uint8Array, expected: number): boolean => crc32(payload) === expected;

type Frame = { readonly type: 'valid'; readonly record: JournalRecord; readonly end: number } | { readonly type: 'damaged'; readonly end: number; readonly detail: string } | { readonly type: 'pastEnd' };

async function readFrame(reader: JournalReader, offset: number): Promise<Frame> {
  if (offset + format1HeaderBytes > reader.size) return { type: 'pastEnd' };
  const header = await reader.bytes(offset, format1HeaderBytes);
  const view = new DataView(header.buffer, header.byteOffset, format1HeaderBytes);
  const length = view.getUint32(0, true);
  const checksum = view.getUint32(4, true);
  const end = offset + format1HeaderBytes + length;
  if (length > maxRecordBytes) return { type: 'damaged', end: reader.size, detail: `declares ${length} bytes` };
  if (end > reader.size) return { type: 'pastEnd' };
  // A record larger than a chunk is checksummed a chunk at a time before its bytes are gathered
  // whole: a damaged length may declare gigabytes, and only a record that checks is worth them.
  const whole = length > reader.chunkBytes;
  if (whole && (await reader.checksum(offset + format1HeaderBytes, length)) !== checksum) return { type: 'damaged', end, detail: 'checksum mismatch' };
  const payload = await reader.bytes(offset + format1HeaderBytes, length);
  if (!whole && !checksumMatches(payload, checksum)) return { type: 'damaged', end, detail: 'checksum mismatch' };
  const decoded = decodeRecord(payload);
  if (!decoded.ok) return { type: 'damaged', end, detail: `${decoded.reason}${decoded.detail ? `: ${decoded.detail}` : ''}` };
  return { type: 'valid', record: decoded.value, end };
}

function damagedMiddle(path: string, offset: number, detail: string): Error {
  return storageFailure('corruptRecord', `opening ${path}`, new Error(`the record at byte ${offset} is damaged (${detail}) and valid records follow it: refusing to skip acknowledged data`), 'FileRaftStorage');
}

function damagedLast(path: string, offset: number): Error {
  return storageFailure('corruptRecord', `opening ${path}`, new Error(`the last record, at byte ${offset}, has a damaged length field (its checksum matches the bytes to the end of the journal, a whole record): refusing to cut acknowledged data as a torn tail`), 'FileRaftStorage');
}

/**
 * Hands each valid record to `onRecord` in order (its commands are views into the reader's
 * buffer, good only until `onRecord` resolves: copy what is kept) and returns the bytes of whole,
 * valid records from the start; anything after them is a torn tail.
 */
export async function scanFormat1Journal(reader: JournalReader, path: string, onRecord: (record: JournalRecord) => Promise<void>): Promise<number> {
  let offset = 0;
  for (;;) {
    if (offset === reader.size) return offset;
    const frame = await readFrame(reader, offset);
    if (frame.type !== 'valid') {
      if (frame.type === 'damaged' && frame.end < reader.size && (await readFrame(reader, frame.end)).type === 'valid') throw damagedMiddle(path, offset, frame.detail);
      const next = await findRecordAfterDamagedLength(
        reader,
        offset,
        async (position) => (await readFrame(reader, position)).type === 'valid',
        async (start, end) => end - start <= maxRecordBytes && decodeRecord(await reader.bytes(start, end - start)).ok,
      );
      if (next === reader.size) throw damagedLast(path, offset);
      if (next !== null) throw damagedMiddle(path, offset, `its length field: its checksum matches the ${next - offset - format1HeaderBytes} bytes before the valid record at byte ${next}`);
      return offset;
    }
    await onRecord(frame.record);
    offset = frame.end;
  }
}
