// Format 1 of the journal (written until 2026-12-04), kept only to read and migrate it:
//   the file `journal`, records framed as [u32 length][u32 crc32 of the payload][payload].
export const format1JournalFileName = 'journal';
/** A format-1 record's header: its length and its payload's checksum. */
export const format1HeaderBytes = 8;
