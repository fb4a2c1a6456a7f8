// Format 1 only (journal-format1-scan.ts). A record whose LENGTH field alone was damaged (a bit flip, a bad sector in the header) hides
// where the next record starts: read as declared, it runs past the end of the file or fails its
// checksum, exactly like a torn tail, and every acknowledged record after it used to be dropped
// with it, silently. Its checksum and payload are intact, though, so the true end is findable:
// the position p after which the bytes since the header checksum to the header's CRC, and where a
// valid record starts.
//
// Why this does not mistake a torn tail for damage: a torn tail is a prefix of ONE record (only
// the last append can tear: every earlier one was fsynced before the next began), perhaps followed
// by zeros or junk where blocks were never written. A payload prefix whose CRC equals the whole
// payload's is a 32-bit coincidence, and it would also need a valid record (length, CRC and a
// payload that decodes) right after it, inside the torn bytes. An unanchored search ("is there a
// valid record anywhere after the bad one?") would not be sound: a torn record's commands are
// application bytes and may well hold a whole journal record (an app that stores journals).
// Zeros never count: a zero header declares an empty payload, which does not decode.
//
// What it does not catch: damage to the header's CRC field as well as its length (no anchor:
// format 2, journal-format.ts, has one).
import { format1HeaderBytes } from './journal-format1.ts';
import type { JournalReader } from './journal-reader.ts';

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
})();

/**
 * Where the bad record at `offset` really ends once its length is set aside: the first p past its
 * header with CRC-32(bytes from the header's end to p) equal to the header's checksum and either a
 * valid record starting at p (`isValidRecordAt(p)`), or p the end of the journal with those bytes
 * a whole record (`isWholeRecord(start, end)`: the LAST record's length damaged, which would
 * otherwise read as a torn tail and be cut; after a compaction the journal is one record, written
 * by rename, that no crash can tear). Null when there is none. One pass over the rest of the
 * journal (a byte at a time, since every prefix's CRC is compared), so a torn tail costs a pass
 * over itself.
 */
export async function findRecordAfterDamagedLength(
  reader: JournalReader,
  offset: number,
  isValidRecordAt: (position: number) => Promise<boolean>,
  isWholeRecord: (start: number, end: number) => Promise<boolean>,
): Promise<number | null> {
  if (offset + format1HeaderBytes >= reader.size) return null;
  const header = await reader.bytes(offset, format1HeaderBytes);
  const expected = new DataView(header.buffer, header.byteOffset, format1HeaderBytes).getUint32(4, true);
  const payloadStart = offset + format1HeaderBytes;
  // A record after p needs its header and at least one payload byte.
  const lastCandidate = reader.size - format1HeaderBytes - 1;
  let state = 0xffffffff; // the CRC of the bytes from the header's end to `position`, unfinished
  let piece: Uint8Array | null = null;
  let pieceStart = 0;
  for (let position = payloadStart; position <= reader.size; position += 1) {
    if ((state ^ 0xffffffff) >>> 0 === expected) {
      if (position === reader.size) return (await isWholeRecord(payloadStart, position)) ? position : null;
      if (position <= lastCandidate && (await isValidRecordAt(position))) return position;
      piece = null; // that check's reads may have moved the reader's window under `piece`
    }
    if (position === reader.size) break;
    if (piece === null || position >= pieceStart + piece.length) {
      piece = await reader.bytes(position, Math.min(reader.chunkBytes, reader.size - position));
      pieceStart = position;
    }
    state = (crcTable[(state ^ (piece[position - pieceStart] ?? 0)) & 0xff] ?? 0) ^ (state >>> 8);
  }
  return null;
}
