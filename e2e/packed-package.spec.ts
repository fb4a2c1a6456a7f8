// What a user installs is the tarball `npm pack` makes, not this source tree: `dist/` as tsc built
// it, the exports map, the bins. Every other spec imports the sources, where Vite resolves the
// worker client's `new URL('./worker-entry.js', import.meta.url)` to a .ts file beside it. Here a
// consumer application (e2e/packed-consumer/) gets the package the way `npm install` lays it out
// (the tarball unpacked in its node_modules, its dependencies beside it) and imports it by name:
// its TypeScript checks against the packed declarations, Node runs every entry, and Vite serves
// and builds its page, whose engine runs in the worker Vite has to find inside node_modules. The
// dev server matters on its own: it pre-bundles dependencies into node_modules/.vite, where the
// relative worker URLs of libraries broke before Vite's optimizer rebased them.
import { expect, type Page, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';

interface PackedManifest {
  readonly exports: Record<string, { readonly import: { readonly types: string; readonly default: string } }>;
  readonly bin: Record<string, string>;
  readonly dependencies: Record<string, string>;
}

interface ConsumerResult {
  readonly firstIndex: number;
  readonly replayed: readonly string[];
  readonly webRtcEntry: string;
  readonly roomTotal: number;
  readonly workerRoomTotal: number;
  readonly rejoinedSameId: boolean;
  readonly discarded: boolean;
}

declare global {
  interface Window {
    // Set by e2e/packed-consumer/browser-app.ts, which this project's compiler does not see.
    consumerTest: () => Promise<ConsumerResult>;
  }
}

const projectRoot = resolve('.');
let folder = '';
let app = '';
let packedFiles: readonly string[] = [];
/** The unpacked package in the consumer's node_modules, and its package.json. */
let packageFolder = '';
let manifest: PackedManifest | null = null;

function packedManifest(): PackedManifest {
  if (manifest === null) throw new Error('the package was not unpacked');
  return manifest;
}

/** Runs a command to completion; its output is returned, and shown with the failure if it fails. */
function run(command: string, args: readonly string[], cwd: string): string {
  // npm is told to stay offline and not look for a newer version of itself: nothing here needs a
  // registry, and tests reach no address but loopback.
  const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${output}`);
  return result.stdout;
}

test.beforeAll(() => {
  test.setTimeout(180_000);
  folder = mkdtempSync(join(tmpdir(), 'raftmesh-packed-'));
  // `npm pack` runs `prepare` (the tsc build) first, so the tarball is built from these sources;
  // dist/ goes first, or a file deleted from src/ since the last build would ship all the same.
  rmSync(join(projectRoot, 'dist'), { recursive: true, force: true });
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', folder], projectRoot)) as { filename: string; files: { path: string }[] }[];
  if (packed === undefined) throw new Error('npm pack reported no tarball');
  packedFiles = packed.files.map((file) => file.path);
  app = join(folder, 'app');
  cpSync(resolve('e2e/packed-consumer'), app, { recursive: true });
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, '@types'), { recursive: true });
  run('tar', ['xzf', join(folder, packed.filename), '-C', modules], projectRoot);
  packageFolder = join(modules, 'raftmesh');
  renameSync(join(modules, 'package'), packageFolder);
  manifest = JSON.parse(readFileSync(join(packageFolder, 'package.json'), 'utf8')) as PackedManifest;
  // The package's dependencies, where npm would put them (this project's copies, so nothing is
  // fetched), and @types/node for the Node side's build.
  for (const name of Object.keys(manifest.dependencies)) symlinkSync(join(projectRoot, 'node_modules', name), join(modules, name));
  symlinkSync(join(projectRoot, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
});

test.afterAll(() => {
  if (folder !== '') rmSync(folder, { recursive: true, force: true });
});

test('the tarball carries every file the exports map and the bins name, and no tests', () => {
  const { bin, exports } = packedManifest();
  const named = [...Object.values(exports).flatMap((entry) => [entry.import.types, entry.import.default]), ...Object.values(bin)].map((path) => path.replace(/^\.\//, ''));
  expect(named.length).toBeGreaterThan(12);
  for (const path of named) expect(packedFiles, path).toContain(path);
  expect(packedFiles).toContain('dist/worker/worker-entry.js');
  for (const file of Object.values(bin)) expect(readFileSync(join(packageFolder, file), 'utf8').startsWith('#!/usr/bin/env node\n'), file).toBe(true);
  expect(packedFiles.filter((path) => /\.test\.|test-support|conformance|arbitraries|-cli\.js$/.test(path))).toEqual([]);
});

const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');

test("a strict TypeScript page checks against the packed declarations, without skipLibCheck", () => {
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
});

test('a Node project builds against the packed declarations, imports every entry by name, a node on FileRaftStorage replays its commit after a restart, the root starts the signaling server, and the bins answer', () => {
  run(process.execPath, [tsc, '-p', 'tsconfig.node.json'], app);
  const result = JSON.parse(run(process.execPath, ['node-build/node-app.js'], app)) as { index: number; replayed: string[]; signalingUrl: string; functions: string[] };
  expect(result.index).toBe(2);
  expect(result.replayed).toEqual(['from node_modules']);
  expect(result.signalingUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  expect(result.functions).toEqual(['startEdgePeer', 'joinRoomWithoutEngine', 'startSignalingServer', 'createSimulatedCluster', 'createWebRtcTransport', 'workerNodeFactory']);
  // One import per subpath entry: a new entry must be added to node-app.ts too.
  expect(result.functions).toHaveLength(Object.keys(packedManifest().exports).length - 1);
  const { bin } = packedManifest();
  expect(run(process.execPath, [join(packageFolder, bin['raftmesh-peer'] ?? 'missing'), '--help'], app)).toContain('usage: raftmesh-peer');
  expect(run(process.execPath, [join(packageFolder, bin['raftmesh-signal'] ?? 'missing'), '--help'], app)).toContain('usage: raftmesh-signal');
});

test('a CommonJS program require()s every entry (Node 20.19 and later load ES modules that way) and gets the same module as import', () => {
  // Until 2026-12-07 the exports map had only an `import` condition, so require('raftmesh') failed
  // with Node's "No exports main defined", which says nothing of ESM (a newcomer's review). A
  // `default` condition beside it, naming the same files, lets require(esm) load them.
  const entries = Object.keys(packedManifest().exports).map((key) => (key === '.' ? 'raftmesh' : `raftmesh/${key.slice(2)}`));
  const program = `
    const entries = ${JSON.stringify(entries)};
    const loaded = entries.map((name) => [name, Object.keys(require(name)).length]);
    import('raftmesh').then((imported) => {
      console.log(JSON.stringify({ loaded, same: imported.createRaftNode === require('raftmesh').createRaftNode }));
    });`;
  const result = JSON.parse(run(process.execPath, ['--input-type=commonjs', '-e', program], app)) as { loaded: [string, number][]; same: boolean };
  expect(result.loaded.map(([name]) => name)).toEqual(entries);
  for (const [name, exported] of result.loaded) expect(exported, name).toBeGreaterThan(0);
  expect(result.same).toBe(true);
});

/** Opens the consumer's page and runs its one-node worker cluster through a restart. */
async function runConsumerPage(page: Page, address: string): Promise<ConsumerResult> {
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) failures.push(`${response.status()} ${response.url()}`);
  });
  let workersStarted = 0;
  page.on('worker', () => (workersStarted += 1));
  await page.goto(address);
  await page.waitForFunction('window.consumerTest !== undefined');
  const result = await page.evaluate(() => window.consumerTest());
  expect(failures).toEqual([]);
  // Two for the two createWorkerRaftNode runs; one for each room join (the worker that reads the
  // id's storage hosts its node); two reads (each keeps its worker until the discard after it) and
  // two deletes. A join whose node started on a fresh worker would make ten.
  expect(workersStarted).toBe(8);
  // Every one ended: the nodes closed, the rooms left, the last reader dropped by its discard.
  await expect.poll(() => page.workers().length).toBe(0);
  return result;
}

test("the Vite dev server, which pre-bundles dependencies, serves it: the engine runs in the worker from node_modules, and rooms run on joinRoom's default engine and, from raftmesh/rooms, on the worker's, which reads (on a rejoin) and deletes their storage in workers", async ({ page }) => {
  let server: ViteDevServer | null = null;
  try {
    server = await createServer({ configFile: false, root: app, logLevel: 'error', server: { host: '127.0.0.1', port: 0, strictPort: false } });
    await server.listen();
    const address = server.resolvedUrls?.local[0];
    expect(address).toBeDefined();
    const result = await runConsumerPage(page, address ?? '');
    expect(result).toEqual({ firstIndex: 2, replayed: ['from node_modules'], webRtcEntry: 'function', roomTotal: 5, workerRoomTotal: 7, rejoinedSameId: true, discarded: true });
    // It was the pre-bundled copy that ran, not the files in node_modules/raftmesh.
    const optimized = JSON.parse(readFileSync(join(app, 'node_modules', '.vite', 'deps', '_metadata.json'), 'utf8')) as { optimized: Record<string, unknown> };
    expect(Object.keys(optimized.optimized)).toEqual(expect.arrayContaining(['raftmesh', 'raftmesh/rooms', 'raftmesh/worker', 'raftmesh/webrtc']));
  } finally {
    await server?.close();
  }
});

test("vite build's output runs it: the worker is emitted from node_modules, its storage survives a restart, rooms run on joinRoom's default engine and, from raftmesh/rooms, on the worker's (reading and deleting their storage in workers), and no server code is bundled", async ({ page }) => {
  let server: PreviewServer | null = null;
  const outDir = join(folder, 'build');
  try {
    await build({ configFile: false, root: app, logLevel: 'error', build: { outDir, emptyOutDir: true } });
    server = await preview({ configFile: false, root: app, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
    const address = server.resolvedUrls?.local[0];
    expect(address).toBeDefined();
    const result = await runConsumerPage(page, address ?? '');
    expect(result).toEqual({ firstIndex: 2, replayed: ['from node_modules'], webRtcEntry: 'function', roomTotal: 5, workerRoomTotal: 7, rejoinedSameId: true, discarded: true });
    // The page imports the root, which exports startSignalingServer: the server (node:http, ws)
    // stays out of the browser bundle all the same.
    const emitted = readdirSync(join(outDir, 'assets')).filter((file) => file.endsWith('.js'));
    expect(emitted.some((file) => file.startsWith('worker-entry'))).toBe(true);
    for (const file of emitted) expect(readFileSync(join(outDir, 'assets', file), 'utf8'), file).not.toMatch(/node:http|WebSocketServer/);
  } finally {
    await server?.close();
  }
});
