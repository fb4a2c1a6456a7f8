// Which Node test files need a fresh worker of their own. The node project runs the rest without
// isolation: one worker thread runs file after file on one module graph, which spares each file
// the ~0.4 s of starting a worker and importing its graph afresh (295 files: 85 s of the suite's
// 318 s on 2 cores, 2026-12-06). A file that changes what every later file in its worker would see
// gets a fresh worker: it installs a global (fake-indexeddb/auto, vi.stubGlobal, an assignment or
// defineProperty on globalThis), mocks a module (vi.mock and vi.doMock replace it in the shared
// graph), stubs the environment, listens on the process, or spies on a global (which would also
// count a call made by an earlier file's leftover timer). The list is read from the files
// themselves each time the configuration loads, so a new such file cannot slip in unisolated. The
// patterns read text, so such code quoted inside a string counts too: that file only loses its
// share of a worker.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What in a test file's text makes it change process-wide state. */
export const processWideChanges = [
  /['"]fake-indexeddb\/auto['"]/,
  /\bvi\.(mock|doMock|stubGlobal|stubEnv)\(/,
  /\bvi\.spyOn\(\s*(globalThis|global|window|process|console|Math|Date|performance)\b/,
  /\bglobalThis\.[A-Za-z_$][\w$]*\s*=[^=]/,
  /\bObject\.defineProperty\(\s*(globalThis|navigator)\b/,
  /\bprocess\.(on|once|addListener)\(/,
  /\bprocess\.env\.[A-Za-z_$][\w$]*\s*=[^=]/,
];

/** True when a test file's source changes process-wide state (processWideChanges). */
export const changesProcessWideState = (source) => processWideChanges.some((pattern) => pattern.test(source));

/** Every file under `directory` (relative to `root`) whose name ends with `suffix`, skipping node_modules. */
function filesUnder(root, directory, suffix) {
  const found = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(suffix)) found.push(relative(root, path));
    }
  };
  walk(join(root, directory));
  return found;
}

/**
 * The Node project's test files (under `directories` of `root`, named *.test.ts but not
 * *.browser.test.ts or *.network.test.ts) that change process-wide state, as paths relative to
 * `root` with forward slashes, sorted.
 */
export function isolatedNodeTestFiles(root, directories) {
  return directories
    .flatMap((directory) => filesUnder(root, directory, '.test.ts'))
    .filter((path) => !path.endsWith('.browser.test.ts') && !path.endsWith('.network.test.ts'))
    .filter((path) => changesProcessWideState(readFileSync(join(root, path), 'utf8')))
    .map((path) => path.split('\\').join('/'))
    .sort();
}
