// The owner file's size bound (directory-owner.ts) holds for the longest id JSON can make of a node
// id: 256 control characters, six bytes each once escaped. From a review of the change (2026-12-07).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { readOwner } from './directory-owner.ts';
import { FileRaftStorage } from './file-storage.ts';

describe('FileRaftStorage owner file bounds', () => {
  const directories: string[] = [];
  afterEach(async () => {
    await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
  });

  it('the longest id JSON can inflate (256 control characters, 6 bytes each) is recorded and read back', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'raftmesh-owner-bound-'));
    directories.push(directory);
    const id = nodeId('\u0001'.repeat(256));
    const storage = await FileRaftStorage.open(`${directory}/data/`, { nodeId: id, fsync: false });
    await storage.close();
    expect(await readOwner(join(directory, 'data'))).toBe(id);
    const again = await FileRaftStorage.open(join(directory, 'data'), { nodeId: id, create: false, fsync: false });
    await again.close();
    await expect(FileRaftStorage.open(join(directory, 'data'), { nodeId: nodeId('other'), fsync: false })).rejects.toMatchObject({ reason: 'wrongOwner' });
  });
});
