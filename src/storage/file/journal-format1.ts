// Format 1 of the journal (written until 2026-12-04), kept only to read and migrate it:
//   the file `journal`, records framed as [u32 length][u32 crc32 of the payload][payload].
import { crc32 } from 'node:zlib';

export const format1JournalFileName = 'journal';
/** A format-1 record's header: its length and its payload's checksum. */
export const format1HeaderBytes = 8;

const sentinelText = new TextEncoder().encode(
  'raftmesh: this directory holds journal.v2 (journal format 2, written by builds from 2026-12-04 on). This file is not a journal: it is here so that older builds refuse the directory instead of opening it as an empty log.\n',
);

/**
 * What lies in `journal` beside `journal.v2`: a format-1 record whose checksum is wrong on
 * purpose (its payload, the text above, says why), then a valid empty one, which a format-1 reader
 * refuses as damage with valid records after it ("refusing to skip acknowledged data"). Builds
 * from format 2 on recognise it byte for byte.
 */
export const format1Sentinel: Uint8Array = (() => {
  const validPayload = Uint8Array.of(1, 1, 0, 0, 0); // codec version 1, a batch, no flags, from index 0, no entries
  const bytes = new Uint8Array(2 * format1HeaderBytes + sentinelText.length + validPayload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, sentinelText.length, true);
  view.setUint32(4, ~crc32(sentinelText) >>> 0, true);
  bytes.set(sentinelText, format1HeaderBytes);
  const second = format1HeaderBytes + sentinelText.length;
  view.setUint32(second, validPayload.length, true);
  view.setUint32(second + 4, crc32(validPayload), true);
  bytes.set(validPayload, second + format1HeaderBytes);
  return bytes;
})();
