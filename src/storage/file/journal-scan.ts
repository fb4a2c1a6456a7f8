// Reading a journal back after a crash. A crash can only damage what was being appended when it
// happened (every earlier record was fsynced before its call resolved), so:
// - a record that runs past the end of the file, or fails its checksum with nothing valid after
//   it, is a torn tail: it is dropped (its call never resolved), never misread;
// - a record that fails its checksum or decoding with a VALID record after it is damage in the
//   middle of acknowledged data: the journal is refused with a clear error, because silently
//   skipping it would lose acknowledged entries or resurrect truncated ones.
import { storageFailure } from '../storage-failure.ts';
import { checksumMatches, decodeRecord, frameHeaderBytes, maxRecordBytes, type JournalRecord } from './journal-record.ts';

export interface ScannedJournal {
  readonly records: readonly JournalRecord[];
  /** Bytes of whole, valid records from the start; anything after them is a torn tail. */
  readonly validBytes: number;
}

type Frame = { readonly type: 'valid'; readonly record: JournalRecord; readonly end: number } | { readonly type: 'damaged'; readonly end: number; readonly detail: string } | { readonly type: 'pastEnd' };

function readFrame(bytes: Uint8Array, offset: number): Frame {
  if (offset + frameHeaderBytes > bytes.length) return { type: 'pastEnd' };
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, frameHeaderBytes);
  const length = view.getUint32(0, true);
  const checksum = view.getUint32(4, true);
  const end = offset + frameHeaderBytes + length;
  if (length > maxRecordBytes) return { type: 'damaged', end: bytes.length, detail: `declares ${length} bytes` };
  if (end > bytes.length) return { type: 'pastEnd' };
  const payload = bytes.subarray(offset + frameHeaderBytes, end);
  if (!checksumMatches(payload, checksum)) return { type: 'damaged', end, detail: 'checksum mismatch' };
  const decoded = decodeRecord(payload);
  if (!decoded.ok) return { type: 'damaged', end, detail: `${decoded.reason}${decoded.detail ? `: ${decoded.detail}` : ''}` };
  return { type: 'valid', record: decoded.value, end };
}

export function scanJournal(bytes: Uint8Array, path: string): ScannedJournal {
  const records: JournalRecord[] = [];
  let offset = 0;
  for (;;) {
    if (offset === bytes.length) return { records, validBytes: offset };
    const frame = readFrame(bytes, offset);
    if (frame.type === 'pastEnd') return { records, validBytes: offset };
    if (frame.type === 'damaged') {
      if (frame.end < bytes.length && readFrame(bytes, frame.end).type === 'valid') {
        throw storageFailure('corruptRecord', `opening ${path}`, new Error(`the record at byte ${offset} is damaged (${frame.detail}) and valid records follow it: refusing to skip acknowledged data`), 'FileRaftStorage');
      }
      return { records, validBytes: offset };
    }
    records.push(frame.record);
    offset = frame.end;
  }
}
