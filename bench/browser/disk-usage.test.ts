import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { folderBytes, indexedDbFolder } from './disk-usage.ts';

const made: string[] = [];
afterEach(() => {
  for (const folder of made.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

function scratch(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmesh-disk-usage-'));
  made.push(folder);
  return folder;
}

describe('folderBytes', () => {
  it('adds up the files of nested folders, and a missing folder holds nothing', () => {
    const profile = scratch();
    const database = path.join(indexedDbFolder(profile), 'http_127.0.0.1_4173.indexeddb.leveldb');
    fs.mkdirSync(path.join(database, 'blobs'), { recursive: true });
    fs.writeFileSync(path.join(database, '000003.log'), new Uint8Array(1000));
    fs.writeFileSync(path.join(database, 'blobs', '1'), new Uint8Array(24));
    expect(folderBytes(indexedDbFolder(profile))).toBe(1024);
    expect(folderBytes(path.join(profile, 'nothing here'))).toBe(0);
  });

  it('does not follow symbolic links out of the folder', () => {
    const profile = scratch();
    const outside = scratch();
    fs.writeFileSync(path.join(outside, 'big'), new Uint8Array(5000));
    fs.mkdirSync(indexedDbFolder(profile), { recursive: true });
    fs.symlinkSync(outside, path.join(indexedDbFolder(profile), 'link'));
    expect(folderBytes(indexedDbFolder(profile))).toBe(0);
  });
});
