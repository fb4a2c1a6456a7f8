// A directory written by a build before 2026-12-04 holds a format-1 journal (`journal`). Opening
// it migrates: format 1 is read by its own rules, the state is written whole as a format-2 journal
// (`journal.v2`) that takes its name by rename, and only then is `journal` removed, so a crash at
// any point leaves one whole journal or the other.
import { existsSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { nodeId, type LogEntry } from '../../core/types.ts';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage } from './file-storage.ts';
import { writeJournal } from './journal-file.test-support.ts';
import { format1JournalFileName } from './journal-format1.ts';
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
  it('reads it, writes the same state as journal.v2, removes journal, and goes on appending', async () => {
    const directory = freshDirectory();
    writeFormat1(directory);
    expect(await stateOf(directory)).toBe(expectedState);
    expect(existsSync(join(directory, format1JournalFileName))).toBe(false);
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
    writeJournal(directory, [...recordsOfState({ hardState: { term: 3, votedFor: null }, leaderForTerm: { term: 2, leaderId: nodeId('a') }, logStart: 5, entries: [...makeEntries(5, 7, 2, 30), ...makeEntries(8, 12, 3, 30)] })]);
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
    expect(await stateOf(directory)).toMatch(/^corruptRecord: .*both journal \(format 1\) and journal.v2 are here: a build before 2026-12-04 wrote in this directory after this one did/);
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

  it('a fresh directory gets a journal.v2 of its header and one empty reset record, and no format-1 file', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.close();
    expect(existsSync(join(directory, format1JournalFileName))).toBe(false);
    expect(statSync(join(directory, journalFileName)).size).toBeLessThan(64);
    truncateSync(join(directory, journalFileName), 20); // the header alone still opens, as an empty log
    expect(await stateOf(directory)).toBe(JSON.stringify({ term: 0, votedFor: null, leader: null, entries: [] }));
  });
});

describe('recordsOfState', () => {
  it('writes a log of any size as a reset record and batches of at most ~64 MiB of commands each, in order', () => {
    const command = new Uint8Array(16 * 1024 * 1024); // shared: only lengths count
    const entries: LogEntry[] = Array.from({ length: 9 }, (_, offset) => ({ index: 101 + offset, term: 5, command, isNoOp: false }));
    const records = [...recordsOfState({ hardState: { term: 5, votedFor: null }, leaderForTerm: null, logStart: 101, entries })];
    expect(records.map((record) => record.kind)).toEqual(['reset', 'batch', 'batch']);
    expect(records.map((record) => (record.kind === 'discard' ? 0 : record.entries.length))).toEqual([3, 3, 3]);
    expect(records.flatMap((record) => (record.kind === 'discard' ? [] : record.entries.map((entry) => entry.index)))).toEqual(entries.map((entry) => entry.index));
    expect([...recordsOfState({ hardState: { term: 0, votedFor: null }, leaderForTerm: null, logStart: 1, entries: [] })].map((record) => record.kind)).toEqual(['reset']);
  });
});
