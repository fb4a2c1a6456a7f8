// What raftmesh adds to an application's JavaScript: typical apps, written as a user writes them
// (imports by package name, through the package's `exports`), bundled for production by Vite
// (Rolldown; what this project and most browser apps build with) and by esbuild (the other
// widely used bundler, stricter about what it may drop), minified, then compressed as a web server
// sends them. `npm run bench -- bundle` prints the figures; bench/bundle-size.test.ts checks what
// goes where (an engine left out of a page that runs it in a worker, a dependency left out of an
// app that never calls it).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build as buildWithEsbuild, type Metafile, type Plugin as EsbuildPlugin } from 'esbuild';
import { build as buildWithVite, type Plugin as VitePlugin, type Rollup } from 'vite';

export const projectRoot = path.resolve(import.meta.dirname, '..');

export type Bundler = 'vite' | 'esbuild';
/** `dist`: the built package, what users install (`npm run build` first). `src`: the sources, for tests. */
export type PackageSource = 'dist' | 'src';

export interface AppScenario {
  readonly name: string;
  /** Specifier → the names the app imports from it, or '*' for the whole namespace. */
  readonly imports: Readonly<Record<string, readonly string[] | '*'>>;
}

const webRtc = ['createWebRtcTransport', 'createWebSocketSignalingClient'];

export const appScenarios: readonly AppScenario[] = [
  { name: 'a cluster on one page, loopback network (tests)', imports: { raftmesh: ['createRaftNode', 'createLoopbackNetwork'] } },
  { name: 'engine on the page, IndexedDB, WebRTC', imports: { raftmesh: ['createRaftNode', 'IndexedDbRaftStorage'], 'raftmesh/webrtc': webRtc } },
  // Ids and error classes come from the root: a page that imports any of it must still carry no engine.
  { name: 'engine in a worker, WebRTC (the page)', imports: { raftmesh: ['nodeId', 'LeadershipLostError'], 'raftmesh/worker': ['createWorkerRaftNode'], 'raftmesh/webrtc': webRtc } },
  { name: 'joinRoom, engine on the page', imports: { raftmesh: ['IndexedDbRaftStorage', 'joinRoom'], 'raftmesh/webrtc': webRtc } },
  // The README's app and the demo: joinRoom from raftmesh/rooms, which names no engine, with no
  // page-side storage (workerNodeFactory reads and deletes an id's storage in a worker), so the
  // page carries only the worker's client: no engine, no IndexedDB code.
  {
    name: "joinRoom from raftmesh/rooms, engine in a worker (the README's app)",
    imports: {
      'raftmesh/rooms': ['joinRoom'],
      'raftmesh/webrtc': ['combineSignalingClients', 'createBroadcastChannelSignalingClient', ...webRtc],
      'raftmesh/worker': ['workerNodeFactory'],
    },
  },
  // The same app with the root's joinRoom, whose default createRaftNode brings a second engine
  // onto the page that never runs (the README's app until 2026-12-05, night), and with the
  // page-side IndexedDB storage it took until 2026-12-05, late night.
  {
    name: 'joinRoom from the root, engine in a worker',
    imports: {
      raftmesh: ['IndexedDbRaftStorage', 'joinRoom'],
      'raftmesh/webrtc': ['combineSignalingClients', 'createBroadcastChannelSignalingClient', ...webRtc],
      'raftmesh/worker': ['workerNodeFactory'],
    },
  },
  { name: 'everything from the root', imports: { raftmesh: '*' } },
];

/** When the browser fetches a file: with the page, only once code asks for it, or as a worker's script. */
export type FileRole = 'at start' | 'on demand' | 'worker';

export interface BundledFile {
  readonly fileName: string;
  readonly role: FileRole;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
  /**
   * The modules with code in it, project-relative (`src/core/raft-core.ts`, `node_modules/idb/...`;
   * Vite also lists modules it shook down to nothing, left out here); null for Vite's worker,
   * emitted as an opaque asset.
   */
  readonly modules: readonly string[] | null;
  /** Minified bytes per package (raftmesh or a dependency); esbuild only, null for Vite. */
  readonly bytesByPackage: Readonly<Record<string, number>> | null;
}

/** The package's name and `exports`, read once: every build resolves the package through them. */
const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { import: { default: string } }> };

/** The file a package specifier resolves to through package.json's `exports` (its source twin for `src`). */
export function packageEntry(specifier: string, source: PackageSource): string {
  const subpath = specifier === manifest.name ? '.' : `.${specifier.slice(manifest.name.length)}`;
  const target = manifest.exports[subpath]?.import.default;
  if (target === undefined) throw new Error(`${specifier} is not an export of ${manifest.name}`);
  const built = path.join(projectRoot, target);
  return source === 'dist' ? built : built.replace(`${path.sep}dist${path.sep}`, `${path.sep}src${path.sep}`).replace(/\.js$/, '.ts');
}

/** The worker script createWorkerRaftNode starts (not an export: bundlers find it beside the client). */
function workerEntry(source: PackageSource): string {
  return path.join(projectRoot, source, 'worker', source === 'dist' ? 'worker-entry.js' : 'worker-entry.ts');
}

/** The app's one source file: the scenario's imports, all kept alive the way an app's calls keep them. */
export function appSource(scenario: AppScenario): string {
  const lines: string[] = [];
  const kept: string[] = [];
  Object.entries(scenario.imports).forEach(([specifier, names], index) => {
    if (names === '*') {
      lines.push(`import * as everything${index} from '${specifier}';`);
      kept.push(`everything${index}`);
    } else {
      lines.push(`import { ${names.join(', ')} } from '${specifier}';`);
      kept.push(...names);
    }
  });
  lines.push(`globalThis.raftmeshApp = [${kept.join(', ')}];`);
  return `${lines.join('\n')}\n`;
}

function projectRelative(file: string): string {
  const absolute = path.isAbsolute(file) ? file : path.resolve(projectRoot, file);
  const relative = path.relative(projectRoot, absolute).split(path.sep).join('/');
  // A dependency's files are named from its package down, however npm nested it.
  const nested = relative.lastIndexOf('node_modules/');
  return nested > 0 ? relative.slice(nested) : relative;
}

/** `raftmesh` for the package's own files, the name of a dependency for its files, `app` for the rest (the app's file, the bundler's helpers). */
export function packageOf(module: string): string {
  if (module.startsWith('src/') || module.startsWith('dist/')) return 'raftmesh';
  if (!module.startsWith('node_modules/')) return 'app';
  const [scopeOrName, name] = module.slice('node_modules/'.length).split('/');
  return scopeOrName?.startsWith('@') === true ? `${scopeOrName}/${name ?? ''}` : (scopeOrName ?? module);
}

function measured(fileName: string, role: FileRole, code: string | Uint8Array, modules: readonly string[] | null, bytesByPackage: Record<string, number> | null): BundledFile {
  const bytes = typeof code === 'string' ? Buffer.from(code) : Buffer.from(code.buffer, code.byteOffset, code.byteLength);
  return {
    fileName,
    role,
    bytes: bytes.byteLength,
    // The highest levels, as a server precompresses static assets (a server compressing on the fly
    // often picks lower ones and sends a few percent more).
    gzipBytes: gzipSync(bytes, { level: 9 }).byteLength,
    brotliBytes: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }).byteLength,
    modules,
    bytesByPackage,
  };
}

function viteResolver(source: PackageSource): VitePlugin {
  return {
    name: 'raftmesh-by-name',
    enforce: 'pre',
    resolveId: (id) => (id === 'raftmesh' || id.startsWith('raftmesh/') ? packageEntry(id, source) : null),
  };
}

function esbuildResolver(source: PackageSource): EsbuildPlugin {
  return { name: 'raftmesh-by-name', setup: (build) => build.onResolve({ filter: /^raftmesh(\/|$)/ }, (args) => ({ path: packageEntry(args.path, source) })) };
}

async function bundleWithVite(appFile: string, source: PackageSource): Promise<BundledFile[]> {
  const output = await buildWithVite({
    configFile: false,
    root: path.dirname(appFile),
    logLevel: 'silent',
    plugins: [viteResolver(source)],
    build: { write: false, minify: true, modulePreload: false, reportCompressedSize: false, rollupOptions: { input: appFile } },
  });
  const files = (Array.isArray(output) ? output : [output as Rollup.RollupOutput]).flatMap((result) => result.output);
  const chunks = new Map(files.filter((file): file is Rollup.OutputChunk => file.type === 'chunk').map((chunk) => [chunk.fileName, chunk]));
  const atStart = new Set<string>();
  const visit = (fileName: string): void => {
    if (atStart.has(fileName)) return;
    atStart.add(fileName);
    for (const imported of chunks.get(fileName)?.imports ?? []) visit(imported);
  };
  for (const chunk of chunks.values()) if (chunk.isEntry) visit(chunk.fileName);
  return files.flatMap((file): BundledFile[] => {
    if (file.type === 'chunk') return [measured(file.fileName, atStart.has(file.fileName) ? 'at start' : 'on demand', file.code, Object.entries(file.modules).filter(([, module]) => module.renderedLength > 0).map(([id]) => projectRelative(id)), null)];
    // Vite builds `new Worker(new URL(…, import.meta.url))` targets as bundles of their own, emitted as assets.
    return file.fileName.endsWith('.js') ? [measured(file.fileName, 'worker', file.source, null, null)] : [];
  });
}

async function esbuildFiles(entry: string, source: PackageSource, role: FileRole | null): Promise<BundledFile[]> {
  const result = await buildWithEsbuild({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    outdir: path.join(path.dirname(entry), 'out'),
    absWorkingDir: projectRoot,
    logLevel: 'silent',
    plugins: [esbuildResolver(source)],
  });
  const metafile: Metafile = result.metafile;
  const outputs = metafile.outputs;
  // esbuild marks an import()'s target as an entry point too: the app's output is the one built from its file.
  const entryPath = path.relative(projectRoot, entry).split(path.sep).join('/');
  const entryOutput = Object.keys(outputs).find((name) => outputs[name]?.entryPoint === entryPath);
  if (entryOutput === undefined) throw new Error(`esbuild wrote no output for ${entryPath}`);
  const atStart = new Set<string>();
  const visit = (name: string): void => {
    if (atStart.has(name)) return;
    atStart.add(name);
    for (const imported of outputs[name]?.imports ?? []) if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit(entryOutput);
  const files = result.outputFiles.filter((file) => file.path.endsWith('.js')).map((file) => {
    const name = path.relative(projectRoot, file.path).split(path.sep).join('/');
    // Modules esbuild shook down to nothing are listed with 0 bytes: left out, as for Vite.
    const inputs = Object.entries(outputs[name]?.inputs ?? {}).filter(([, { bytesInOutput }]) => bytesInOutput > 0);
    const bytesByPackage: Record<string, number> = {};
    for (const [input, { bytesInOutput }] of inputs) {
      const owner = packageOf(projectRelative(input));
      bytesByPackage[owner] = (bytesByPackage[owner] ?? 0) + bytesInOutput;
    }
    const fileRole = role ?? (atStart.has(name) ? 'at start' : 'on demand');
    return measured(path.basename(name), fileRole, file.contents, inputs.map(([input]) => projectRelative(input)), bytesByPackage);
  });
  return files;
}

async function bundleWithEsbuild(appFile: string, source: PackageSource): Promise<BundledFile[]> {
  const app = await esbuildFiles(appFile, source, null);
  // esbuild leaves `new Worker(new URL('./worker-entry.js', import.meta.url))` as it is: an app
  // built with it bundles the worker script as an entry of its own, as here.
  const startsWorker = app.some((file) => file.role !== 'worker' && (file.modules ?? []).some((module) => /(^|\/)worker\/worker-client\.(js|ts)$/.test(module)));
  if (!startsWorker) return app;
  return [...app, ...(await esbuildFiles(workerEntry(source), source, 'worker'))];
}

/** Bundles one scenario's app in a fresh temporary folder and measures every file the bundler wrote. */
export async function bundleScenario(scenario: AppScenario, bundler: Bundler, source: PackageSource): Promise<BundledFile[]> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'raftmesh-bundle-'));
  try {
    const appFile = path.join(folder, 'app.js');
    await writeFile(appFile, appSource(scenario));
    return bundler === 'vite' ? await bundleWithVite(appFile, source) : await bundleWithEsbuild(appFile, source);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export interface RoleTotals {
  readonly files: number;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
}

export function totals(files: readonly BundledFile[], role: FileRole): RoleTotals {
  const chosen = files.filter((file) => file.role === role);
  return {
    files: chosen.length,
    bytes: chosen.reduce((sum, file) => sum + file.bytes, 0),
    gzipBytes: chosen.reduce((sum, file) => sum + file.gzipBytes, 0),
    brotliBytes: chosen.reduce((sum, file) => sum + file.brotliBytes, 0),
  };
}

const kibibytes = (bytes: number): string => (bytes / 1024).toFixed(1);

function cell(role: RoleTotals): string {
  return role.files === 0 ? '—' : `${kibibytes(role.bytes)} / ${kibibytes(role.gzipBytes)} / ${kibibytes(role.brotliBytes)}`;
}

/** The table `npm run bench -- bundle` prints (the package must be built: dist/ is what users install). */
export async function bundleSizes(source: PackageSource = 'dist'): Promise<string[]> {
  const nameWidth = Math.max(...appScenarios.map((scenario) => scenario.name.length));
  const lines = [
    'KiB minified / gzip -9 / brotli -q 11; "at start": what the page loads with the app, "on demand": chunks loaded when code asks for them, "worker": the engine worker\'s script',
    `${'app'.padEnd(nameWidth)} ${'bundler'.padEnd(8)} ${'at start'.padStart(22)} ${'on demand'.padStart(22)} ${'worker'.padStart(22)}   packages at start (KiB minified, esbuild)`,
  ];
  for (const scenario of appScenarios) {
    for (const bundler of ['vite', 'esbuild'] as const) {
      const files = await bundleScenario(scenario, bundler, source);
      const byPackage: Record<string, number> = {};
      for (const file of files) if (file.role === 'at start') for (const [name, bytes] of Object.entries(file.bytesByPackage ?? {})) byPackage[name] = (byPackage[name] ?? 0) + bytes;
      // The app's one file and the bundler's helpers are not what the table is about.
      const packages = Object.entries(byPackage).filter(([name]) => name !== 'app').sort(([, left], [, right]) => right - left).map(([name, bytes]) => `${name} ${kibibytes(bytes)}`).join(', ');
      lines.push(`${scenario.name.padEnd(nameWidth)} ${bundler.padEnd(8)} ${cell(totals(files, 'at start')).padStart(22)} ${cell(totals(files, 'on demand')).padStart(22)} ${cell(totals(files, 'worker')).padStart(22)}   ${packages}`);
    }
  }
  return lines;
}
