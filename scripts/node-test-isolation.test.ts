import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { changesProcessWideState, isolatedNodeTestFiles } from './node-test-isolation.mjs';

describe('which Node test files change process-wide state', () => {
  it.each([
    ["import 'fake-indexeddb/auto';", 'installs IndexedDB globals'],
    ["vi.mock('node:fs', () => ({}));", 'mocks a module'],
    ["vi.doMock('./x.ts');", 'mocks a module later'],
    ["vi.stubGlobal('navigator', { locks });", 'stubs a global'],
    ["vi.stubEnv('HOME', '/');", 'stubs the environment'],
    ["const spy = vi.spyOn(globalThis, 'setTimeout');", 'spies on a global function'],
    ["vi.spyOn(console, 'log').mockImplementation(() => {});", 'silences the console'],
    ['globalThis.setTimeout = fake;', 'replaces a global'],
    ["Object.defineProperty(globalThis, 'crypto', { value: undefined });", 'redefines a global'],
    ["process.once('unhandledRejection', resolve);", 'listens on the process'],
    ["process.env.RAFTMESH_X = '1';", 'sets an environment variable'],
  ])('%s: yes (%s)', (source) => {
    expect(changesProcessWideState(`import { it } from 'vitest';\n${source}\n`)).toBe(true);
  });

  it.each([
    ["import { createRaftNode } from '../driver/create-raft-node.ts';"],
    ['if (globalThis.indexedDB === undefined) return;'],
    ["const spy = vi.spyOn(transport, 'send');"],
    ["process.env.HOME === '/' ? a : b;"],
    ['const seed = Number(process.env.ROOM_SIM_SEED ?? 1);'],
  ])('%s: no', (source) => {
    expect(changesProcessWideState(source)).toBe(false);
  });
});

describe('isolatedNodeTestFiles', () => {
  let root: string | null = null;
  afterEach(() => {
    if (root !== null) rmSync(root, { recursive: true, force: true });
    root = null;
  });

  it('lists the Node test files that change process-wide state, and no browser, network or dependency file', () => {
    root = mkdtempSync(join(tmpdir(), 'raftmesh-isolation-'));
    const files: Record<string, string> = {
      'src/a/plain.test.ts': "import { it } from 'vitest';",
      'src/a/globals.test.ts': "import 'fake-indexeddb/auto';",
      'src/b/deep/mocks.test.ts': "vi.mock('node:fs');",
      'src/b/stubbed.browser.test.ts': "vi.stubGlobal('x', 1);",
      'src/b/stubbed.network.test.ts': "vi.stubGlobal('x', 1);",
      'src/b/support.test-support.ts': "vi.stubGlobal('x', 1);",
      'src/node_modules/dependency/x.test.ts': "vi.stubGlobal('x', 1);",
      'bench/listens.test.ts': "process.on('exit', () => {});",
      'elsewhere/ignored.test.ts': "vi.stubGlobal('x', 1);",
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    expect(isolatedNodeTestFiles(root, ['src', 'bench'])).toEqual(['bench/listens.test.ts', 'src/a/globals.test.ts', 'src/b/deep/mocks.test.ts']);
  });

  it('in this repository, takes the files known to need a worker of their own', () => {
    const isolated = isolatedNodeTestFiles(join(import.meta.dirname, '..'), ['src', 'bench', 'demo', 'e2e', 'scripts']);
    // Each would break a file after it in a shared worker, or be broken by one before it (seen
    // 2026-12-06 when the whole suite ran without isolation).
    expect(isolated).toEqual(
      expect.arrayContaining([
        'src/storage/indexeddb-storage.test.ts',
        'src/storage/file/directory-lock-without-proc.test.ts',
        'src/contract/black-box/determinism.test.ts',
        'src/worker/worker-death.test.ts',
      ]),
    );
    expect(isolated).not.toContain('src/storage/indexeddb-storage-without-indexeddb.test.ts');
    expect(isolated).not.toContain('src/testing/simulation-5.test.ts');
  });
});
