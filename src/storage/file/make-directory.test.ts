// makeDirectory: missing parents made level by level, an existing directory left alone, and a
// clear error (not an endless loop) where the kernel refuses, as under /proc.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

  it('makes each level owner only (0700), and leaves the mode of one that exists alone', async () => {
    const root = fresh();
    await makeDirectory(join(root, 'outer', 'inner'), { sync: false });
    for (const level of ['outer', join('outer', 'inner')]) expect(statSync(join(root, level)).mode & 0o777).toBe(0o700);
    expect(statSync(root).mode & 0o777).toBe(0o700); // mkdtemp's own
    const existing = join(root, 'existing');
    mkdirSync(existing, { mode: 0o755 });
    chmodSync(existing, 0o755); // whatever the umask
    await makeDirectory(join(existing, 'data'), { sync: false });
    expect(statSync(existing).mode & 0o777).toBe(0o755);
    expect(statSync(join(existing, 'data')).mode & 0o777).toBe(0o700);
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
