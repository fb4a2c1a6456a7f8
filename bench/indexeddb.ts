// `npm run bench:indexeddb`: IndexedDbRaftStorage in headless Chromium. Entries per second
// persisted with batches of 1, 16, 64 and 256 100-byte entries, strict and relaxed, and the batch
// size the driver achieves under load (one-node cluster, proposals in flight).
import os from 'node:os';
import { chromiumVersion, startBrowserHarness } from './browser-harness.ts';
import { formatNumber } from './statistics.ts';

const tiny = process.argv.includes('--tiny');
const harness = await startBrowserHarness();
try {
  console.log(`IndexedDbRaftStorage in headless Chromium ${await chromiumVersion(harness.browser)} — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
  const page = await harness.openPage('/bench/pages/indexeddb.html', 'window.indexedDbBench !== undefined');
  console.log('\nwriteBatch of N 100-byte entries, one transaction each, sequential');
  console.log('batch   durability   entries/s   transactions/s');
  for (const batchSize of [1, 16, 64, 256]) {
    for (const durability of ['strict', 'relaxed'] as const) {
      const total = tiny ? batchSize * 5 : Math.min(60_000, Math.max(1_500, batchSize * 300));
      const result = await page.evaluate(([size, mode, entries]) => window.indexedDbBench.storageRate(size, mode, entries), [batchSize, durability, total] as const);
      console.log(`${String(batchSize).padStart(5)}   ${durability.padEnd(10)}   ${formatNumber(result.entriesPerSecond).padStart(9)}   ${formatNumber(result.batchesPerSecond).padStart(14)}`);
    }
  }
  console.log('\nThe driver under load: one-node cluster on IndexedDB, proposals in flight, 100-byte commands');
  console.log('durability   in flight   commits/s   entries per write: mean   p50   p90   writes');
  for (const durability of ['strict', 'relaxed'] as const) {
    for (const inFlight of tiny ? [8] : [1, 64, 1024]) {
      const result = await page.evaluate(([mode, lanes, seconds]) => window.indexedDbBench.driverUnderLoad(mode, lanes, seconds), [durability, inFlight, tiny ? 0.3 : 3] as const);
      console.log(`${durability.padEnd(10)}   ${String(inFlight).padStart(9)}   ${formatNumber(result.commitsPerSecond).padStart(9)}   ${result.meanBatch.toFixed(1).padStart(23)}   ${String(result.p50Batch).padStart(3)}   ${String(result.p90Batch).padStart(3)}   ${String(result.writes).padStart(6)}`);
    }
  }
} finally {
  await harness.close();
}
