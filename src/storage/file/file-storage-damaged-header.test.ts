// Damage to a record's header, or to the journal's own header. In format 1 a header whose length
// and checksum were both damaged (zeroed, say) read as a torn tail: every acknowledged record after
// it was dropped, silently, and a journal damaged from byte 0 opened as an empty log. Format 2
// anchors every record to its offset and its journal (journal-format.ts), so the records after a
// damaged header are found and the journal is refused (corruptRecord); the last record's damaged
// header too when its bytes to the end of the file are whole; a damaged file header is refused. A
// real torn tail — even one whose bytes hold whole journal records inside an application's
// command, or zeros where blocks were never written — is still dropped.
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import { fileHeaderBytes, frameAnchoredRecord, journalFileName, newJournalId, recordHeaderBytes } from './journal-format.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-damaged-header-');

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
    sizes.push(statSync(join(directory, journalFileName)).size);
  }
  await storage.close();
  return sizes;
}

function overwrite(path: string, at: number, bytes: Uint8Array): void {
  const contents = readFileSync(path);
  contents.set(bytes, at);
  writeFileSync(path, contents);
}

function lengthField(length: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, length, true);
  return bytes;
}

const journalOf = (directory: string): string => join(directory, journalFileName);

describe('FileRaftStorage and a damaged record header', () => {
  it('refuses a header zeroed whole (length, checksum and anchor) when valid records follow it, wherever the chunks fall', async () => {
    for (const chunk of [1, 7, 64, 4_096, 4 * 1024 * 1024]) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      overwrite(journalOf(directory), sizes[1] ?? 0, new Uint8Array(recordHeaderBytes)); // the third record's
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk })).toMatch(
        new RegExp(`^corruptRecord: .*record at byte ${sizes[1]} is damaged \\(its header fails its anchor\\) and valid records follow it \\(the next at byte ${sizes[2]}\\)`),
      );
      expect(statSync(journalOf(directory)).size).toBe(sizes[4]); // refused: nothing cut
    }
  });

  it('refuses a record whose length alone is damaged (past the end, or off by a little) when valid records follow it', async () => {
    for (const [record, length] of [[1, 0x7fff_0000], [0, 0], [0, 1], [0, 299]] as const) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      const at = record === 0 ? fileHeaderBytes : (sizes[record - 1] ?? 0);
      overwrite(journalOf(directory), at, lengthField(length));
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: 64 })).toMatch(new RegExp(`^corruptRecord: .*record at byte ${at} is damaged \\(its header fails its anchor\\) and valid records follow it`));
    }
  });

  it('refuses damage to the payload, or a torn-looking record, when valid records follow it', async () => {
    const directory = freshDirectory();
    const sizes = await writeFiveBatches(directory);
    const contents = readFileSync(journalOf(directory));
    const at = (sizes[2] ?? 0) + recordHeaderBytes + 100; // inside the fourth record's payload
    contents[at] = (contents[at] ?? 0) ^ 0x01;
    writeFileSync(journalOf(directory), contents);
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^corruptRecord: .*record at byte ${sizes[2]} is damaged \\(its payload fails its checksum\\) and valid records follow it \\(the next at byte ${sizes[3]}\\)`));
  });

  it('refuses the LAST record with a damaged header when its payload checksum still matches the bytes to the end of the file (whole, not torn)', async () => {
    for (const [damage, chunk] of [[0x7fff_0000, 64], [-1, 7], [+1, 4 * 1024 * 1024]] as const) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      const trueLength = (sizes[4] ?? 0) - (sizes[3] ?? 0) - recordHeaderBytes;
      overwrite(journalOf(directory), sizes[3] ?? 0, lengthField(damage > 1 ? damage : trueLength + damage)); // the fifth and last record's
      expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk })).toMatch(new RegExp(`^corruptRecord: .*the last record, at byte ${sizes[3]}, has a damaged header`));
      expect(statSync(journalOf(directory)).size).toBe(sizes[4]); // refused: nothing cut
    }
  });

  it('refuses the LAST record when only its checksum field is damaged: its anchor, over the bytes to the end of the file, vouches for them', async () => {
    const directory = freshDirectory();
    const sizes = await writeFiveBatches(directory);
    const contents = readFileSync(journalOf(directory));
    const at = (sizes[3] ?? 0) + 4;
    contents[at] = (contents[at] ?? 0) ^ 0x10;
    writeFileSync(journalOf(directory), contents);
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^corruptRecord: .*the last record, at byte ${sizes[3]}, has a damaged header`));
  });

  it('keeps the bytes of a torn tail it cuts in journal.v2.torn: damage to the last record’s payload reads the same, and must not be destroyed', async () => {
    const directory = freshDirectory();
    const sizes = await writeFiveBatches(directory);
    const contents = readFileSync(journalOf(directory));
    const at = (sizes[3] ?? 0) + recordHeaderBytes + 50;
    contents[at] = (contents[at] ?? 0) ^ 0x01; // inside the last record's payload
    writeFileSync(journalOf(directory), contents);
    expect(await outcomeOf(directory)).toBe('opened through 40');
    expect(statSync(journalOf(directory)).size).toBe(sizes[3]);
    expect(readFileSync(`${journalOf(directory)}.torn`).equals(contents.subarray(sizes[3] ?? 0))).toBe(true);
  });

  it('refuses a compacted journal (its header and records written by rename: never torn) whose only record’s length is damaged, instead of opening it empty', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false, compactAfterBytes: 1 });
    await storage.saveTermAndVotedFor(7, null);
    await storage.appendEntries(makeEntries(1, 40, 7, 20));
    await storage.discardLogPrefix(30); // mostly dead past the threshold: rewritten as its live state
    await storage.close();
    const path = journalOf(directory);
    const size = statSync(path).size;
    expect(readFileSync(path).readUInt32LE(fileHeaderBytes)).toBe(size - fileHeaderBytes - recordHeaderBytes); // one record
    overwrite(path, fileHeaderBytes, lengthField(size - fileHeaderBytes - recordHeaderBytes + 1));
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^corruptRecord: .*the last record, at byte ${fileHeaderBytes}, has a damaged header`));
    expect(statSync(path).size).toBe(size);
  });
});

describe('FileRaftStorage and a damaged journal header', () => {
  it('refuses a journal damaged from its first byte instead of opening it as an empty log (term 0, no vote)', async () => {
    for (const damaged of [4, fileHeaderBytes, fileHeaderBytes + 40]) {
      const directory = freshDirectory();
      const storage = await FileRaftStorage.open(directory, { fsync: false });
      await storage.saveTermAndVotedFor(9, null);
      await storage.appendEntries(makeEntries(1, 3, 9));
      await storage.close();
      const size = statSync(journalOf(directory)).size;
      overwrite(journalOf(directory), 0, new Uint8Array(damaged));
      expect(await outcomeOf(directory)).toMatch(/^corruptRecord: .*the journal's header is damaged or foreign \(its header fails its checksum\): refusing to open it as an empty log/);
      expect(statSync(journalOf(directory)).size).toBe(size);
    }
  });

  it('refuses a journal shorter than its header, and one of a format this build does not read, naming it', async () => {
    const short = freshDirectory();
    await writeFiveBatches(short);
    truncateSync(journalOf(short), fileHeaderBytes - 1);
    expect(await outcomeOf(short)).toMatch(/^corruptRecord: .*the file is 19 bytes, shorter than its 20-byte header/);
    const future = freshDirectory();
    await writeFiveBatches(future);
    const contents = readFileSync(journalOf(future));
    contents.writeUInt32LE(3, 4);
    const { crc32 } = await import('node:zlib');
    contents.writeUInt32LE(crc32(contents.subarray(0, 16)), 16);
    writeFileSync(journalOf(future), contents);
    expect(await outcomeOf(future)).toMatch(/^versionTooNew: .*it is in journal format 3, which this build cannot read \(it reads format 2\)/);
  });
});

describe('FileRaftStorage and a torn tail, with the anchors', () => {
  it('drops a torn tail whose command holds copies of this journal’s own records and records framed for the very offset they sit at in another journal', async () => {
    const directory = freshDirectory();
    const sizes = await writeFiveBatches(directory);
    const path = journalOf(directory);
    const ownRecord = readFileSync(path).subarray(sizes[3] ?? 0, sizes[4] ?? 0); // the fifth record, copied
    const foreignLength = frameAnchoredRecord({ kind: 'batch', entries: makeEntries(51, 52, 1) }, newJournalId(), 0).length;
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries([{ index: 51, term: 1, command: Uint8Array.from([...ownRecord, ...new Uint8Array(foreignLength + 100)]), isNoOp: false }]);
    await storage.close();
    // Another journal's record, framed for the very offset it now sits at (the torn record is
    // invalid anyway, so its bytes may be patched).
    const foreignAt = readFileSync(path).indexOf(ownRecord, (sizes[4] ?? 0) + 1) + ownRecord.length;
    expect(foreignAt).toBeGreaterThan(sizes[4] ?? 0);
    overwrite(path, foreignAt, frameAnchoredRecord({ kind: 'batch', entries: makeEntries(51, 52, 1) }, newJournalId(), foreignAt));
    const tornAt = statSync(path).size - 40; // inside the padding after the copies
    truncateSync(path, tornAt);
    expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: 64 })).toBe('opened through 50');
    expect(statSync(path).size).toBe(sizes[4]);
  });

  it('still drops a tail of zeros (blocks a crash left unwritten), or garbage, whatever the chunk size', async () => {
    for (const chunk of [5, 4 * 1024 * 1024]) {
      for (const tail of [new Uint8Array(8_192), Uint8Array.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, ...new Array(200).fill(9)])]) {
        const directory = freshDirectory();
        const sizes = await writeFiveBatches(directory);
        appendFileSync(journalOf(directory), tail);
        expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk })).toBe('opened through 50');
        expect(statSync(journalOf(directory)).size).toBe(sizes[4]);
      }
    }
  });

  it('refuses damage in the last acknowledged record when a torn append follows it whose header checks: that append began after the damaged record was acknowledged', async () => {
    // Damage to the fifth record's payload, or to its length field; then the sixth call, torn by a
    // crash: its header landed whole, and none, one or forty bytes of its payload.
    const damages = [(at: number) => ({ at: at + recordHeaderBytes + 100, kind: 'its payload fails its checksum' }), (at: number) => ({ at, kind: 'its header fails its anchor' })];
    for (const damage of damages) {
      for (const [landed, chunk] of [[0, 1], [1, 7], [40, 4_096], [40, 4 * 1024 * 1024]] as const) {
        const directory = freshDirectory();
        const sizes = await writeFiveBatches(directory);
        const path = journalOf(directory);
        const contents = readFileSync(path);
        const torn = frameAnchoredRecord({ kind: 'batch', entries: makeEntries(51, 60, 1, 50) }, contents.subarray(8, 16), contents.length).subarray(0, recordHeaderBytes + landed);
        const { at, kind } = damage(sizes[3] ?? 0);
        contents[at] = (contents[at] ?? 0) ^ 0x01;
        writeFileSync(path, Buffer.concat([contents, torn]));
        expect(await outcomeOf(directory, { fsync: false, journalChunkBytes: chunk }), `${kind}, ${landed} bytes landed, chunks of ${chunk}`).toMatch(
          new RegExp(`^corruptRecord: .*record at byte ${sizes[3]} is damaged \\(${kind}\\) and a later append begins at byte ${sizes[4]} \\(its header checks; a crash tore its payload\\), so the damaged record was whole and acknowledged`),
        );
        expect(statSync(path).size).toBe((sizes[4] ?? 0) + torn.length); // refused: nothing cut
      }
    }
  });

  it('still cuts a damaged last record followed by bytes no header of this journal checks in (zeros, garbage, another journal’s record)', async () => {
    const foreign = frameAnchoredRecord({ kind: 'batch', entries: makeEntries(51, 52, 1) }, newJournalId(), 0);
    for (const tail of [new Uint8Array(64), Uint8Array.from({ length: 64 }, (_, position) => (position * 37) % 256), foreign.subarray(0, recordHeaderBytes + 5)]) {
      const directory = freshDirectory();
      const sizes = await writeFiveBatches(directory);
      const contents = readFileSync(journalOf(directory));
      const at = (sizes[3] ?? 0) + recordHeaderBytes + 50;
      contents[at] = (contents[at] ?? 0) ^ 0x01; // inside the last record's payload: reads as a torn append
      writeFileSync(journalOf(directory), Buffer.concat([contents, tail]));
      expect(await outcomeOf(directory)).toBe('opened through 40');
      expect(statSync(journalOf(directory)).size).toBe(sizes[3]);
    }
  });

  it('refuses a record that checks but does not decode (another build’s), even as the last record', async () => {
    const directory = freshDirectory();
    const sizes = await writeFiveBatches(directory);
    const path = journalOf(directory);
    const { crc32 } = await import('node:zlib');
    const { anchorOf } = await import('./journal-format.ts');
    const contents = readFileSync(path);
    const journalId = contents.subarray(8, 16);
    const payload = Uint8Array.from([0xee, 1, 0, 0, 0]); // a codec version this build does not know
    const header = new Uint8Array(recordHeaderBytes);
    const view = new DataView(header.buffer);
    view.setUint32(0, payload.length, true);
    view.setUint32(4, crc32(payload), true);
    view.setUint32(8, anchorOf(journalId, sizes[4] ?? 0, payload.length, crc32(payload)), true);
    appendFileSync(path, Uint8Array.from([...header, ...payload]));
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^corruptRecord: .*the record at byte ${sizes[4]} checks but does not decode \\(unsupportedVersion`));
  });
});
