// `npm run bench:worker`: the cost of the worker boundary. A 3-node cluster in headless Chromium,
// 100-byte commands proposed on the leader with N in flight, engines on the page (createRaftNode)
// vs each in its own worker (createWorkerRaftNode, transport on the page), in the same run and
// interleaved; plus engines in workers with the frames off the page too (a network worker).
import os from 'node:os';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { formatNumber } from './statistics.ts';
import type { Placement, WorkloadResult } from './pages/worker.ts';

const tiny = process.argv.includes('--tiny');
/** Commits measured per row (after a tenth as many for warm-up), by proposals in flight. */
const commitsFor = (inFlight: number): number => (tiny ? 200 : inFlight === 1 ? 1_000 : 10_000);
const placements: Array<{ placement: Placement; label: string }> = [
  { placement: 'page', label: 'engines on the page' },
  { placement: 'workers', label: 'engines in workers' },
  { placement: 'workersNetworkOffPage', label: 'workers, frames off the page' },
];

// Without file watching or HMR: other work editing the repository must not reload the page mid-run.
const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0, hmr: false, watch: null } });
await server.listen();
const address = server.httpServer?.address();
if (address === null || address === undefined || typeof address === 'string') throw new Error('the Vite server has no TCP address');
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArguments, headless: true });
try {
  console.log(`3-node cluster in headless Chromium ${browser.version()} — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
  console.log('100-byte commands proposed on the leader, in-memory storage; each row counts its commits after a warm-up of a tenth as many\n');
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`http://127.0.0.1:${address.port}/bench/pages/worker.html`);
  await page.waitForFunction('window.workerBench !== undefined');
  console.log('in flight   placement                       commits/s   p50 latency   p99 latency');
  for (const inFlight of tiny ? [8] : [1, 64, 1024]) {
    for (const { placement, label } of placements) {
      const result: WorkloadResult = await page.evaluate(([where, lanes, total]) => window.workerBench.run(where, lanes, total), [placement, inFlight, commitsFor(inFlight)] as const);
      console.log(`${String(inFlight).padStart(9)}   ${label.padEnd(30)}   ${formatNumber(result.commitsPerSecond).padStart(9)}   ${result.p50Ms.toFixed(2).padStart(8)} ms   ${result.p99Ms.toFixed(2).padStart(8)} ms`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
