// Playwright end-to-end and multi-browser tests (e2e/*.spec.ts). Debian's Chromium with the flags
// from ENVIRONMENT.md; pages are built and served by the servers started here, so the whole run
// (servers, browsers, signaling servers the specs start) lives inside the loopback-only network
// namespace that scripts/test.mjs creates.
import { defineConfig } from '@playwright/test';
import { chromiumArguments, chromiumPath } from './scripts/browser-flags.mjs';

const port = Number(process.env.RAFTMESH_E2E_PORT ?? 5199);
/** Where the demo's static build is served (e2e/demo-static.spec.ts). */
export const staticPort = Number(process.env.RAFTMESH_E2E_STATIC_PORT ?? 5198);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // Two cores: the specs start several Chromium processes each; running them one at a time keeps
  // timing-sensitive Raft behaviour (elections, heartbeats) away from CPU starvation.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: chromiumPath, args: chromiumArguments },
    permissions: ['camera', 'microphone'],
    trace: 'off',
  },
  webServer: [
    {
      // The test pages and the demo, built once (e2e/vite.config.ts, about 2 s) and served at the
      // paths the Vite dev server served them at. From the dev server every page load fetched and
      // transformed its whole module graph (a chaos page: 328 requests, 3.0–3.4 s against 0.5 s
      // built), and the specs load some sixty pages from this server.
      command: `npx vite build --config e2e/vite.config.ts --logLevel warn && npx vite preview --config e2e/vite.config.ts --host 127.0.0.1 --port ${port} --strictPort`,
      url: `http://127.0.0.1:${port}/e2e/pages/blank.html`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      // The demo as a static build (vite build, then a static server): what users deploy.
      command: `npx vite build --config demo/vite.config.ts --logLevel warn && npx vite preview --config demo/vite.config.ts --host 127.0.0.1 --port ${staticPort} --strictPort`,
      url: `http://127.0.0.1:${staticPort}/index.html`,
      reuseExistingServer: false,
      timeout: 120_000,
    },
  ],
});
