// Reading a journal (format 2, journal-format.ts) back at open. A crash can only damage what was
// being appended when it happened (every earlier record was fsynced before its call resolved), and
// a record is valid only where it was written (its anchor), so:
// - a record that is not valid with no valid record anywhere after it is a torn tail: dropped
//   (its call never resolved), never misread. Its bytes may hold anything, whole copies of
//   records included (commands are application bytes): none of them checks at its place;
// - a record that is not valid with a valid record after it is damage in acknowledged data, and
//   the journal is refused with a clear error: skipping it would lose acknowledged entries or
//   resurrect truncated ones. A header zeroed whole is found this way too;
// - the last record, when its header is damaged but its payload checksum matches the bytes to the
//   end of the file (a whole record, not a torn one), is refused as well;
// - a file header that fails its check is damage (the file is only ever created whole by rename),
//   never read as an empty log;
// - a record whose checksums hold but whose payload does not decode was written by another build:
//   refused, whatever follows it.
// The journal is read a chunk at a time (journal-reader.ts), so its size is not bounded by what
// one read may return; the rules above do not depend on where the chunks fall.
import { storageFailure } from '../storage-failure.ts';
import { anchorOf, decodeFileHeader, fileHeaderBytes, minPayloadBytes, recordHeaderBytes } from './journal-format.ts';
import { decodeRecord, type JournalRecord } from './journal-record.ts';
import type { JournalReader } from './journal-reader.ts';

type Frame =
  | { readonly type: 'valid'; readonly record: JournalRecord; readonly end: number }
  /** The header's anchor fails: its length cannot be trusted; its payload checksum may still hold. */
  | { readonly type: 'damagedHeader'; readonly payloadChecksum: number }
  | { readonly type: 'damagedPayload' }
  | { readonly type: 'undecodable'; readonly detail: string }
  /** A header whole and valid, or not whole, whose record runs past the end of the file. */
  | { readonly type: 'pastEnd' };

async function readFrame(reader: JournalReader, journalId: Uint8Array, offset: number): Promise<Frame> {
  if (offset + recordHeaderBytes > reader.size) return { type: 'pastEnd' };
  const header = await reader.bytes(offset, recordHeaderBytes);
  const view = new DataView(header.buffer, header.byteOffset, recordHeaderBytes);
  const length = view.getUint32(0, true);
  const payloadChecksum = view.getUint32(4, true);
  if (view.getUint32(8, true) !== anchorOf(journalId, offset, length, payloadChecksum)) return { type: 'damagedHeader', payloadChecksum };
  const end = offset + recordHeaderBytes + length;
  if (end > reader.size) return { type: 'pastEnd' };
  // Checksummed a chunk at a time before its bytes are gathered whole (a record may be larger
  // than a chunk): only a record that checks is worth them.
  if ((await reader.checksum(offset + recordHeaderBytes, length)) !== payloadChecksum) return { type: 'damagedPayload' };
  const decoded = decodeRecord(await reader.bytes(offset + recordHeaderBytes, length));
  if (!decoded.ok) return { type: 'undecodable', detail: `${decoded.reason}${decoded.detail ? `: ${decoded.detail}` : ''}` };
  return { type: 'valid', record: decoded.value, end };
}

/**
 * The first position from `from` where a valid record starts, or null. Positions whose length
 * field cannot be a record here (too short to decode, or running past the end) are passed over
 * without a checksum, so zeros and junk cost one look a byte; a torn tail is at most one record.
 */
async function findValidRecord(reader: JournalReader, journalId: Uint8Array, from: number): Promise<number | null> {
  let piece: Uint8Array | null = null;
  let pieceStart = 0;
  for (let position = from; position + recordHeaderBytes + minPayloadBytes <= reader.size; position += 1) {
    if (piece === null || position + recordHeaderBytes > pieceStart + piece.length) {
      pieceStart = position;
      piece = (await reader.bytes(position, Math.min(reader.size - position, Math.max(reader.chunkBytes, recordHeaderBytes)))).slice();
    }
    const view = new DataView(piece.buffer, piece.byteOffset + (position - pieceStart), recordHeaderBytes);
    const length = view.getUint32(0, true);
    if (length < minPayloadBytes || position + recordHeaderBytes + length > reader.size) continue;
    if (view.getUint32(8, true) !== anchorOf(journalId, position, length, view.getUint32(4, true))) continue;
    if ((await readFrame(reader, journalId, position)).type === 'valid') return position;
  }
  return null;
}

/** Whether the bytes from `offset`'s payload to the end of the file are a whole record checking against `payloadChecksum`. */
async function wholeToEnd(reader: JournalReader, offset: number, payloadChecksum: number): Promise<boolean> {
  const length = reader.size - offset - recordHeaderBytes;
  if (length < minPayloadBytes || (await reader.checksum(offset + recordHeaderBytes, length)) !== payloadChecksum) return false;
  return decodeRecord(await reader.bytes(offset + recordHeaderBytes, length)).ok;
}

function refusal(path: string, detail: string): Error {
  return storageFailure('corruptRecord', `opening ${path}`, new Error(detail), 'FileRaftStorage');
}

const describeFrame = (frame: Frame): string =>
  frame.type === 'damagedHeader' ? 'its header fails its anchor' : frame.type === 'damagedPayload' ? 'its payload fails its checksum' : 'it runs past the end of the journal';

/** The journal id its header names; refuses a header that fails its check. */
export async function readJournalId(reader: JournalReader, path: string): Promise<Uint8Array> {
  const header = decodeFileHeader(await reader.bytes(0, Math.min(reader.size, fileHeaderBytes)));
  if (!header.ok && header.newerFormat) throw storageFailure('versionTooNew', `opening ${path}`, new Error(header.detail), 'FileRaftStorage');
  if (!header.ok) throw refusal(path, `the journal's header is damaged or foreign (${header.detail}): refusing to open it as an empty log`);
  return header.journalId;
}

/**
 * Hands each valid record to `onRecord` in order (its commands are views into the reader's
 * buffer, good only until `onRecord` resolves: copy what is kept) and returns the journal's id
 * and the bytes of its header and whole, valid records; anything after them is a torn tail.
 */
export async function scanJournal(reader: JournalReader, path: string, onRecord: (record: JournalRecord) => Promise<void>): Promise<{ readonly journalId: Uint8Array; readonly validBytes: number }> {
  const journalId = await readJournalId(reader, path);
  let offset = fileHeaderBytes;
  for (;;) {
    if (offset === reader.size) return { journalId, validBytes: offset };
    const frame = await readFrame(reader, journalId, offset);
    if (frame.type === 'valid') {
      await onRecord(frame.record);
      offset = frame.end;
      continue;
    }
    if (frame.type === 'undecodable') throw refusal(path, `the record at byte ${offset} checks but does not decode (${frame.detail}): written by another build?`);
    const next = await findValidRecord(reader, journalId, offset + 1);
    if (next !== null) throw refusal(path, `the record at byte ${offset} is damaged (${describeFrame(frame)}) and valid records follow it (the next at byte ${next}): refusing to skip acknowledged data`);
    if (frame.type === 'damagedHeader' && (await wholeToEnd(reader, offset, frame.payloadChecksum))) {
      throw refusal(path, `the last record, at byte ${offset}, has a damaged header (its checksum matches the bytes to the end of the journal, a whole record): refusing to cut acknowledged data as a torn tail`);
    }
    return { journalId, validBytes: offset };
  }
}
