// `npm run bench:demo-reload`: how long a reloaded tab of the demo takes to be back in its room,
// the figure a user of a collaborative app feels most often. Three headless Chromium processes
// open the demo board (one room; engines in workers, IndexedDB, WebRTC through a signaling server
// this bench starts on 127.0.0.1); once they agree, the second page is reloaded `--rounds` times
// (default 7), 3 s apart, and each reload is timed from the reload to the app's `ready` (its node
// started, its store following the room), and checked to come back under the same id. Served by
// the Vite dev server (what `npm run demo` serves: a worker loads its modules one by one) and by a
// production build (`vite build`, served by `vite preview`: what an app deploys). Prints each
// reload and the medians.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { build, createServer, preview } from 'vite';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { median, roundsOption } from './statistics.ts';
import { startSignalingServer } from '../src/signaling/server/index.ts';

const rounds = roundsOption('bench:demo-reload', 7);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Until the app says it is in its room; a page that never gets there fails the run after 60 s instead of hanging it. */
async function waitReady(page: Page): Promise<void> {
  const deadline = Date.now() + 60_000;
  await page.waitForFunction(() => window.raftmeshDemo !== undefined, null, { timeout: 60_000 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('a page was not ready within 60 s')), Math.max(0, deadline - Date.now()))));
  try {
    await Promise.race([page.evaluate(() => window.raftmeshDemo.ready), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the board in three browsers, then reloads the second `rounds` times; each reload's ms to ready. */
async function measure(base: string, signalingUrl: string): Promise<number[]> {
  const browsers: Browser[] = [];
  try {
    const pages: Page[] = [];
    const room = `reload-${crypto.randomUUID().slice(0, 8)}`;
    for (const name of ['Ada', 'Bo', 'Cy']) {
      const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArguments, headless: true });
      browsers.push(browser);
      if (browsers.length === 1) console.log(`  Chromium ${browser.version()}`);
      // Camera and microphone: without them Chromium hides host candidates behind mDNS names, which
      // nothing resolves on a loopback-only host (ENVIRONMENT.md).
      const page = await (await browser.newContext({ permissions: ['camera', 'microphone'] })).newPage();
      page.on('pageerror', (error) => console.error(`${name}: page error: ${error.message}`));
      await page.goto(`${base}?room=${room}&name=${name}&signal=${encodeURIComponent(signalingUrl)}`);
      pages.push(page);
    }
    for (const page of pages) await waitReady(page);
    const reloaded = pages[1]!;
    // Until every page is a voter of one cluster: the reloaded one must come back as a member.
    const roles = async (): Promise<string[]> => Promise.all(pages.map((page) => page.evaluate(() => window.raftmeshDemo.role())));
    for (let waited = 0; ; waited += 250) {
      const current = await roles();
      if (current.filter((role) => role === 'leader').length === 1 && current.every((role) => role === 'leader' || role === 'follower')) break;
      if (waited > 60_000) throw new Error(`the three pages did not form a cluster within 60 s: ${current.join(', ')}`);
      await pause(250);
    }
    const times: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      await pause(3_000);
      const before = await reloaded.evaluate(() => window.raftmeshDemo.nodeId());
      const started = Date.now();
      await reloaded.reload();
      await waitReady(reloaded);
      const elapsed = Date.now() - started;
      const after = await reloaded.evaluate(() => window.raftmeshDemo.nodeId());
      if (before !== after) throw new Error(`reload ${round + 1} came back under another id (${String(before)} → ${String(after)})`);
      times.push(elapsed);
      console.log(`  reload ${round + 1}: ${elapsed} ms to ready`);
    }
    const errors = await reloaded.evaluate(() => window.raftmeshDemo.errors());
    if (errors.length > 0) throw new Error(`the reloaded page reported errors: ${JSON.stringify(errors)}`);
    return times;
  } finally {
    await Promise.all(browsers.map((browser) => browser.close()));
  }
}

const signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
const outDir = mkdtempSync(path.join(os.tmpdir(), 'raftmesh-demo-reload-'));
await build({ configFile: 'demo/vite.config.ts', logLevel: 'error', build: { outDir, emptyOutDir: true } });
const built = await preview({ configFile: 'demo/vite.config.ts', logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
// Without file watching or HMR: other work editing the repository must not reload the pages mid-run.
const dev = await createServer({ configFile: 'demo/vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0, hmr: false, watch: null } });
await dev.listen();
try {
  console.log(`demo reload → ready in headless Chromium (${chromiumPath}) — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
  console.log(`three browser processes in one room; the second page reloaded ${rounds} times, 3 s apart\n`);
  const summary: string[] = [];
  for (const [servedBy, base] of [['Vite dev server', dev.resolvedUrls?.local[0]], ['vite build', built.resolvedUrls?.local[0]]] as const) {
    if (base === undefined) throw new Error(`${servedBy}: no address`);
    console.log(servedBy);
    const times = await measure(base, signaling.url);
    summary.push(`${servedBy.padEnd(16)} median ${median(times)} ms (${Math.min(...times)}–${Math.max(...times)} ms over ${times.length} reloads)`);
  }
  console.log(`\n${summary.join('\n')}`);
} finally {
  await dev.close();
  await built.close();
  await signaling.close();
  rmSync(outDir, { recursive: true, force: true });
}
