// makeDirectory: missing parents made level by level, an existing directory left alone, and a
// clear error (not an endless loop) where the kernel refuses, as under /proc.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDirectory } from './make-directory.ts';

const made: string[] = [];
afterEach(() => {
  for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
});
const fresh = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'raftmesh-make-directory-'));
  made.push(directory);
  return directory;
};

describe('makeDirectory', () => {
  it('makes every missing level, and is a no-op on a directory that exists', async () => {
    const root = fresh();
    const deep = join(root, 'a', 'b', 'c');
    await makeDirectory(deep, { sync: false });
    expect(statSync(deep).isDirectory()).toBe(true);
    await makeDirectory(deep, { sync: false });
    await makeDirectory(`${root}/a/./b/../b`, { sync: false });
    expect(statSync(join(root, 'a', 'b')).isDirectory()).toBe(true);
  });

  it('fails with the kernel\'s error under /proc instead of retrying without end', async () => {
    await expect(makeDirectory('/proc/raftmesh-no-such-place/deeper', { sync: false })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails below a file (ENOTDIR), and leaves an existing file for the caller to refuse', async () => {
    const file = join(fresh(), 'file');
    writeFileSync(file, 'x');
    await expect(makeDirectory(join(file, 'below'), { sync: false })).rejects.toMatchObject({ code: 'ENOTDIR' });
    await makeDirectory(file, { sync: false });
    expect(existsSync(file) && statSync(file).isFile()).toBe(true);
  });
});
