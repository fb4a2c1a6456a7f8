// Review finding: a record whose payload is damaged at rest, followed by a torn append (a crash
// during the next call), is cut with the torn tail as if it had never resolved. But the torn
// record's HEADER checks (its anchor names the very offset where the damaged record ends), which
// proves the damaged record was whole and fsynced before the next call began: it was acknowledged.
// scanJournal only looks for a *valid* record after damage (findValidRecord), so a header-valid
// record that runs past the end of the file does not count, and acknowledged entries are dropped
// without an error (the open succeeds; the bytes only survive in journal.v2.torn).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { makeEntries } from '../storage/storage-conformance.ts';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { fileHeaderBytes, frameAnchoredRecord, journalFileName, recordHeaderBytes } from '../storage/file/journal-format.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-damaged-before-torn-');

async function outcomeOf(directory: string): Promise<string> {
  try {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    const last = (await storage.entries()).at(-1)?.index;
    await storage.close();
    return `opened through ${last}`;
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

describe('review: damage in the last acknowledged record, then a torn append', () => {
  it('refuses the journal (the torn record’s valid header proves the damaged one was acknowledged) instead of cutting it', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(makeEntries(1, 10, 1, 50));
    const afterFirst = statSync(join(directory, journalFileName)).size;
    await storage.appendEntries(makeEntries(11, 20, 1, 50)); // acknowledged
    await storage.close();
    const path = join(directory, journalFileName);
    const contents = readFileSync(path);
    const journalId = contents.subarray(8, 16);
    // The next call, torn by a crash: its header landed whole, its payload only in part.
    const next = frameAnchoredRecord({ kind: 'batch', entries: makeEntries(21, 30, 1, 50) }, journalId, contents.length);
    const torn = next.subarray(0, recordHeaderBytes + 40);
    // A bit flipped at rest inside the acknowledged second record's payload.
    const damagedAt = afterFirst + recordHeaderBytes + 100;
    contents[damagedAt] = (contents[damagedAt] ?? 0) ^ 0x01;
    writeFileSync(path, Buffer.concat([contents, torn]));
    expect(afterFirst).toBeGreaterThan(fileHeaderBytes);
    expect(await outcomeOf(directory)).toMatch(/^corruptRecord: /);
  });
});
