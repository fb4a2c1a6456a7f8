// FileStorageOptions.nodeId and .create: a directory records the node it belongs to, another
// node's open is refused before anything is written, and `create: false` refuses to start an
// empty log where data was expected. Before these options, a mistyped path opened as a fresh
// voter at term 0 with no vote, and node b opened on node a's directory took a's term, vote and
// log (a newcomer's review, 2026-12-07).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { nodeId } from '../../core/types.ts';
import { makeEntries } from '../storage-conformance.ts';
import { encodeOwner, maxOwnerFileBytes, ownerFileName, readOwner, recordOwner } from './directory-owner.ts';
import { FileRaftStorage, type FileStorageOptions } from './file-storage.ts';
import { journalFileName } from './journal-format.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-owner-');

/** A directory holding a vote for `votedFor` in term 3 and five entries, opened with `options`. */
async function writeNodeData(directory: string, options: FileStorageOptions): Promise<void> {
  const storage = await FileRaftStorage.open(directory, { fsync: false, ...options });
  await storage.saveTermAndVotedFor(3, nodeId('a'));
  await storage.appendEntries(makeEntries(1, 5, 3));
  await storage.close();
}

/** Every file in `directory` with its bytes: what "nothing written" compares. */
function contentsOf(directory: string): Record<string, string> {
  return Object.fromEntries(readdirSync(directory).sort().map((name) => [name, readFileSync(join(directory, name)).toString('hex')]));
}

async function refusalOf(opening: Promise<FileRaftStorage>): Promise<RaftStorageError> {
  const outcome = await opening.then(
    async (storage) => {
      await storage.close();
      return null;
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(RaftStorageError);
  return outcome as RaftStorageError;
}

describe('FileRaftStorage with a nodeId', () => {
  it('records the id at the first open, and reopens under the same id with its term, vote and log', async () => {
    const directory = join(freshDirectory(), 'a');
    await writeNodeData(directory, { nodeId: 'a' });
    expect(await readOwner(directory)).toBe('a');
    expect(readFileSync(join(directory, ownerFileName))).toEqual(Buffer.from(encodeOwner(nodeId('a'))));
    const reopened = await FileRaftStorage.open(directory, { fsync: false, nodeId: 'a' });
    expect(await reopened.term()).toBe(3);
    expect(await reopened.votedFor()).toBe('a');
    expect((await reopened.entries()).length).toBe(5);
    await reopened.close();
  });

  it("refuses another node's id, naming both ids and the directory, before anything is written", async () => {
    const directory = join(freshDirectory(), 'a');
    await writeNodeData(directory, { nodeId: 'a' });
    const before = contentsOf(directory);
    const refusal = await refusalOf(FileRaftStorage.open(directory, { fsync: false, nodeId: 'b' }));
    expect(refusal.reason).toBe('wrongOwner');
    expect(refusal.message).toContain(directory);
    expect(refusal.message).toContain('belongs to node "a", not to node "b"');
    // Not even the lock was taken: the journal, the owner and the sentinel are as they were.
    expect(contentsOf(directory)).toEqual(before);
  });

  it('checks the owner again under the lock: one recorded by another process after the first check is refused, not replaced', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, ownerFileName), encodeOwner(nodeId('a')));
    const refusing = recordOwner(directory, { nodeId: nodeId('b'), create: true }, false, async () => undefined);
    await expect(refusing).rejects.toThrow(/belongs to node "a", not to node "b"/);
    expect(await readOwner(directory)).toBe('a');
  });

  it('opens a directory recorded with an id when no id is given (callers from before the option)', async () => {
    const directory = freshDirectory();
    await writeNodeData(directory, { nodeId: 'a' });
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    expect(await storage.term()).toBe(3);
    await storage.close();
    expect(await readOwner(directory)).toBe('a');
  });

  it('records the id in a directory written before owners were recorded, keeping its data, and refuses other ids from then on', async () => {
    const directory = freshDirectory();
    await writeNodeData(directory, {});
    expect(existsSync(join(directory, ownerFileName))).toBe(false);
    const journalBefore = readFileSync(join(directory, journalFileName));
    const storage = await FileRaftStorage.open(directory, { nodeId: 'a' });
    expect(await storage.term()).toBe(3);
    expect((await storage.entries()).length).toBe(5);
    await storage.close();
    expect(await readOwner(directory)).toBe('a');
    expect(readFileSync(join(directory, journalFileName))).toEqual(journalBefore);
    expect((await refusalOf(FileRaftStorage.open(directory, { nodeId: 'b' }))).reason).toBe('wrongOwner');
  });

  it('refuses a damaged owner file (corruptRecord) before anything is written, whatever the damage', async () => {
    const damages: Record<string, string | Uint8Array> = {
      'not JSON': 'a',
      'not UTF-8': new Uint8Array([0xff, 0xfe, 0x7b]),
      'another shape': JSON.stringify({ nodeId: 'a' }),
      'an id failing its checksum': new TextDecoder().decode(encodeOwner(nodeId('a'))).replace('"a"', '"b"'),
      'an invalid id': JSON.stringify({ storage: 'raftmesh FileRaftStorage', nodeId: '', nodeIdCrc32: 0 }),
      'oversized': `${' '.repeat(maxOwnerFileBytes)}${new TextDecoder().decode(encodeOwner(nodeId('a')))}`,
      'empty': '',
    };
    for (const [damage, contents] of Object.entries(damages)) {
      const directory = freshDirectory();
      await writeNodeData(directory, { nodeId: 'a' });
      writeFileSync(join(directory, ownerFileName), contents);
      const before = contentsOf(directory);
      const refusal = await refusalOf(FileRaftStorage.open(directory, { fsync: false, nodeId: 'a' }));
      expect(refusal.reason, damage).toBe('corruptRecord');
      expect(refusal.message, damage).toContain(join(directory, ownerFileName));
      expect(refusal.message, damage).toMatch(/owner file is damaged/);
      expect(contentsOf(directory), damage).toEqual(before);
    }
  });

  it('refuses an id no node may have, or a create that is not a boolean, as the caller’s mistake (RangeError)', async () => {
    const directory = freshDirectory();
    await expect(FileRaftStorage.open(directory, { nodeId: '' })).rejects.toThrow(RangeError);
    await expect(FileRaftStorage.open(directory, { nodeId: 'x'.repeat(257) })).rejects.toThrow(/nodeId is not a node id/);
    await expect(FileRaftStorage.open(directory, { create: 'no' as unknown as boolean })).rejects.toThrow(RangeError);
    expect(readdirSync(directory)).toEqual([]);
  });
});

describe('FileRaftStorage with create: false', () => {
  it('refuses a missing directory, saying what to do, and creates nothing', async () => {
    const parent = freshDirectory();
    const missing = join(parent, 'typo', 'a');
    const refusal = await refusalOf(FileRaftStorage.open(missing, { create: false, nodeId: 'a' }));
    expect(refusal.reason).toBe('notFound');
    expect(refusal.message).toContain(missing);
    expect(refusal.message).toMatch(/no such directory.*create is false.*Check the path.*create: true/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses an existing directory that holds no journal (an empty mount point) and a path that is a file', async () => {
    const directory = freshDirectory();
    const refusal = await refusalOf(FileRaftStorage.open(directory, { create: false }));
    expect(refusal.message).toMatch(/holds no journal\.v2 or snapshot/);
    expect(readdirSync(directory)).toEqual([]);
    writeFileSync(join(directory, 'file'), 'x');
    expect((await refusalOf(FileRaftStorage.open(join(directory, 'file'), { create: false }))).message).toMatch(/not a directory/);
  });

  it('opens a directory that holds a storage, with its data', async () => {
    const directory = freshDirectory();
    await writeNodeData(directory, {});
    const storage = await FileRaftStorage.open(directory, { fsync: false, create: false, nodeId: 'a' });
    expect(await storage.term()).toBe(3);
    await storage.close();
    expect(await readOwner(directory)).toBe('a');
  });

  it('is true by default: a missing directory is created, as before', async () => {
    const directory = join(freshDirectory(), 'new', 'node');
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    expect(await storage.term()).toBe(0);
    await storage.close();
    expect(statSync(directory).isDirectory()).toBe(true);
  });
});

describe('an empty directory made by hand', () => {
  it('opens with create true and records its owner there', async () => {
    const directory = join(freshDirectory(), 'made');
    mkdirSync(directory);
    const storage = await FileRaftStorage.open(directory, { fsync: false, nodeId: 'c' });
    await storage.close();
    expect(await readOwner(directory)).toBe('c');
  });
});
