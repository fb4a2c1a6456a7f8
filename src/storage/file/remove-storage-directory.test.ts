// Removing a storage directory for good (an edge peer's discarded id) takes the directory's lock:
// a node that runs there, in another process (another raftmesh-peer on the same data directory)
// or in this one, keeps its files, and the removal is refused as in use.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage } from './file-storage.ts';
import { removalPathOf, removeStorageDirectory } from './remove-storage-directory.ts';
import { startLockHolder } from './lock-holder-process.test-support.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-remove-directory-');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Another process opens a FileRaftStorage on `directory` and holds it until its stdin ends; resolves once it says `opened`. */
async function holdInAnotherProcess(directory: string): Promise<ChildProcess> {
  const holder = startLockHolder(directory);
  children.push(holder.child);
  const line = await holder.firstLine;
  if (line !== 'opened') throw new Error(`the holder said: ${line}`);
  return holder.child;
}

/** Ends the holder the way it closes its storage (its stdin ends), and waits for it to exit. */
function endHolder(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin?.end();
  });
}

async function refusal(promise: Promise<unknown>): Promise<RaftStorageError> {
  const outcome = await promise.then(
    () => new Error('expected a refusal, and the removal went through'),
    (error: unknown) => error,
  );
  if (outcome instanceof RaftStorageError) return outcome;
  throw outcome;
}

/** A storage with a term and a log in `directory`, closed. */
async function writtenStorage(directory: string): Promise<void> {
  const storage = await FileRaftStorage.open(directory, { fsync: false });
  await storage.saveTermAndVotedFor(6, null);
  await storage.appendEntries(makeEntries(1, 3, 6));
  await storage.close();
}

describe('removeStorageDirectory', () => {
  it('refuses (inUse) a directory another process runs a storage on, which keeps every file; removes it once that process let go', async () => {
    const directory = freshDirectory();
    await writtenStorage(directory);
    const holder = await holdInAnotherProcess(directory);
    const before = readdirSync(directory).sort();
    expect(before).toContain('journal');
    const failure = await refusal(removeStorageDirectory(directory, 'discardStorage("d")'));
    expect(failure.reason).toBe('inUse');
    expect(failure.message).toMatch(new RegExp(`^discardStorage\\("d"\\): ${directory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${holder.pid}`));
    expect(readdirSync(directory).sort()).toEqual(before);
    expect(existsSync(removalPathOf(directory))).toBe(false);
    await endHolder(holder);
    // What the holder had open is whole: term and log as written.
    const reopened = await FileRaftStorage.open(directory, { fsync: false });
    expect(await reopened.term()).toBe(6);
    expect((await reopened.entries(1)).map((entry) => entry.index)).toEqual([1, 2, 3]);
    await reopened.close();
    await removeStorageDirectory(directory, 'discardStorage("d")');
    expect(existsSync(directory)).toBe(false);
    expect(existsSync(removalPathOf(directory))).toBe(false);
  });

  it('refuses (inUse) a directory a storage of this process has open, which goes on writing; removes it after close', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.saveTermAndVotedFor(2, null);
    const failure = await refusal(removeStorageDirectory(directory, 'discardStorage("d")'));
    expect(failure.reason).toBe('inUse');
    expect(failure.message).toMatch(/already open in this process/);
    await storage.appendEntries(makeEntries(1, 2, 2));
    expect(await storage.term()).toBe(2);
    expect(storage.failure.value).toBeNull();
    await storage.close();
    await removeStorageDirectory(directory, 'discardStorage("d")');
    expect(existsSync(directory)).toBe(false);
  });

  it('takes over a dead process’s lock, as an open does, and removes the directory', async () => {
    const directory = freshDirectory();
    await writtenStorage(directory);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(directory, 'lock'), String(dead));
    await removeStorageDirectory(directory, 'discardStorage("d")');
    expect(existsSync(directory)).toBe(false);
  });

  it('a missing directory is nothing to remove; a removal that crashed after setting the directory aside is finished by the next', async () => {
    const parent = freshDirectory();
    const directory = join(parent, 'raft-d');
    await removeStorageDirectory(directory, 'discardStorage("d")');
    mkdirSync(removalPathOf(directory));
    writeFileSync(join(removalPathOf(directory), 'journal'), 'left by a crash');
    await removeStorageDirectory(directory, 'discardStorage("d")');
    expect(readdirSync(parent)).toEqual([]);
    // And with the directory there again (the id reused): both go.
    await writtenStorage(directory);
    mkdirSync(removalPathOf(directory));
    await removeStorageDirectory(directory, 'discardStorage("d")');
    expect(readdirSync(parent)).toEqual([]);
  });
});
