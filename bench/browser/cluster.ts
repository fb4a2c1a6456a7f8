// The bench's world: the bench page served over HTTP, a signaling server on 127.0.0.1, and three
// Chromium processes, each with one page running one Raft node (bench/pages/browser-node.ts).
//
// The page is a production build (`vite build`, served by `vite preview`), as an application ships
// its code: the engine's worker is one bundled script. The Vite dev server, which `--dev-server`
// still selects (its modules keep their file names, so CPU profiles group by source file),
// transforms and serves each module on request: every engine start fetched the worker's module
// graph through it, about 0.6 s at full CPU on a 2-core machine (against 0.1 s built), and that
// start lands in the middle of the snapshot phase, where a lagging node restarts five times. The
// dev server runs without watching or hot reload: edits elsewhere in the tree must never reload a
// page mid-run. The build is not minified, so function names in CPU profiles stay readable.
//
// Each process is launched with launchPersistentContext on its own temporary profile rather than
// chromium.launch + newContext: a context made by newContext is off the record, where Chromium
// keeps IndexedDB in memory, and "strict durability" would then measure nothing.
import fs from 'node:fs';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright';
import { build, createServer, preview } from 'vite';
import { chromiumArguments, chromiumPath } from '../../scripts/browser-flags.mjs';
import { startSignalingServer } from '../../src/signaling/server/index.ts';
import type { StartOptions } from '../pages/browser-node.ts';
import { attachDevTools, type PageDevTools } from './cdp.ts';

export const roomId = 'bench';
const secret = 'bench secret';
export const voters = ['node-a', 'node-b', 'node-c'] as const;

export interface BenchProcess {
  readonly id: string;
  readonly context: BrowserContext;
  page: Page;
  devTools: PageDevTools;
  /** Starts this process's node on its page (same id and IndexedDB database every time). */
  startNode(): Promise<void>;
  /** Closes the page (its worker and node die with it) and opens a fresh one, node not started. */
  reopen(): Promise<void>;
  closePage(): Promise<void>;
}

export interface BenchCluster {
  readonly processes: readonly BenchProcess[];
  /** The directory holding every process's profile: it appears in their browser processes' command lines. */
  readonly profilesDirectory: string;
  readonly browserVersion: string;
  readonly serving: BenchServing;
  close(): Promise<void>;
}

/** Where the bench page comes from: a production build (the default) or the Vite dev server. */
export type BenchServing = 'build' | 'dev';

/** `--dev-server` on the command line selects the dev server. */
export function benchServing(argv: readonly string[]): BenchServing {
  return argv.includes('--dev-server') ? 'dev' : 'build';
}

export interface PageServer {
  readonly baseUrl: string;
  close(): Promise<void>;
}

// Cross-origin isolation gives 5 µs timers instead of 100 µs (ENVIRONMENT.md).
const isolationHeaders = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const benchPage = 'bench/pages/browser-node.html';

function baseUrlOf(address: AddressInfo | string | null | undefined): string {
  if (address === null || address === undefined || typeof address === 'string') throw new Error('the bench page server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

async function startDevServer(): Promise<PageServer> {
  // Every page of the repository is served by the dev server: the page path only matters to a build.
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0, hmr: false, watch: null, headers: isolationHeaders } });
  await server.listen();
  return { baseUrl: baseUrlOf(server.httpServer?.address()), close: () => server.close() };
}

async function startBuiltPage(page: string): Promise<PageServer> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmesh-bench-page-'));
  // configFile: false, since the project's config builds the library, not pages.
  const shared = { configFile: false, root: process.cwd(), logLevel: 'error', build: { outDir } } as const;
  await build({ ...shared, build: { outDir, emptyOutDir: true, minify: false, rollupOptions: { input: page } }, worker: { format: 'es' } });
  const server = await preview({ ...shared, preview: { host: '127.0.0.1', port: 0, headers: isolationHeaders } });
  return {
    baseUrl: baseUrlOf(server.httpServer.address()),
    async close() {
      await server.close();
      fs.rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/**
 * Serves `page` (an HTML file under the repository root) built or from the dev server; the chaos
 * campaign (e2e/chaos/) serves its own page this way.
 */
export function startPageServer(page: string, serving: BenchServing): Promise<PageServer> {
  return serving === 'build' ? startBuiltPage(page) : startDevServer();
}

/** One Chromium process on its own persistent profile (see above for why persistent). */
export function launchProfile(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArguments, headless: true, permissions: ['camera', 'microphone'] });
}

/** How the nodes run: the benchmark always uses workers and strict durability. */
export type EngineOptions = Pick<StartOptions, 'engine' | 'durability' | 'raftConfig'>;

export async function startBenchCluster(compactEvery: number, engine: EngineOptions = {}, serving: BenchServing = 'build'): Promise<BenchCluster> {
  const server = await startPageServer(benchPage, serving);
  const baseUrl = server.baseUrl;
  const signaling = await startSignalingServer({ port: 0, host: '127.0.0.1', rooms: { [roomId]: { secret } } });
  const profiles = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmesh-bench-browser-'));
  const processes = await Promise.all(
    voters.map(async (id) => {
      const context = await launchProfile(path.join(profiles, id));
      const open = async (): Promise<{ page: Page; devTools: PageDevTools }> => {
        const page = await context.newPage();
        page.on('pageerror', (error) => console.error(`${id} page error: ${error.message}`));
        const devTools = await attachDevTools(context, page);
        await page.goto(`${baseUrl}/${benchPage}`);
        await page.waitForFunction(() => window.browserBench !== undefined);
        return { page, devTools };
      };
      for (const blank of context.pages()) await blank.close();
      const opened = await open();
      const startOptions: StartOptions = { signalingUrl: signaling.url, roomId, secret, self: id, voters, storageName: `bench-${id}`, compactEvery, ...engine };
      const benchProcess: BenchProcess = {
        id,
        context,
        page: opened.page,
        devTools: opened.devTools,
        startNode: () => benchProcess.page.evaluate((options) => window.browserBench.start(options), startOptions),
        async closePage() {
          await benchProcess.devTools.detach();
          await benchProcess.page.close();
        },
        async reopen() {
          if (!benchProcess.page.isClosed()) await benchProcess.closePage();
          const next = await open();
          benchProcess.page = next.page;
          benchProcess.devTools = next.devTools;
        },
      };
      return benchProcess;
    }),
  );
  const browserVersion = processes[0] === undefined ? 'unknown' : await processes[0].devTools.browserVersion();
  return {
    processes,
    profilesDirectory: profiles,
    browserVersion,
    serving,
    async close() {
      await Promise.all(processes.map((benchProcess) => benchProcess.context.close().catch(() => {})));
      await signaling.close();
      await server.close();
      fs.rmSync(profiles, { recursive: true, force: true });
    },
  };
}
