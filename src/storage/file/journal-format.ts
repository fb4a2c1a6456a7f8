// The journal's on-disk format (format 2, file `journal.v2`). Format 1 (`journal`, read only to
// migrate it: journal-format1-scan.ts) framed a record as [length][checksum][payload] and nothing
// else, so after a record whose header was damaged (zeroed, say) nothing told the records that
// followed from the bytes of a torn last append, whose commands are application bytes and may
// hold whole records: the scan had to treat both as a torn tail and dropped acknowledged data
// silently. And a file damaged from byte 0 opened as an empty log. Format 2 anchors each record:
//
//   file header, 20 bytes: "rmjl" | u32 format (2) | 8-byte journal id | u32 CRC-32 of the 16 before
//   each record:           u32 payload length | u32 CRC-32 of the payload | u32 anchor | payload
//
// where the anchor is the CRC-32 of (journal id, the record's own byte offset, length, payload
// CRC). A valid record can only be read at the offset it was written at, in the journal it was
// written to: a copy of a record inside a command, or a record of another journal (each file gets
// a fresh random id when it is created, at a migration or a rewrite), never checks. So a valid
// record after a damaged one proves the damage is in acknowledged data, and is refused; a torn
// tail has none. The file is only ever created whole (written, fsynced, renamed), so a header
// that fails its check is damage too, never a crash.
import { copyBytes } from '../../core/bytes.ts';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { encodeRecord, type JournalRecord } from './journal-record.ts';

export const journalFileName = 'journal.v2';
export const fileHeaderBytes = 20;
export const recordHeaderBytes = 12;
export const journalIdBytes = 8;
/** The format this build writes and reads (format 1 it only migrates). */
export const journalFormat = 2;
/** The largest payload a record may declare: what its u32 length can say (see maxRecordBytes in journal-record.ts). */
export const maxAnchoredPayloadBytes = 0xffff_ffff;
/** The smallest payload that decodes (version, kind, one varint): smaller lengths are never a record. */
export const minPayloadBytes = 3;

const magic = Uint8Array.of(0x72, 0x6d, 0x6a, 0x6c); // "rmjl"

export function newJournalId(): Uint8Array {
  return new Uint8Array(randomBytes(journalIdBytes));
}

export function encodeFileHeader(journalId: Uint8Array): Uint8Array {
  const header = new Uint8Array(fileHeaderBytes);
  const view = new DataView(header.buffer);
  header.set(magic, 0);
  view.setUint32(4, journalFormat, true);
  header.set(journalId, 8);
  view.setUint32(16, crc32(header.subarray(0, 16)), true);
  return header;
}

export type FileHeader = { readonly ok: true; readonly journalId: Uint8Array } | { readonly ok: false; readonly newerFormat: boolean; readonly detail: string };

export function decodeFileHeader(header: Uint8Array): FileHeader {
  if (header.length < fileHeaderBytes) return { ok: false, newerFormat: false, detail: `the file is ${header.length} bytes, shorter than its ${fileHeaderBytes}-byte header` };
  const view = new DataView(header.buffer, header.byteOffset, fileHeaderBytes);
  if (view.getUint32(16, true) !== crc32(header.subarray(0, 16))) return { ok: false, newerFormat: false, detail: 'its header fails its checksum' };
  if (!magic.every((byte, index) => header[index] === byte)) return { ok: false, newerFormat: false, detail: 'its header does not name a raftmesh journal' };
  const format = view.getUint32(4, true);
  if (format !== journalFormat) return { ok: false, newerFormat: format > journalFormat, detail: `it is in journal format ${format}, which this build cannot read (it reads format ${journalFormat})` };
  return { ok: true, journalId: copyBytes(header.subarray(8, 16)) };
}

/**
 * Anchors for one journal: the anchor of a record at `offset` binds its header to its place and
 * its journal (CRC-32 of the id, the offset as a u64, the length and the payload's checksum). One
 * buffer, reused: a search for a valid record after damage asks at many positions.
 */
export function anchorCalculator(journalId: Uint8Array): (offset: number, length: number, payloadChecksum: number) => number {
  const input = new Uint8Array(journalIdBytes + 16);
  const view = new DataView(input.buffer);
  input.set(journalId, 0);
  return (offset, length, payloadChecksum) => {
    view.setUint32(8, offset % 0x1_0000_0000, true);
    view.setUint32(12, Math.floor(offset / 0x1_0000_0000), true);
    view.setUint32(16, length, true);
    view.setUint32(20, payloadChecksum, true);
    return crc32(input);
  };
}

/** The anchor of one record at `offset` (see anchorCalculator). */
export function anchorOf(journalId: Uint8Array, offset: number, length: number, payloadChecksum: number): number {
  return anchorCalculator(journalId)(offset, length, payloadChecksum);
}

/** `record` framed for the byte `offset` of the journal `journalId`, ready to append there. */
export function frameAnchoredRecord(record: JournalRecord, journalId: Uint8Array, offset: number): Uint8Array {
  const payload = encodeRecord(record);
  if (payload.length > maxAnchoredPayloadBytes) throw new RangeError(`a journal record of ${payload.length} bytes exceeds ${maxAnchoredPayloadBytes}`);
  const framed = new Uint8Array(recordHeaderBytes + payload.length);
  const view = new DataView(framed.buffer);
  const checksum = crc32(payload);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, checksum, true);
  view.setUint32(8, anchorOf(journalId, offset, payload.length, checksum), true);
  framed.set(payload, recordHeaderBytes);
  return framed;
}

/**
 * A whole journal holding `records`: its header, then each record framed at its offset, one at a
 * time (a migrated log may be gigabytes: it is never framed whole in memory).
 */
export function* journalFileOf(journalId: Uint8Array, records: Iterable<JournalRecord>): Generator<Uint8Array> {
  const header = encodeFileHeader(journalId);
  yield header;
  let offset = header.length;
  for (const record of records) {
    const framed = frameAnchoredRecord(record, journalId, offset);
    offset += framed.length;
    yield framed;
  }
}
