// `npm run bench:worker`: the cost of the worker boundary. A 3-node cluster in headless Chromium,
// 100-byte commands proposed on the leader with N in flight, engines on the page (createRaftNode)
// vs each in its own worker (createWorkerRaftNode, transport on the page), in the same run and
// interleaved; plus engines in workers with the frames off the page too (a network worker).
import os from 'node:os';
import { chromiumVersion, startBrowserHarness } from './browser-harness.ts';
import { formatNumber } from './statistics.ts';
import type { Placement, WorkloadResult } from './pages/worker.ts';

const tiny = process.argv.includes('--tiny');
/** Commits measured per row (after a tenth as many for warm-up), by proposals in flight. */
const commitsFor = (inFlight: number): number => (tiny ? 200 : inFlight === 1 ? 3_000 : 30_000);
const placements: Array<{ placement: Placement; label: string }> = [
  { placement: 'page', label: 'engines on the page' },
  { placement: 'workers', label: 'engines in workers' },
  { placement: 'workersNetworkOffPage', label: 'workers, frames off the page' },
];

const harness = await startBrowserHarness();
try {
  console.log(`3-node cluster in headless Chromium ${await chromiumVersion(harness.browser)} — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
  console.log('100-byte commands proposed on the leader, in-memory storage; each row counts its commits after a warm-up of a tenth as many\n');
  const page = await harness.openPage('/bench/pages/worker.html', 'window.workerBench !== undefined');
  console.log('in flight   placement                       commits/s   p50 latency   p99 latency');
  for (const inFlight of tiny ? [8] : [1, 64, 1024]) {
    for (const { placement, label } of placements) {
      const result: WorkloadResult = await page.evaluate(([where, lanes, total]) => window.workerBench.run(where, lanes, total), [placement, inFlight, commitsFor(inFlight)] as const);
      console.log(`${String(inFlight).padStart(9)}   ${label.padEnd(30)}   ${formatNumber(result.commitsPerSecond).padStart(9)}   ${result.p50Ms.toFixed(2).padStart(8)} ms   ${result.p99Ms.toFixed(2).padStart(8)} ms`);
    }
  }
} finally {
  await harness.close();
}
