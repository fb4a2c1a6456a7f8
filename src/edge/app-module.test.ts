// `raftmesh-peer --app MODULE`: the module's store options, and the version of its reducer, which
// it may export beside them (`export const version = 2`) or inside them (`storeOptions.version`).
// Without it the peer folded as version 0 and stopped at its application's first stamped command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApp } from './app-module.ts';

const directory = mkdtempSync(join(tmpdir(), 'raftmesh-app-module-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let modules = 0;
function moduleFile(source: string): string {
  const path = join(directory, `app-${(modules += 1)}.mjs`);
  writeFileSync(path, source);
  return path;
}
const options = 'export const storeOptions = { initialState: 0, apply: (state, command) => state + command';

describe('the --app module', () => {
  it('passes a `version` export on to the store options', async () => {
    expect((await loadApp(moduleFile(`${options} };\nexport const version = 3;\n`)))?.version).toBe(3);
  });

  it('keeps storeOptions.version, alone or with the same export', async () => {
    expect((await loadApp(moduleFile(`${options}, version: 2 };\n`)))?.version).toBe(2);
    expect((await loadApp(moduleFile(`${options}, version: 2 };\nexport const version = 2;\n`)))?.version).toBe(2);
    expect((await loadApp(moduleFile(`${options} };\n`)))?.version).toBeUndefined();
  });

  it('refuses two different versions, naming both', async () => {
    const path = moduleFile(`${options}, version: 2 };\nexport const version = 5;\n`);
    await expect(loadApp(path)).rejects.toThrow(`${path} exports version 5 but its storeOptions.version is 2: export one, or the same`);
  });
});
