// FileRaftStorage reads its journal at open a chunk at a time (it used to read the file whole,
// which Node refuses past 2 GiB). Tiny chunks here make records straddle chunk boundaries and
// exceed a chunk, so every recovery rule is checked where the chunks fall, not only where they
// happen to hold a record whole.
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import type { LogEntry } from '../../core/types.ts';
import { makeEntries } from '../storage-conformance.ts';
import { journalFileName } from './journal-format.ts';
import { FileRaftStorage, type InternalFileStorageOptions } from './file-storage.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-chunked-');

const withChunks = (journalChunkBytes: number): InternalFileStorageOptions => ({ fsync: false, journalChunkBytes });
const summary = (entries: readonly LogEntry[]): string[] => entries.map((entry) => `${entry.index}@${entry.term}:${Buffer.from(entry.command).toString('hex')}`);

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

/**
 * A journal of every record kind, records from 20 bytes to a few KiB: batches with hard state and
 * a truncation, a discard after a snapshot. Returns the byte size after each call.
 */
async function writeMixedJournal(directory: string): Promise<number[]> {
  const storage = await FileRaftStorage.open(directory, { fsync: false });
  const sizes: number[] = [];
  const record = async (call: Promise<void>): Promise<void> => {
    await call;
    sizes.push(statSync(join(directory, journalFileName)).size);
  };
  await record(storage.saveTermAndVotedFor(1, null));
  for (let first = 1; first <= 60; first += 6) await record(storage.appendEntries(makeEntries(first, first + 5, 1, first * 7)));
  await record(storage.writeBatch({ hardState: { term: 2, votedFor: null }, truncateFrom: 55, entries: makeEntries(55, 58, 2, 3_000) }));
  await storage.saveSnapshot({ lastIncludedIndex: 20, lastIncludedTerm: 1 }, new Uint8Array([1, 2, 3]));
  await record(storage.discardLogPrefix(20));
  await record(storage.appendEntries(makeEntries(59, 59, 2)));
  await storage.close();
  return sizes;
}

async function contentOf(directory: string, options: InternalFileStorageOptions): Promise<{ term: number; entries: string[] }> {
  const storage = await FileRaftStorage.open(directory, options);
  try {
    return { term: await storage.term(), entries: summary(await storage.entries()) };
  } finally {
    await storage.close();
  }
}

describe('FileRaftStorage reading its journal in chunks', () => {
  it('reads the same state whatever the chunk size, with records straddling chunk boundaries and larger than a chunk', async () => {
    const directory = freshDirectory();
    const sizes = await writeMixedJournal(directory);
    const expected = await contentOf(directory, { fsync: false });
    expect(expected.entries.length).toBe(39); // 21..58 after the discard and the truncation, and 59
    for (const chunk of [1, 7, 8, 9, 13, 64, 1_000, 4_096, 100_000]) {
      expect(await contentOf(directory, withChunks(chunk))).toEqual(expected);
      expect(statSync(join(directory, journalFileName)).size).toBe(sizes.at(-1));
    }
  });

  it('reads a compacted journal (its live state in one reset record larger than a chunk) in chunks', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false, compactAfterBytes: 16 * 1024 });
    await storage.saveTermAndVotedFor(4, null);
    for (let first = 1; first <= 400; first += 40) await storage.appendEntries(makeEntries(first, first + 39, 4, 100));
    await storage.saveSnapshot({ lastIncludedIndex: 380, lastIncludedTerm: 4 }, new Uint8Array(4));
    const before = await storage.journalSize();
    await storage.discardLogPrefix(380);
    expect(await storage.journalSize()).toBeLessThan(before / 10); // rewritten as its live state
    await storage.close();
    expect(await contentOf(directory, withChunks(100))).toEqual({ term: 4, entries: summary(makeEntries(381, 400, 4, 100)) });
  });

  it('drops a torn tail that lies in the last chunk, or spans several, and truncates the journal to the valid records', async () => {
    // [chunk bytes, which record is torn (from the end), bytes of it left, last index after]
    const cases = [
      [64, -1, 5, 58],
      [7, -1, 11, 58],
      [100_000, -2, 9, 58],
      [64, -3, 2_000, 60], // the truncating batch of over 12 KiB, torn: its truncation never happened
      [1_000, -3, 11_000, 60],
    ] as const;
    for (const [chunk, torn, left, lastIndex] of cases) {
      const directory = freshDirectory();
      const sizes = await writeMixedJournal(directory);
      const validBytes = sizes.at(torn - 1) ?? 0;
      expect(validBytes + left).toBeLessThan(sizes.at(torn) ?? 0);
      const path = join(directory, journalFileName);
      truncateSync(path, validBytes + left); // a crash in the middle of that record's append
      const storage = await FileRaftStorage.open(directory, withChunks(chunk));
      expect((await storage.entries()).at(-1)?.index).toBe(lastIndex);
      await storage.close();
      expect(statSync(path).size).toBe(validBytes);
    }
  });

  it('drops a garbage last record larger than a chunk (its checksum fails, nothing valid after it)', async () => {
    const directory = freshDirectory();
    const sizes = await writeMixedJournal(directory);
    appendFileSync(join(directory, journalFileName), new Uint8Array([200, 0, 0, 0, 1, 2, 3, 4, ...new Array(200).fill(9)]));
    expect((await contentOf(directory, withChunks(16))).entries.length).toBe(39);
    expect(statSync(join(directory, journalFileName)).size).toBe(sizes.at(-1));
  });

  it('refuses damage in the middle with valid records after it, wherever the chunks fall, for small and large records', async () => {
    const directory = freshDirectory();
    const sizes = await writeMixedJournal(directory);
    const path = join(directory, journalFileName);
    const pristine = readFileSync(path);
    // Inside a small record (the third call's) and inside the large truncating batch (over 12 KiB).
    for (const damagedByte of [(sizes[1] ?? 0) + 20, (sizes[10] ?? 0) + 5_000]) {
      const damaged = Buffer.from(pristine);
      damaged[damagedByte] = (damaged[damagedByte] ?? 0) ^ 0xff;
      writeFileSync(path, damaged);
      for (const chunk of [1, 9, 64, 4_096, 100_000]) {
        expect(await reasonOf(FileRaftStorage.open(directory, withChunks(chunk)))).toMatch(/^corruptRecord: .*damaged .* valid records follow it/);
      }
      expect(readFileSync(path).equals(damaged)).toBe(true); // refused: nothing cut
    }
  });

  it('refuses a chunk size outside its bounds with a clear error, and releases the directory', async () => {
    const directory = freshDirectory();
    await writeMixedJournal(directory);
    for (const chunk of [0, 1.5, 2 ** 31]) expect(await reasonOf(FileRaftStorage.open(directory, withChunks(chunk)))).toMatch(/a journal chunk must be 1 to \d+ bytes/);
    expect((await contentOf(directory, { fsync: false })).entries.length).toBe(39);
  });
});
