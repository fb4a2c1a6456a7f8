// Writes records in format 1 (journal-format1.ts), as builds before 2026-12-04 did, so tests can
// build the journals a migration must read.
import { crc32 } from 'node:zlib';
import { format1HeaderBytes } from './journal-format1.ts';
import { encodeRecord, type JournalRecord } from './journal-record.ts';

export function frameFormat1Record(record: JournalRecord): Uint8Array {
  const payload = encodeRecord(record);
  const framed = new Uint8Array(format1HeaderBytes + payload.length);
  const view = new DataView(framed.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  framed.set(payload, format1HeaderBytes);
  return framed;
}
