// Vitest configuration and the library build. Test projects:
// - node and node-isolated: unit, scenario and simulation suites (plus IndexedDB on
//   fake-indexeddb), most files sharing workers, the few that change process-wide state not;
// - network: Node WebRTC peers (loopback-only namespace);
// - browser: `*.browser.test.ts` files, run in Debian's headless Chromium through Playwright
//   (ENVIRONMENT.md: Playwright cannot download browsers here; the flags below make WebRTC work
//   on loopback). scripts/test.mjs runs the browser project inside a loopback-only namespace.
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumArguments, chromiumPath } from './scripts/browser-flags.mjs';
import { isolatedNodeTestFiles } from './scripts/node-test-isolation.mjs';
import { raftmeshSourceAliases } from './scripts/source-aliases.mjs';
import { LongestFirstSequencer } from './scripts/test-order.mjs';

const nodeTestDirectories = ['src', 'bench', 'demo', 'e2e', 'scripts'];
const nodeTestFiles = nodeTestDirectories.map((directory) => `${directory}/**/*.test.ts`);
const notNodeTestFiles = ['**/*.browser.test.ts', '**/*.network.test.ts', 'node_modules/**'];
/** Node test files that change process-wide state: each runs in a fresh worker (node-isolated). */
const isolatedFiles = isolatedNodeTestFiles(import.meta.dirname, nodeTestDirectories);

export default defineConfig({
  build: {
    lib: {
      entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', webrtc: 'src/webrtc.ts', worker: 'src/worker.ts', rooms: 'src/rooms.ts', node: 'src/node.ts' },
      formats: ['es'],
    },
    outDir: 'dist',
    sourcemap: true,
  },
  worker: { format: 'es' },
  // The demo (served from here under test) imports the package by name: scripts/source-aliases.mjs.
  resolve: { alias: raftmeshSourceAliases },
  // The dependencies browser pages use, bundled when the server starts: discovered later, Vite
  // would re-optimize and reload every open page mid-test.
  // A dev server's scan for more (Vite's default, every page) skips the packed-package spec's
  // consumer app, which imports `raftmesh` by name from its own node_modules: unresolvable here,
  // it failed the whole scan ("Skipping dependency pre-bundling" in every Playwright run's log).
  // Not under Vitest: its browser project scans its own test files, and Vite would add these
  // pages to that list rather than replace it. Nor the pages Playwright's run builds into e2e/dist
  // (e2e/vite.config.ts): they import built chunks, not dependencies.
  optimizeDeps: {
    include: ['comlink', 'idb', 'simple-peer-light'],
    ...(process.env.VITEST === undefined ? { entries: ['**/*.html', '!e2e/packed-consumer/**', '!e2e/dist/**'] } : {}),
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The simulation campaigns first (scripts/test-order.mjs says why).
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        // Unit, scenario and simulation tests, file after file in each worker without isolation
        // (scripts/node-test-isolation.mjs says why, and which files cannot share a worker).
        extends: true,
        test: {
          name: 'node',
          include: nodeTestFiles,
          exclude: [...notNodeTestFiles, ...isolatedFiles],
          environment: 'node',
          pool: 'threads',
          isolate: false,
        },
      },
      {
        // The Node test files that install globals, mock modules or listen on the process: a
        // fresh worker each. `--project 'node*'` runs both Node projects.
        extends: true,
        test: {
          name: 'node-isolated',
          include: isolatedFiles,
          exclude: notNodeTestFiles,
          environment: 'node',
          pool: 'threads',
          isolate: true,
        },
      },
      {
        // Node tests that open real network connections (WebRTC between Node peers): npm test
        // runs them inside the loopback-only namespace, like the browser suites.
        extends: true,
        test: {
          name: 'network',
          include: ['src/**/*.network.test.ts'],
          environment: 'node',
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['src/**/*.browser.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              // gc() on the page, for tests of what must survive a collection (reader-reuse.browser.test.ts).
              launchOptions: { executablePath: chromiumPath, args: [...chromiumArguments, '--js-flags=--expose-gc'] },
              contextOptions: { permissions: ['camera', 'microphone'] },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
