// `npm run bench:stored-state`: what joinRoom's read of an id's stored state costs before a node
// starts, on the page (given `storage`) and in a worker of its own (workerNodeFactory, no
// `storage`), in headless Chromium, on a small log and on a full one (10,000 entries past a 4 MiB
// snapshot, about what compaction keeps at its default), from a production build (`vite build`,
// served by `vite preview`: what apps ship) and from the Vite dev server (what `npm run demo`
// serves, where a worker loads its modules one by one). Then the read and the node's start that
// follows it in joinRoom, with the node on a fresh worker and on the read's own (workerNodeFactory's
// keepReaderMs). Prints medians; `--rounds=N` (default 11).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright';
import { build, createServer, preview } from 'vite';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { median, roundsOption } from './statistics.ts';
import type { StoredStateReadResult } from './pages/stored-state-read.ts';

const rounds = roundsOption('bench:stored-state', 11);
const shapes = [
  { label: '1,000 entries', entries: 1_000, snapshotBytes: 0 },
  { label: '10,000 entries past a 4 MiB snapshot', entries: 10_000, snapshotBytes: 4 * 1024 * 1024 },
] as const;
const page = '/bench/pages/stored-state-read.html';

const outDir = mkdtempSync(path.join(os.tmpdir(), 'raftmesh-stored-state-'));
await build({ configFile: false, root: path.resolve('.'), logLevel: 'error', worker: { format: 'es' }, build: { outDir, emptyOutDir: true, rollupOptions: { input: path.resolve(`.${page}`) } } });
const built = await preview({ configFile: false, root: path.resolve('.'), logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
// Without file watching or HMR: other work editing the repository must not reload the page mid-run.
const dev = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0, hmr: false, watch: null } });
await dev.listen();
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArguments, headless: true });
try {
  console.log(`joinRoom's stored-state read in headless Chromium ${browser.version()} — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
  console.log(`medians of ${rounds} rounds, each reading on the page, then in a worker; "longest gap": the page's longest stall of a 1 ms timer during the read\n`);
  console.log('served by            database                                 on the page: elapsed / longest gap   in a worker: elapsed / longest gap   read + start, fresh worker / on the reader');
  for (const [servedBy, base] of [['vite build', built.resolvedUrls?.local[0]], ['Vite dev server', dev.resolvedUrls?.local[0]]] as const) {
    if (base === undefined) throw new Error(`${servedBy}: no address`);
    for (const shape of shapes) {
      const tab = await browser.newPage();
      tab.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      await tab.goto(new URL(page.slice(1), base).href);
      await tab.waitForFunction('window.storedStateRead !== undefined');
      const result: StoredStateReadResult = await tab.evaluate(([entries, snapshotBytes, count]) => window.storedStateRead.run(entries, snapshotBytes, count), [shape.entries, shape.snapshotBytes, rounds] as const);
      await tab.close();
      const figures = (reads: StoredStateReadResult['onPage']): string =>
        `${median(reads.map((read) => read.elapsedMs)).toFixed(1).padStart(7)} ms / ${median(reads.map((read) => read.longestGapMs)).toFixed(1).padStart(5)} ms`;
      const starts = `${median(result.startOnFreshWorker).toFixed(1).padStart(7)} ms / ${median(result.startOnReader).toFixed(1).padStart(7)} ms`;
      console.log(`${servedBy.padEnd(20)} ${shape.label.padEnd(40)} ${figures(result.onPage).padStart(36)}   ${figures(result.inWorker).padStart(34)}   ${starts.padStart(41)}`);
    }
  }
} finally {
  await browser.close();
  await dev.close();
  await built.close();
  rmSync(outDir, { recursive: true, force: true });
}
