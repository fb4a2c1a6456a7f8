// Reading a journal (format 2, journal-format.ts) back at open. A crash can only damage what was
// being appended when it happened (every earlier record was fsynced before its call resolved), and
// a record is valid only where it was written (its anchor), so:
// - a record that is not valid with no valid record anywhere after it is a torn tail: dropped
//   (its call never resolved), never misread. Its bytes may hold anything, whole copies of
//   records included (commands are application bytes): none of them checks at its place;
// - a record that is not valid with a valid record after it is damage in acknowledged data, and
//   the journal is refused with a clear error: skipping it would lose acknowledged entries or
//   resurrect truncated ones. A header zeroed whole is found this way too;
// - so is one followed by a torn append whose header checks (it runs past the end of the file):
//   that append began after the damaged record's call resolved, so the damaged record was whole
//   and acknowledged, and cutting both as a torn tail lost it without a word (an outside review);
// - the last record, when its header is damaged but its payload checksum matches the bytes to the
//   end of the file (a whole record, not a torn one), is refused as well;
// - a file header that fails its check is damage (the file is only ever created whole by rename),
//   never read as an empty log;
// - a record whose checksums hold but whose payload does not decode was written by another build:
//   refused, whatever follows it.
// The journal is read a chunk at a time (journal-reader.ts), so its size is not bounded by what
// one read may return; the rules above do not depend on where the chunks fall.
import { copyBytes } from '../../core/bytes.ts';
import { storageFailure } from '../storage-failure.ts';
import { codecVersion } from '../../codec/limits.ts';
import { anchorCalculator, anchorOf, decodeFileHeader, fileHeaderBytes, minPayloadBytes, recordHeaderBytes } from './journal-format.ts';
import { decodeRecord, recordKindCodes, type JournalRecord } from './journal-record.ts';
import type { JournalReader } from './journal-reader.ts';

type Frame =
  | { readonly type: 'valid'; readonly record: JournalRecord; readonly end: number }
  /** The header's anchor fails: its length cannot be trusted; its payload checksum may still hold. */
  | { readonly type: 'damagedHeader'; readonly length: number; readonly payloadChecksum: number; readonly anchor: number }
  /** The header checks (so its length holds): the payload does not. */
  | { readonly type: 'damagedPayload'; readonly end: number }
  | { readonly type: 'undecodable'; readonly detail: string }
  /** Less than a header is left: the last append, torn. */
  | { readonly type: 'pastEnd' }
  /** A header that checks declares more bytes than are left: the last append, torn after its header landed. */
  | { readonly type: 'tornAfterHeader' };

async function readFrame(reader: JournalReader, journalId: Uint8Array, offset: number): Promise<Frame> {
  if (offset + recordHeaderBytes > reader.size) return { type: 'pastEnd' };
  const header = await reader.bytes(offset, recordHeaderBytes);
  const view = new DataView(header.buffer, header.byteOffset, recordHeaderBytes);
  const length = view.getUint32(0, true);
  const payloadChecksum = view.getUint32(4, true);
  const anchor = view.getUint32(8, true);
  if (anchor !== anchorOf(journalId, offset, length, payloadChecksum)) return { type: 'damagedHeader', length, payloadChecksum, anchor };
  const end = offset + recordHeaderBytes + length;
  if (end > reader.size) return { type: 'tornAfterHeader' };
  // Checksummed a chunk at a time before its bytes are gathered whole (a record may be larger
  // than a chunk): only a record that checks is worth them.
  if ((await reader.checksum(offset + recordHeaderBytes, length)) !== payloadChecksum) return { type: 'damagedPayload', end };
  const decoded = decodeRecord(await reader.bytes(offset + recordHeaderBytes, length));
  if (!decoded.ok) return { type: 'undecodable', detail: `${decoded.reason}${decoded.detail ? `: ${decoded.detail}` : ''}` };
  return { type: 'valid', record: decoded.value, end };
}

/** What a search after damage found: a record that proves the damaged one was followed by another call. */
interface LaterRecord {
  readonly position: number;
  /** 'valid': whole; 'torn': its header checks but it runs past the end (the last append, torn by a crash). */
  readonly kind: 'valid' | 'torn';
}

/**
 * The first position from `from` where a record of this journal starts, whole or torn after its
 * header, or null. Cheap tests first, with no allocation: a payload that starts as one does (the
 * codec's version, a known kind) where those bytes exist; only then the anchor, and only then the
 * payload's checksum. Zeros and most junk cost one look a byte. The search stops at the first
 * such record; a header that checks says where its record ends, so a journal without damage
 * never needs it.
 */
async function findLaterRecord(reader: JournalReader, journalId: Uint8Array, from: number): Promise<LaterRecord | null> {
  const anchors = anchorCalculator(journalId);
  let piece: Uint8Array | null = null;
  let pieceStart = 0;
  const lookahead = recordHeaderBytes + 2;
  for (let position = from; position + recordHeaderBytes <= reader.size; position += 1) {
    if (piece === null || (position + lookahead > pieceStart + piece.length && pieceStart + piece.length < reader.size)) {
      pieceStart = position;
      piece = copyBytes(await reader.bytes(position, Math.min(reader.size - position, Math.max(reader.chunkBytes, lookahead))));
    }
    const at = position - pieceStart;
    // A torn append may have landed its header and less than two payload bytes: nothing to test there.
    const payloadStarts = at + lookahead <= piece.length;
    if (payloadStarts && (piece[at + recordHeaderBytes] !== codecVersion || !recordKindCodes.has(piece[at + recordHeaderBytes + 1] ?? 0))) continue;
    const length = readUint32(piece, at);
    if (length < minPayloadBytes) continue;
    if (readUint32(piece, at + 8) !== anchors(position, length, readUint32(piece, at + 4))) continue;
    const frame = await readFrame(reader, journalId, position);
    if (frame.type === 'valid') return { position, kind: 'valid' };
    if (frame.type === 'tornAfterHeader') return { position, kind: 'torn' };
  }
  return null;
}

const readUint32 = (bytes: Uint8Array, at: number): number => ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;

/**
 * Whether the last record, its header failing its anchor, is whole all the same: its bytes to the
 * end of the file are a payload that decodes, and its checksum field, or its anchor over that
 * length and the payload's actual checksum, vouches for them (so only its length, or only its
 * checksum field, was damaged). A torn append cannot do that.
 */
async function wholeToEnd(reader: JournalReader, journalId: Uint8Array, offset: number, frame: Extract<Frame, { type: 'damagedHeader' }>): Promise<boolean> {
  const length = reader.size - offset - recordHeaderBytes;
  if (length < minPayloadBytes) return false;
  const checksum = await reader.checksum(offset + recordHeaderBytes, length);
  const vouched = checksum === frame.payloadChecksum || anchorOf(journalId, offset, length, checksum) === frame.anchor;
  return vouched && decodeRecord(await reader.bytes(offset + recordHeaderBytes, length)).ok;
}

function refusal(path: string, detail: string): Error {
  return storageFailure('corruptRecord', `opening ${path}`, new Error(detail), 'FileRaftStorage');
}

const describeFrame = (frame: Extract<Frame, { type: 'damagedHeader' | 'damagedPayload' }>): string => (frame.type === 'damagedHeader' ? 'its header fails its anchor' : 'its payload fails its checksum');

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
    // Less than a header, or a header that checks and runs past the end: the last append, torn.
    if (frame.type === 'pastEnd' || frame.type === 'tornAfterHeader') return { journalId, validBytes: offset };
    const later = await findLaterRecord(reader, journalId, frame.type === 'damagedPayload' ? frame.end : offset + 1);
    if (later?.kind === 'valid') throw refusal(path, `the record at byte ${offset} is damaged (${describeFrame(frame)}) and valid records follow it (the next at byte ${later.position}): refusing to skip acknowledged data`);
    // Calls run one at a time, and each resolves only once its record is fsynced: a later append,
    // even one a crash tore, began after the damaged record's call had resolved.
    if (later?.kind === 'torn') throw refusal(path, `the record at byte ${offset} is damaged (${describeFrame(frame)}) and a later append begins at byte ${later.position} (its header checks; a crash tore its payload), so the damaged record was whole and acknowledged: refusing to cut it as a torn tail`);
    if (frame.type === 'damagedHeader' && (await wholeToEnd(reader, journalId, offset, frame))) {
      throw refusal(path, `the last record, at byte ${offset}, has a damaged header (its payload, to the end of the journal, is whole and vouched for by its checksum or its anchor): refusing to cut acknowledged data as a torn tail`);
    }
    return { journalId, validBytes: offset };
  }
}
