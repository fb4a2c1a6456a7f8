// What goes where when an app bundles raftmesh (bench/bundle-size.ts builds the apps; the figures
// are `npm run bench -- bundle`'s). Built from the sources, as the project's own pages are, with
// both bundlers: a module that loads for nothing, or an engine on a page that runs it in a
// worker, shows up here as a module in the wrong file, whatever its size.
import { describe, expect, it } from 'vitest';
import { appScenarios, appSource, bundleScenario, packageEntry, packageOf, projectRoot, type AppScenario, type BundledFile } from './bundle-size.ts';

function scenario(name: string): AppScenario {
  const found = appScenarios.find((candidate) => candidate.name.startsWith(name));
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
}

const modulesAtStart = (files: readonly BundledFile[]): string[] => files.filter((file) => file.role === 'at start').flatMap((file) => file.modules ?? []);
/** The packages with code at start, besides the app's own file and the bundler's helpers. */
const packagesAtStart = (files: readonly BundledFile[]): string[] => [...new Set(modulesAtStart(files).map(packageOf))].filter((name) => name !== 'app').sort();

it('resolves the package by name through its exports, built or source, and keeps every import alive', () => {
  expect(packageEntry('raftmesh', 'dist')).toBe(`${projectRoot}/dist/index.js`);
  expect(packageEntry('raftmesh/worker', 'src')).toBe(`${projectRoot}/src/worker.ts`);
  expect(packageEntry('raftmesh/rooms', 'dist')).toBe(`${projectRoot}/dist/rooms.js`);
  expect(() => packageEntry('raftmesh/nothing', 'src')).toThrow('raftmesh/nothing is not an export of raftmesh');
  expect(appSource({ name: 'x', imports: { raftmesh: ['a', 'b'], 'raftmesh/webrtc': '*' } })).toBe(
    "import { a, b } from 'raftmesh';\nimport * as everything1 from 'raftmesh/webrtc';\nglobalThis.raftmeshApp = [a, b, everything1];\n",
  );
  expect(packageOf('node_modules/idb/build/index.js')).toBe('idb');
  expect(packageOf('node_modules/@scope/name/index.js')).toBe('@scope/name');
  expect(packageOf('src/core/raft-core.ts')).toBe('raftmesh');
  expect(packageOf('../../tmp/raftmesh-bundle-x/app.js')).toBe('app');
  expect(packageOf('\0vite/preload-helper.js')).toBe('app');
});

describe.each(['vite', 'esbuild'] as const)('bundled by %s', (bundler) => {
  it('an app that never opens a data channel or starts a worker carries neither', async () => {
    const files = await bundleScenario(scenario('a cluster on one page'), bundler, 'src');
    expect(modulesAtStart(files)).toContain('src/core/raft-core.ts');
    expect(packagesAtStart(files)).toEqual(['raftmesh']);
    expect(files.filter((file) => file.role === 'worker')).toEqual([]);
  });

  it('a page that runs its engine in a worker carries the worker client, not the engine, though it imports ids and errors from the root; the worker script carries the engine', async () => {
    const files = await bundleScenario(scenario('engine in a worker'), bundler, 'src');
    const atStart = modulesAtStart(files);
    expect(atStart).toContain('src/worker/worker-client.ts');
    expect(atStart).not.toContain('src/core/raft-core.ts');
    expect(atStart).not.toContain('src/driver/create-raft-node.ts');
    const workers = files.filter((file) => file.role === 'worker');
    expect(workers).toHaveLength(1);
    // Vite emits the worker as an opaque asset: its size says it holds the engine (the page's whole bundle is smaller).
    if (bundler === 'esbuild') expect(workers[0]?.modules).toContain('src/core/raft-core.ts');
    expect(workers[0]?.bytes).toBeGreaterThan(100_000);
  });

  it("joinRoom from raftmesh/rooms with its engine in a worker carries no engine on the page; the root's joinRoom, whose default is createRaftNode, does", async () => {
    const engineFree = modulesAtStart(await bundleScenario(scenario('joinRoom from raftmesh/rooms'), bundler, 'src'));
    expect(engineFree).toContain('src/rooms/join-room-with.ts');
    expect(engineFree).toContain('src/worker/worker-client.ts');
    expect(engineFree).not.toContain('src/core/raft-core.ts');
    expect(engineFree).not.toContain('src/driver/create-raft-node.ts');
    // Nor the IndexedDB storage: the app opens no storage on the page, workerNodeFactory reads
    // and deletes it in a worker. (The page keeps the small Web Lock helpers of
    // src/storage/indexeddb/, with which joinRoom claims a tab's identity.)
    const indexedDbStorage = engineFree.filter((module) => (module.startsWith('src/storage/indexeddb') && !/^src\/storage\/indexeddb\/(?:database|version)-lock\.ts$/.test(module)) || module.startsWith('node_modules/idb/'));
    expect(indexedDbStorage).toEqual([]);
    // The same app through the root: what raftmesh/rooms is for.
    expect(modulesAtStart(await bundleScenario(scenario('joinRoom from the root, engine in a worker'), bundler, 'src'))).toContain('src/core/raft-core.ts');
  });

  it('no browser bundle carries the signaling server, ws or Node built-ins', async () => {
    const files = await bundleScenario(scenario('everything from the root'), bundler, 'src');
    const modules = files.flatMap((file) => file.modules ?? []);
    expect(modules.filter((module) => module.startsWith('src/signaling/server/') || module.startsWith('src/edge/') || module.startsWith('node_modules/ws/'))).toEqual([]);
    expect(packagesAtStart(files)).toEqual(['comlink', 'idb', 'raftmesh', 'simple-peer-light']);
  });
});
