// `npm run bench:channel-transfer` (issue 9): with the engine in a worker, is handing the
// RTCDataChannel itself to the worker materially faster than keeping it on the page and moving
// the bytes over a MessagePort (ArrayBuffers transferred, batched per task)? Both in one run, one
// headless Chromium page, alternating modes.
import os from 'node:os';
import { chromiumVersion, startBrowserHarness } from './browser-harness.ts';

const harness = await startBrowserHarness();
try {
  console.log(`Data channel in the worker vs bytes over a MessagePort — headless Chromium ${await chromiumVersion(harness.browser)}, ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, load ${os.loadavg()[0]?.toFixed(1)}, ${new Date().toISOString()}`);
  const page = await harness.openPage('/bench/pages/datachannel-transfer.html', 'window.channelTransferBench !== undefined');
  const rows: string[] = [];
  for (let round = 0; round < 3; round += 1) {
    for (const mode of ['port', 'channel'] as const) {
      const result = await page.evaluate(([which, trips, bytes]) => window.channelTransferBench.run(which, trips, bytes), [mode, 500, 32 * 1024 * 1024] as const);
      rows.push(`${round + 1}   ${(mode === 'port' ? 'page + MessagePort' : 'channel in worker').padEnd(18)}   ${result.p50.toFixed(3).padStart(8)}   ${result.p99.toFixed(3).padStart(8)}   ${result.smallMiBps.toFixed(1).padStart(10)}   ${result.largeMiBps.toFixed(1).padStart(10)}`);
    }
  }
  console.log('\nround   data path            RTT p50 ms   p99 ms   1 KiB MiB/s   16 KiB MiB/s');
  for (const row of rows) console.log(row);
} finally {
  await harness.close();
}
