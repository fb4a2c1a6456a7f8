// A directory written by a build before 2026-12-04 holds a format-1 journal (`journal`). Opening
// it migrates: format 1 is read by its own rules, the state is written whole as a format-2 journal
// (`journal.v2`) that takes its name by rename, a sentinel that older builds refuse takes
// `journal`'s place, and only then is the old copy removed, so a crash at any point leaves one
// whole journal or the other, and an older build never opens a migrated directory as empty.
import { existsSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { nodeId, type LogEntry } from '../../core/types.ts';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage } from './file-storage.ts';
import { writeJournal } from './journal-file.test-support.ts';
import { format1JournalFileName, format1Sentinel } from './journal-format1.ts';
import { scanFormat1Journal } from './journal-format1-scan.ts';
import { JournalReader } from './journal-reader.ts';
import { frameFormat1Record } from './journal-format1.test-support.ts';
import { journalFileName } from './journal-format.ts';
import { recordsOfState, type JournalRecord } from './journal-record.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-migration-');

/** Calls as a format-1 build made them: hard state, appends, a truncation, a snapshot's discard. */
const format1Records: readonly JournalRecord[] = [
  { kind: 'batch', hardState: { term: 2, votedFor: nodeId('a') }, entries: makeEntries(1, 10, 2, 30) },
  { kind: 'batch', leaderForTerm: { term: 2, leaderId: nodeId('a') }, entries: [] },
  { kind: 'batch', hardState: { term: 3, votedFor: null }, truncateFrom: 8, entries: makeEntries(8, 12, 3, 30) },
  { kind: 'discard', throughIndex: 4 },
];

function writeFormat1(directory: string, records: readonly JournalRecord[] = format1Records): Buffer {
  const bytes = Buffer.concat(records.map(frameFormat1Record));
  writeFileSync(join(directory, format1JournalFileName), bytes);
  return bytes;
}

async function stateOf(directory: string): Promise<string> {
  try {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    const entries = await storage.entries();
    const state = JSON.stringify({ term: await storage.term(), votedFor: await storage.votedFor(), leader: await storage.leaderForTerm(), entries: entries.map((entry) => `${entry.index}@${entry.term}:${entry.command.length}`) });
    await storage.close();
    return state;
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

const expectedState = JSON.stringify({
  term: 3,
  votedFor: null,
  leader: { term: 2, leaderId: 'a' },
  entries: [...makeEntries(5, 7, 2, 30), ...makeEntries(8, 12, 3, 30)].map((entry) => `${entry.index}@${entry.term}:${entry.command.length}`),
});

describe('FileRaftStorage migrating a format-1 journal', () => {
  it('reads it, writes the same state as journal.v2, puts the sentinel in journal’s place, and goes on appending', async () => {
    const directory = freshDirectory();
    writeFormat1(directory);
    expect(await stateOf(directory)).toBe(expectedState);
    expect(readFileSync(join(directory, format1JournalFileName)).equals(format1Sentinel)).toBe(true);
    expect(existsSync(join(directory, `${format1JournalFileName}.format1`))).toBe(false);
    expect(readFileSync(join(directory, journalFileName)).subarray(0, 4).toString('latin1')).toBe('rmjl');
    const storage = await FileRaftStorage.open(directory, { fsync: true });
    await storage.appendEntries(makeEntries(13, 14, 3));
    await storage.close();
    expect(JSON.parse(await stateOf(directory)).entries.at(-1)).toBe('14@3:20');
  });

  it('keeps a snapshot and the log after it', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveSnapshot({ lastIncludedIndex: 20, lastIncludedTerm: 4 }, new Uint8Array([20]));
    await storage.close();
    rmSync(join(directory, journalFileName)); // as a format-1 build left it: its snapshot and its journal
    writeFormat1(directory, [{ kind: 'batch', hardState: { term: 4, votedFor: null }, entries: makeEntries(21, 25, 4) }]);
    const reopened = await FileRaftStorage.open(directory, { fsync: false });
    expect((await reopened.loadSnapshot())?.meta.lastIncludedIndex).toBe(20);
    expect((await reopened.entries()).map((entry) => entry.index)).toEqual([21, 22, 23, 24, 25]);
    await reopened.close();
  });

  it('drops format 1’s torn tail, as format 1 always did', async () => {
    const directory = freshDirectory();
    const whole = writeFormat1(directory);
    const torn = Buffer.concat([whole, frameFormat1Record({ kind: 'batch', entries: makeEntries(13, 20, 3, 30) }).subarray(0, 40)]);
    writeFileSync(join(directory, format1JournalFileName), torn);
    expect(await stateOf(directory)).toBe(expectedState);
  });

  it('refuses a format-1 journal damaged in the middle, and leaves it as it was (no journal.v2)', async () => {
    const directory = freshDirectory();
    const bytes = writeFormat1(directory);
    bytes[20] = (bytes[20] ?? 0) ^ 0xff; // inside the first record
    writeFileSync(join(directory, format1JournalFileName), bytes);
    expect(await stateOf(directory)).toMatch(/^corruptRecord: .*journal: .*damaged .* valid records follow it/);
    expect(readFileSync(join(directory, format1JournalFileName)).equals(bytes)).toBe(true);
    expect(existsSync(join(directory, journalFileName))).toBe(false);
  });

  it('after a crash past the new journal’s rename (journal.v2 and journal.format1 there), reads journal.v2 and removes the old one', async () => {
    const directory = freshDirectory();
    writeFormat1(directory, [{ kind: 'batch', hardState: { term: 99, votedFor: null }, entries: [] }]); // stale: must not be read
    renameSync(join(directory, format1JournalFileName), join(directory, `${format1JournalFileName}.format1`));
    writeJournal(directory, [...recordsOfState({ hardState: { term: 3, votedFor: null }, leaderForTerm: { term: 2, leaderId: nodeId('a') }, logStart: 5, entries: [...makeEntries(5, 7, 2, 30), ...makeEntries(8, 12, 3, 30)], commitIndex: 0 })]);
    expect(await stateOf(directory)).toBe(expectedState);
    expect(existsSync(join(directory, `${format1JournalFileName}.format1`))).toBe(false);
  });

  it('after a crash past the first rename (journal.format1 alone), migrates from it', async () => {
    const directory = freshDirectory();
    writeFormat1(directory);
    renameSync(join(directory, format1JournalFileName), join(directory, `${format1JournalFileName}.format1`));
    expect(await stateOf(directory)).toBe(expectedState);
    expect(existsSync(join(directory, `${format1JournalFileName}.format1`))).toBe(false);
  });

  it('refuses journal beside journal.v2 (an older build wrote here after this one), touching neither', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(makeEntries(1, 3, 1));
    await storage.close();
    const current = readFileSync(join(directory, journalFileName));
    const format1 = writeFormat1(directory);
    expect(await stateOf(directory)).toMatch(/^corruptRecord: .*both journal \(journal format 1\) and journal.v2 are here: a build before 2026-12-04 wrote in this directory after this one did, .*keep the one you trust/);
    expect(readFileSync(join(directory, journalFileName)).equals(current)).toBe(true);
    expect(readFileSync(join(directory, format1JournalFileName)).equals(format1)).toBe(true);
  });

  it('after a crash before the rename (a stray journal.v2.tmp), migrates again', async () => {
    const directory = freshDirectory();
    writeFormat1(directory);
    writeFileSync(join(directory, `${journalFileName}.tmp`), 'half a journal');
    expect(await stateOf(directory)).toBe(expectedState);
    expect(existsSync(join(directory, `${journalFileName}.tmp`))).toBe(false);
  });

  it('a fresh directory gets a journal.v2 of its header and one empty reset record, and the sentinel as journal', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.close();
    expect(readFileSync(join(directory, format1JournalFileName)).equals(format1Sentinel)).toBe(true);
    expect(statSync(join(directory, journalFileName)).size).toBeLessThan(64);
    truncateSync(join(directory, journalFileName), 20); // the header alone still opens, as an empty log
    expect(await stateOf(directory)).toBe(JSON.stringify({ term: 0, votedFor: null, leader: null, entries: [] }));
  });

  it('the sentinel makes a format-1 reader (a build before 2026-12-04) refuse the directory instead of opening it as an empty log', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveTermAndVotedFor(7, nodeId('n2'));
    await storage.close();
    const handle = await open(join(directory, format1JournalFileName), 'r');
    try {
      const reader = await JournalReader.open(handle, 4_096);
      const replayed: JournalRecord[] = [];
      await expect(scanFormat1Journal(reader, 'journal', async (record) => void replayed.push(record))).rejects.toThrow(/record at byte 0 is damaged \(checksum mismatch\) and valid records follow it: refusing to skip acknowledged data/);
      expect(replayed).toEqual([]);
    } finally {
      await handle.close();
    }
    expect(new TextDecoder().decode(format1Sentinel)).toMatch(/this directory holds journal.v2 .* older builds refuse the directory/);
  });

  it('a sentinel missing (a crash after the new journal’s rename) is put back at the next open', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(makeEntries(1, 2, 1));
    await storage.close();
    rmSync(join(directory, format1JournalFileName));
    expect(JSON.parse(await stateOf(directory)).entries).toEqual(['1@1:19', '2@1:19']);
    expect(readFileSync(join(directory, format1JournalFileName)).equals(format1Sentinel)).toBe(true);
  });

  it('refuses a directory whose journal.v2 is gone while the sentinel says it held one, instead of starting an empty log', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveTermAndVotedFor(4, nodeId('n1'));
    await storage.close();
    rmSync(join(directory, journalFileName));
    expect(await stateOf(directory)).toMatch(/^corruptRecord: .*journal.v2 is missing, but journal says this directory held one: refusing to start again from an empty log/);
    expect(existsSync(join(directory, journalFileName))).toBe(false);
  });

  it('keeps journal.format1 while journal.v2 cannot be read (removed only once it has been)', async () => {
    const directory = freshDirectory();
    const bytes = writeFormat1(directory);
    renameSync(join(directory, format1JournalFileName), join(directory, `${format1JournalFileName}.format1`));
    writeFileSync(join(directory, journalFileName), new Uint8Array(0)); // a power loss took its contents (fsync off)
    expect(await stateOf(directory)).toMatch(/^corruptRecord: .*the file is 0 bytes, shorter than its 20-byte header/);
    expect(readFileSync(join(directory, `${format1JournalFileName}.format1`)).equals(bytes)).toBe(true);
  });
});

describe('recordsOfState', () => {
  it('writes a log of any size as a reset record and batches of at most ~64 MiB of commands each, in order', () => {
    const command = new Uint8Array(16 * 1024 * 1024); // shared: only lengths count
    const entries: LogEntry[] = Array.from({ length: 9 }, (_, offset) => ({ index: 101 + offset, term: 5, command, isNoOp: false }));
    const records = [...recordsOfState({ hardState: { term: 5, votedFor: null }, leaderForTerm: null, logStart: 101, entries, commitIndex: 0 })];
    expect(records.map((record) => record.kind)).toEqual(['reset', 'batch', 'batch']);
    expect(records.map((record) => (record.kind === 'discard' ? 0 : record.entries.length))).toEqual([3, 3, 3]);
    expect(records.flatMap((record) => (record.kind === 'discard' ? [] : record.entries.map((entry) => entry.index)))).toEqual(entries.map((entry) => entry.index));
    expect([...recordsOfState({ hardState: { term: 0, votedFor: null }, leaderForTerm: null, logStart: 1, entries: [], commitIndex: 0 })].map((record) => record.kind)).toEqual(['reset']);
  });
});
