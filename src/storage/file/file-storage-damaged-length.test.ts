// A record whose length field alone is damaged used to read as a torn tail: the scanner could not
// find the next record, so every acknowledged record after it was dropped, silently. It is found
// now by the record's intact checksum and refused (corruptRecord), the last record's too (its
// bytes to the end of the file check and decode: whole, not torn); a real torn tail — even one
// whose bytes hold a whole journal record inside an application's command, or zeros where blocks
// were never written — is still dropped.
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import { frameRecord } from './journal-record.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-damaged-length-');

async function outcomeOf(directory: string, options: InternalFileStorageOptions = { fsync: false }): Promise<string> {
  try {
    const storage = await FileRaftStorage.open(directory, options);
    const last = (await storage.entries()).at(-1)?.index;
    await storage.close();
    return `opened through ${last}`;
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

/** Five calls of ten entries (commands of 50..250 bytes); the journal's size after each. */
async function writeFiveBatches(directory: string): Promise<number[]> {
  const storage = await FileRaftStorage.open(directory, { fsync: false });
  const sizes: number[] = [];
  for (let call = 0; call < 5; call += 1) {
    await storage.appendEntries(makeEntries(call * 10 + 1, call * 10 + 10, 1, 50 * (call + 1)));
    sizes.push(statSync(join(directory, 'journal')).size);
  }
  await storage.close();
  return sizes;
}

function setLength(path: string, recordAt: number, length: number): void {
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(length, recordAt);
  writeFileSync(path, bytes);
}

describe('FileRaftStorage and a damaged length field', () => {
  it('refuses a record whose length runs past the end of the file when valid records follow it', async () => {
    for (const chunk of [7, 64, 4_096, 4 * 1024 * 1024]) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      setLength(join(directory, 'journal'), sizes[1] ?? 0, 0x7fff_0000); // the third record's
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk })).toMatch(
        new RegExp(`^corruptRecord: .*record at byte ${sizes[1]} is damaged \\(its length field: its checksum matches the ${(sizes[2] ?? 0) - (sizes[1] ?? 0) - 8} bytes before the valid record at byte ${sizes[2]}\\) and valid records follow it`),
      );
      expect(statSync(join(directory, 'journal')).size).toBe(sizes[4]); // refused: nothing cut
    }
  });

  it('refuses a record whose length ends inside the file, off any record, when valid records follow it', async () => {
    for (const damage of [-1, +1, +37, -300]) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      const trueLength = (sizes[1] ?? 0) - (sizes[0] ?? 0) - 8;
      setLength(join(directory, 'journal'), sizes[0] ?? 0, trueLength + damage); // the second record's
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: 64 })).toMatch(/^corruptRecord: .*damaged \(.*\) and valid records follow it/);
    }
  });

  it('refuses the LAST record with a damaged length: its bytes to the end of the file are a whole record, not a torn one', async () => {
    for (const [damage, chunk] of [[+4_096, 64], [-1, 7], [+1, 4 * 1024 * 1024]] as const) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      const trueLength = (sizes[4] ?? 0) - (sizes[3] ?? 0) - 8;
      setLength(join(directory, 'journal'), sizes[3] ?? 0, trueLength + damage); // the fifth and last record's
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk })).toMatch(new RegExp(`^corruptRecord: .*the last record, at byte ${sizes[3]}, has a damaged length field`));
      expect(statSync(join(directory, 'journal')).size).toBe(sizes[4]); // refused: nothing cut
    }
  });

  it('refuses a compacted journal (one reset record, written by rename: never torn) whose length is damaged, instead of opening it empty', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false, compactAfterBytes: 1 });
    await storage.saveTermAndVotedFor(7, null);
    await storage.appendEntries(makeEntries(1, 40, 7, 20));
    await storage.discardLogPrefix(30); // mostly dead past the threshold: rewritten as one reset record
    await storage.close();
    const path = join(directory, 'journal');
    const size = statSync(path).size;
    expect(readFileSync(path).readUInt32LE(0)).toBe(size - 8); // one record
    setLength(path, 0, size - 8 + 1);
    expect(await outcomeOf(directory)).toMatch(/^corruptRecord: .*the last record, at byte 0, has a damaged length field/);
    expect(statSync(path).size).toBe(size);
  });

  it('still drops a torn tail whose torn record holds a whole journal record in a command', async () => {
    const directory = freshDirectory();
    const sizes = await writeFiveBatches(directory);
    // An application storing journals: a command that is itself a valid framed record.
    const nested = frameRecord({ kind: 'batch', entries: makeEntries(51, 52, 1) });
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries([{ index: 51, term: 1, command: Uint8Array.from([...nested, ...new Uint8Array(100)]), isNoOp: false }]);
    await storage.close();
    const tornAt = (sizes[4] ?? 0) + 8 + 20 + nested.length + 40; // inside the padding after the nested record
    expect(tornAt).toBeLessThan(statSync(join(directory, 'journal')).size);
    truncateSync(join(directory, 'journal'), tornAt);
    expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: 64 })).toBe('opened through 50');
    expect(statSync(join(directory, 'journal')).size).toBe(sizes[4]);
  });

  it('still drops a tail of zeros (blocks a crash left unwritten), whatever the chunk size', async () => {
    for (const chunk of [5, 4 * 1024 * 1024]) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      appendFileSync(join(directory, 'journal'), new Uint8Array(8_192));
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk })).toBe('opened through 50');
      expect(statSync(join(directory, 'journal')).size).toBe(sizes[4]);
    }
  });
});
