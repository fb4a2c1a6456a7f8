// The edge peer's identity file: its node id, the claim that proves it, its bootstrap configuration.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';
import { fileKeyValueStore } from './file-key-value-store.ts';

const freshDirectory = temporaryDirectories('raftmesh-identity-file-');

describe('fileKeyValueStore', () => {
  it('keeps every value of sets and deletes made at once, and the file holds the last of them', async () => {
    const path = join(freshDirectory(), 'identity.json');
    const store = fileKeyValueStore(path);
    // Values of different lengths: two writes sharing one temporary file left a longer one's tail.
    await Promise.all(Array.from({ length: 40 }, (_, index) => store.set(`key-${index}`, 'x'.repeat(1 + ((index * 37) % 200)))));
    await Promise.all([store.delete('key-3'), store.set('key-40', 'last'), store.delete('key-7')]);
    const expected = Object.fromEntries([...Array.from({ length: 40 }, (_, index) => [`key-${index}`, 'x'.repeat(1 + ((index * 37) % 200))] as const).filter(([key]) => key !== 'key-3' && key !== 'key-7'), ['key-40', 'last']]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(expected);
    expect(fileKeyValueStore(path).get('key-40')).toBe('last');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a file that is not an object of strings, naming it, rather than mint a second identity', () => {
    const path = join(freshDirectory(), 'identity.json');
    writeFileSync(path, '[1, 2]');
    expect(() => fileKeyValueStore(path)).toThrow(/cannot read the peer identity file .*identity\.json: it holds an array/);
  });

  it('a write that fails rejects its own set, and the next set writes again', async () => {
    const path = join(freshDirectory(), 'identity.json');
    const store = fileKeyValueStore(path);
    mkdirSync(`${path}.tmp`); // the temporary file cannot be opened: a directory stands there
    await expect(store.set('id', 'peer-one')).rejects.toThrow(/EISDIR/);
    rmSync(`${path}.tmp`, { recursive: true });
    await store.set('claim', 'claim-one');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ id: 'peer-one', claim: 'claim-one' });
  });
});
