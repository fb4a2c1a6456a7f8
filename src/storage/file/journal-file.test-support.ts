// Builds journals byte for byte, for tests of what an open makes of them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journalFileName, journalFileOf, newJournalId } from './journal-format.ts';
import type { JournalRecord } from './journal-record.ts';

/** Writes `records` as a whole format-2 journal in `directory`. */
export function writeJournal(directory: string, records: readonly JournalRecord[]): void {
  writeFileSync(join(directory, journalFileName), Buffer.concat([...journalFileOf(newJournalId(), records)]));
}
