// A black-box audit of FileRaftStorage through the `raftmesh/node` entry: what README "Edge peers"
// and SPEC "Storage contract" promise, at the edges the shared conformance suite does not reach —
// the largest entries the codec allows, a full disk and short writes (faults injected into Node's
// FileHandle, the only way to fill a disk at a chosen byte without root), the directory lock
// under other spellings of one path, closing and using after close, and errors that name the
// real cause.
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RaftStorageError, type LogEntry } from '../../index.ts';
import { FileRaftStorage } from '../../node.ts';
import { codecLimits } from '../../codec/limits.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-file-audit-');
afterEach(() => vi.restoreAllMocks());

const entriesOf = (first: number, last: number, term: number, commandBytes = 1): LogEntry[] =>
  Array.from({ length: last - first + 1 }, (_, offset) => {
    const command = new Uint8Array(commandBytes);
    command[0] = (first + offset) & 0xff;
    return { index: first + offset, term, command, isNoOp: false };
  });

async function failureOf(promise: Promise<unknown>): Promise<{ name: string; reason?: string; message: string } | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    const caught = error as Error;
    return { name: caught.name, message: caught.message, ...(error instanceof RaftStorageError ? { reason: error.reason } : {}) };
  }
}

async function reopened<T>(directory: string, read: (storage: FileRaftStorage) => Promise<T>): Promise<T> {
  const storage = await FileRaftStorage.open(directory);
  try {
    return await read(storage);
  } finally {
    await storage.close();
  }
}

/** Node's FileHandle prototype: where a test injects disk faults (restored after each test). */
async function fileHandlePrototype(): Promise<{ write: (...args: unknown[]) => Promise<{ bytesWritten: number }> }> {
  const handle = await open(join(freshDirectory(), 'probe'), 'w');
  await handle.close();
  return Object.getPrototypeOf(handle) as { write: (...args: unknown[]) => Promise<{ bytesWritten: number }> };
}

const diskFull = (): NodeJS.ErrnoException => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

describe('FileRaftStorage at the codec’s size limits', () => {
  it('keeps a call of more entries than one wire frame may carry (an acknowledged append is never dropped as a torn tail)', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveTermAndVotedFor(2, null);
    const count = codecLimits.maxEntriesPerFrame + 1;
    await storage.appendEntries(entriesOf(1, count, 2));
    await storage.appendEntries(entriesOf(count + 1, count + 1, 2));
    await storage.close();
    const stored = await reopened(directory, (again) => again.entries());
    expect(stored.length).toBe(count + 1);
    expect(stored.at(-1)?.index).toBe(count + 1);
  });

  it('keeps an entry whose command is the largest the codec allows, and refuses a larger one before writing anything', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(entriesOf(1, 1, 1, codecLimits.maxCommandBytes));
    const tooLarge = await failureOf(storage.appendEntries(entriesOf(2, 2, 1, codecLimits.maxCommandBytes + 1)));
    expect(tooLarge).toMatchObject({ name: 'RangeError' });
    expect((tooLarge as { message: string }).message).toMatch(/command/);
    // A caller's mistake refused up front: the storage still works.
    await storage.appendEntries(entriesOf(2, 2, 1));
    await storage.close();
    const stored = await reopened(directory, (again) => again.entries());
    expect(stored.map((entry) => [entry.index, entry.command.length])).toEqual([[1, codecLimits.maxCommandBytes], [2, 1]]);
  });

  it('keeps one call larger than a wire frame (four commands of the largest size, with their headers)', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(entriesOf(1, 4, 1, codecLimits.maxCommandBytes));
    await storage.close();
    const stored = await reopened(directory, (again) => again.entries());
    expect(4 * codecLimits.maxCommandBytes).toBe(codecLimits.maxFrameBytes); // the record is the frame bound plus headers
    expect(stored.map((entry) => entry.command.length)).toEqual(new Array(4).fill(codecLimits.maxCommandBytes));
  });

  it('rewrites a mostly dead journal whose live tail is more entries than one frame may carry, and reads it back', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false, compactAfterBytes: 1024 });
    const live = codecLimits.maxEntriesPerFrame + 10;
    const dead = live + 1_000;
    await storage.saveTermAndVotedFor(4, null);
    await storage.appendEntries(entriesOf(1, dead, 4, 8));
    await storage.appendEntries(entriesOf(dead + 1, dead + live, 4, 8));
    const before = await storage.journalSize();
    await storage.saveSnapshot({ lastIncludedIndex: dead, lastIncludedTerm: 4 }, new Uint8Array(4));
    await storage.discardLogPrefix(dead);
    expect(await storage.journalSize()).toBeLessThan(before / 2); // rewritten
    await storage.close();
    const [term, stored] = await reopened(directory, async (again) => [await again.term(), await again.entries()] as const);
    expect(term).toBe(4);
    expect(stored.length).toBe(live);
    expect(stored[0]?.index).toBe(dead + 1);
  });
});

describe('FileRaftStorage on a full disk', () => {
  it('ENOSPC mid-record: the call fails with diskFull and a clear message, every acknowledged call survives, later calls fail the same way', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    await storage.saveTermAndVotedFor(3, null);
    await storage.appendEntries(entriesOf(1, 50, 3, 100));
    const prototype = await fileHandlePrototype();
    const realWrite = prototype.write;
    // The disk fills in the middle of the next record: half of it reaches the file, then ENOSPC.
    vi.spyOn(prototype, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const [buffer, offset = 0, length = buffer.length - offset] = args as [Uint8Array, number?, number?];
      await realWrite.call(this, buffer.subarray(offset, offset + Math.floor(length / 2)));
      throw diskFull();
    });
    const failed = await failureOf(storage.appendEntries(entriesOf(51, 60, 3, 100)));
    expect(failed).toMatchObject({ name: 'RaftStorageError', reason: 'diskFull' });
    expect((failed as { message: string }).message).toMatch(/disk is full.*ENOSPC/);
    // Durability can no longer be promised: the storage stays failed, reads included.
    expect(await failureOf(storage.saveTermAndVotedFor(4, null))).toMatchObject({ reason: 'diskFull' });
    expect(await failureOf(storage.entries())).toMatchObject({ reason: 'diskFull' });
    vi.restoreAllMocks();
    await storage.close();
    // Space freed: the half record is a torn tail, everything acknowledged is there.
    const [term, stored] = await reopened(directory, async (again) => [await again.term(), await again.entries()] as const);
    expect(term).toBe(3);
    expect(stored.map((entry) => entry.index)).toEqual(entriesOf(1, 50, 3).map((entry) => entry.index));
  });

  it('a short write (the disk takes only part of a record without an error) is finished, not acknowledged half written', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    await storage.appendEntries(entriesOf(1, 5, 1, 64));
    const prototype = await fileHandlePrototype();
    const realWrite = prototype.write;
    // write(2) may write fewer bytes than asked (a nearly full disk, a signal): once, 7 bytes.
    vi.spyOn(prototype, 'write').mockImplementationOnce(async function (this: unknown, ...args: unknown[]) {
      const [buffer, offset = 0] = args as [Uint8Array, number?];
      return realWrite.call(this, buffer.subarray(offset, offset + 7));
    });
    await storage.appendEntries(entriesOf(6, 9, 1, 64));
    await storage.appendEntries(entriesOf(10, 10, 1, 64));
    await storage.close();
    const stored = await reopened(directory, (again) => again.entries());
    expect(stored.map((entry) => entry.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a snapshot that cannot be written whole leaves the previous one', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    await storage.appendEntries(entriesOf(1, 20, 1));
    await storage.saveSnapshot({ lastIncludedIndex: 10, lastIncludedTerm: 1 }, new Uint8Array([1, 2, 3]));
    const prototype = await fileHandlePrototype();
    vi.spyOn(prototype, 'write').mockRejectedValueOnce(diskFull()); // the snapshot's temporary file
    expect(await failureOf(storage.saveSnapshot({ lastIncludedIndex: 20, lastIncludedTerm: 1 }, new Uint8Array(1000)))).toMatchObject({ reason: 'diskFull' });
    await storage.close();
    // A crash between writing the new file and the rename leaves a stray temporary (each write's
    // own name, or an earlier build's fixed one): ignored, and removed at the next open.
    writeFileSync(join(directory, 'snapshot.tmp'), 'half a snapshot');
    writeFileSync(join(directory, 'snapshot.0b3c7a52-5a0e-4c7e-9d55-3f8f8d1c2e11.tmp'), 'half a snapshot');
    const snapshot = await reopened(directory, (again) => again.loadSnapshot());
    expect(snapshot?.meta.lastIncludedIndex).toBe(10);
    expect([...(snapshot?.state ?? [])]).toEqual([1, 2, 3]);
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('FileRaftStorage and its caller’s mistakes', () => {
  it('refuses a snapshot meta the codec cannot store with a RangeError that changes nothing, instead of failing the storage for good', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    await storage.appendEntries(entriesOf(1, 3, 1));
    for (const meta of [{ lastIncludedIndex: Number.NaN, lastIncludedTerm: 1 }, { lastIncludedIndex: 2, lastIncludedTerm: -1 }, { lastIncludedIndex: 2 ** 60, lastIncludedTerm: 1 }]) {
      expect(await failureOf(storage.saveSnapshot(meta, new Uint8Array(1))), JSON.stringify(meta)).toMatchObject({ name: 'RangeError' });
    }
    // Nothing changed: appends still follow the log, not a snapshot that was never stored.
    await storage.appendEntries(entriesOf(4, 4, 1));
    expect(await storage.loadSnapshot()).toBeNull();
    await storage.close();
    expect((await reopened(directory, (again) => again.entries())).length).toBe(4);
  });

  it('says “permission denied” or “read-only” for EACCES and EROFS, not that the storage is closed', async () => {
    for (const [code, words] of [['EACCES', /permission denied/], ['EROFS', /read-only file system/]] as const) {
      const storage = await FileRaftStorage.open(freshDirectory());
      const prototype = await fileHandlePrototype();
      vi.spyOn(prototype, 'write').mockRejectedValueOnce(Object.assign(new Error(`${code}: refused, write`), { code }));
      const failed = await failureOf(storage.appendEntries(entriesOf(1, 1, 1)));
      expect(failed).toMatchObject({ name: 'RaftStorageError' });
      expect((failed as { message: string }).message).toMatch(words);
      expect((failed as { message: string }).message).not.toMatch(/storage is closed/);
      vi.restoreAllMocks();
      await storage.close();
    }
  });
});

describe('FileRaftStorage ownership of its directory', () => {
  it('refuses a second open of one directory in one process under another spelling (relative, a symlink)', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    const link = join(freshDirectory(), 'link');
    symlinkSync(directory, link);
    for (const spelling of [relative(process.cwd(), directory), link, `${directory}/./`]) {
      expect(await failureOf(FileRaftStorage.open(spelling)), spelling).toMatchObject({ reason: 'inUse' });
    }
    // The refusals released nothing: the lock is still the first storage's.
    expect(readFileSync(join(directory, 'lock'), 'utf8').split('\n')[0]).toBe(String(process.pid)) // the pid first, then (Linux) boot and start time;
    await storage.appendEntries(entriesOf(1, 3, 1));
    await storage.close();
    expect((await reopened(link, (again) => again.entries())).length).toBe(3);
  });

  it('lets only one of several opens of one directory started together in one process through', async () => {
    const directory = freshDirectory();
    const outcomes = await Promise.allSettled([FileRaftStorage.open(directory), FileRaftStorage.open(directory), FileRaftStorage.open(`${directory}/`)]);
    const opened = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    expect(opened).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ reason: 'inUse' });
    await opened[0]?.close();
    expect(readdirSync(directory).filter((name) => name.startsWith('lock'))).toEqual([]); // no stray temporary either
  });

  it('refuses a lock held by a live process, saying how to clear a stale one (a pid reused after a reboot)', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'lock'), String(process.ppid));
    const refused = await failureOf(FileRaftStorage.open(directory));
    expect(refused).toMatchObject({ reason: 'inUse' });
    expect((refused as { message: string }).message).toMatch(new RegExp(`in use by process ${process.ppid}.*the lock is stale: remove .*lock\\)$`));
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(String(process.ppid));
  });

  it('takes over a garbage or empty lock file, and releases the lock on close (once)', async () => {
    for (const garbage of ['', 'not a pid', '-5', '12abc', '\u0000\u0001']) {
      const directory = freshDirectory();
      writeFileSync(join(directory, 'lock'), garbage);
      const storage = await FileRaftStorage.open(directory);
      expect(readFileSync(join(directory, 'lock'), 'utf8').split('\n')[0]).toBe(String(process.pid)) // the pid first, then (Linux) boot and start time;
      await storage.close();
      await storage.close();
      expect(() => statSync(join(directory, 'lock'))).toThrow(/ENOENT/);
    }
  });

  it('says what is wrong when the path is a file, or under one, in a RaftStorageError', async () => {
    const directory = freshDirectory();
    const file = join(directory, 'file');
    writeFileSync(file, 'x');
    for (const path of [file, join(file, 'below')]) {
      const failed = await failureOf(FileRaftStorage.open(path));
      expect(failed, path).toMatchObject({ name: 'RaftStorageError' });
      expect((failed as { message: string }).message).toMatch(/FileRaftStorage open: .*(EEXIST|ENOTDIR)/);
      expect((failed as { message: string }).message).not.toMatch(/IndexedDB/);
    }
  });
});

describe('FileRaftStorage calls in order, and after close', () => {
  it('runs calls made without awaiting in call order, and a refused call changes nothing', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    const calls = [
      storage.saveTermAndVotedFor(1, null),
      storage.appendEntries(entriesOf(1, 5, 1)),
      storage.appendEntries(entriesOf(7, 8, 1)), // a gap: refused
      storage.truncateFrom(4),
      storage.appendEntries(entriesOf(4, 6, 2)),
      storage.saveTermAndVotedFor(2, null),
    ];
    const reads = [storage.entries(), storage.term()];
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    const [entries, term] = await Promise.all(reads);
    expect((entries as LogEntry[]).map((entry) => `${entry.index}@${entry.term}`)).toEqual(['1@1', '2@1', '3@1', '4@2', '5@2', '6@2']);
    expect(term).toBe(2);
    await storage.close();
    expect((await reopened(directory, (again) => again.entries())).map((entry) => `${entry.index}@${entry.term}`)).toEqual(['1@1', '2@1', '3@1', '4@2', '5@2', '6@2']);
  });

  it('finishes calls made before close, refuses every call after it with reason closed, and lets another open follow', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory);
    const before = storage.appendEntries(entriesOf(1, 3, 1));
    const closing = storage.close();
    // Each outcome is taken at once (a rejection left unobserved until later is an unhandled one).
    const after = [
      storage.appendEntries(entriesOf(4, 4, 1)),
      storage.entries(),
      storage.term(),
      storage.votedFor(),
      storage.leaderForTerm(),
      storage.saveLeaderForTerm(1, 'x' as never),
      storage.truncateFrom(1),
      storage.saveSnapshot({ lastIncludedIndex: 1, lastIncludedTerm: 1 }, new Uint8Array(1)),
      storage.loadSnapshot(),
      storage.discardLogPrefix(1),
    ].map(failureOf);
    await before;
    await Promise.all([closing, storage.close()]);
    for (const outcome of await Promise.all(after)) expect(outcome).toMatchObject({ name: 'RaftStorageError', reason: 'closed' });
    mkdirSync(join(directory, 'unrelated'));
    expect((await reopened(directory, (again) => again.entries())).length).toBe(3);
  });
});
