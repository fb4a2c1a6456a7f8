// raftmesh/worker works in `vite build` output made the way an application makes it (no config of
// ours): the spec builds a page that calls createWorkerRaftNode, serves the output with `vite preview`
// (both inside the loopback-only namespace npm test runs Playwright in) and runs a node whose
// engine and IndexedDB storage live in the worker Vite emitted, through a restart.
import { expect, test } from '@playwright/test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';

let outDir = '';
let server: PreviewServer | null = null;

test.beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'raftmesh-worker-build-'));
  await build({
    configFile: false,
    root: resolve('.'),
    logLevel: 'error',
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, rollupOptions: { input: resolve('e2e/pages/worker-build.html') } },
  });
  server = await preview({ configFile: false, root: resolve('.'), logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
});

test.afterAll(async () => {
  await server?.close();
  rmSync(outDir, { recursive: true, force: true });
});

test('a worker node runs from vite build output: the worker is bundled, storage in it survives a restart', async ({ page }) => {
  const emitted = readdirSync(join(outDir, 'assets'));
  expect(emitted.some((file) => file.startsWith('worker-entry') && file.endsWith('.js'))).toBe(true);
  const address = server?.resolvedUrls?.local[0];
  expect(address).toBeDefined();
  await page.goto(`${address}e2e/pages/worker-build.html`);
  await page.waitForFunction('window.workerBuildTest !== undefined');
  const result = await page.evaluate(() => window.workerBuildTest());
  expect(result.replayed).toEqual(['from the built worker']);
  expect(result.firstIndex).toBe(2);
  expect(result.term).toBe(2);
});
