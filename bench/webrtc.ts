// `npm run bench:webrtc`: raftmesh's WebRtcTransport against a bare RTCDataChannel, in the same
// run, between two headless Chromium pages (two browser contexts: two renderer processes) on
// loopback. Prints small-frame round trips, 16 KiB and 1 MiB frame throughput, and small-frame
// round trips while 4 MiB frames stream. It runs inside a loopback-only network namespace
// (ENVIRONMENT.md): WebRTC here must never touch the real network.
import os from 'node:os';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { startSignalingServer } from '../src/signaling/server/index.ts';

// `npm run bench:webrtc` wraps this in scripts/run-loopback.mjs; refuse to run on a real network.
const outside = Object.values(os.networkInterfaces()).flat().filter((address) => address !== undefined && !address.internal);
if (outside.length > 0) {
  console.error('bench/webrtc.ts must run in a loopback-only network namespace: use `npm run bench:webrtc`');
  process.exit(1);
}

/** Transport limits to try (JSON in RAFTMESH_BENCH_LIMITS), e.g. '{"highWaterMarkBytes": 262144}'; default: the defaults. */
const limits = JSON.parse(process.env['RAFTMESH_BENCH_LIMITS'] ?? '{}') as Record<string, number>;

type Figures = Awaited<ReturnType<Window['webrtcBench']['measure']>>;

const port = 5299;
// COOP/COEP make the pages cross-origin isolated: performance.now() then resolves 5 µs, not 100 µs.
const vite = await createServer({
  configFile: 'vite.config.ts',
  server: {
    port,
    host: '127.0.0.1',
    strictPort: true,
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    // No reloads mid-run when a source file changes (others work in this tree).
    hmr: false,
    watch: null,
  },
  optimizeDeps: { include: ['simple-peer-light'] },
  logLevel: 'warn',
});
await vite.listen();
const signaling = await startSignalingServer({ port: 0, host: '127.0.0.1', rooms: { bench: { secret: 'bench secret' } } });
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArguments, headless: true });
try {
  const pages = await Promise.all(
    [0, 1].map(async () => {
      const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/bench/pages/webrtc-bench.html`);
      await page.waitForFunction(() => window.webrtcBench !== undefined);
      return page;
    }),
  );
  const [measuring, echoing] = pages as [(typeof pages)[0], (typeof pages)[0]];
  const version = browser.version(); // the user agent string reports only the major version

  await Promise.all([
    measuring.evaluate(({ url, limits }) => window.webrtcBench.startTransport({ signalingUrl: url, roomId: 'bench', self: 'bench-a', peer: 'bench-b', secret: 'bench secret', serve: false, limits }), { url: signaling.url, limits }),
    echoing.evaluate(({ url, limits }) => window.webrtcBench.startTransport({ signalingUrl: url, roomId: 'bench', self: 'bench-b', peer: 'bench-a', secret: 'bench secret', serve: true, limits }), { url: signaling.url, limits }),
  ]);
  const offer = await measuring.evaluate(() => window.webrtcBench.bareOffer());
  const answer = await echoing.evaluate((text) => window.webrtcBench.bareAnswer(text), offer);
  await measuring.evaluate((text) => window.webrtcBench.bareAccept(text), answer);

  const results: Record<string, Figures> = {};
  for (const which of ['bare', 'transport'] as const) results[which] = await measuring.evaluate((link) => window.webrtcBench.measure(link), which);

  const cpu = os.cpus();
  console.log(`WebRTC between two headless Chromium ${version} pages (two contexts), loopback — ${cpu[0]?.model ?? 'unknown CPU'} x${cpu.length}, ${new Date().toISOString()}`);
  if (Object.keys(limits).length > 0) console.log(`transport limits: ${JSON.stringify(limits)}`);
  console.log('small frames: 64 B ping/pong, 2,000 after 200 warm-up; throughput: 64 MiB, at most 8 MiB unacknowledged; under load: pings 2 ms apart while 8 × 4 MiB frames stream');
  const rows: [string, (figures: Figures) => string][] = [
    ['small-frame RTT p50 (ms)', (figures) => figures.rttP50.toFixed(2)],
    ['small-frame RTT p99 (ms)', (figures) => figures.rttP99.toFixed(2)],
    ['16 KiB frames (MiB/s)', (figures) => figures.throughput16KiB.toFixed(1)],
    ['1 MiB frames (MiB/s)', (figures) => figures.throughput1MiB.toFixed(1)],
    ['RTT p50 during 4 MiB frames (ms)', (figures) => figures.loadedP50.toFixed(2)],
    ['RTT p99 during 4 MiB frames (ms)', (figures) => `${figures.loadedP99.toFixed(2)} (${figures.loadedSamples} pings)`],
    ['4 MiB frames meanwhile (MiB/s)', (figures) => figures.throughputUnderPings.toFixed(1)],
    ['frames dropped', (figures) => String(figures.dropped)],
  ];
  const bare = results['bare'] as Figures;
  const transport = results['transport'] as Figures;
  console.log(`| ${'measure'.padEnd(34)} | ${'bare RTCDataChannel'.padEnd(22)} | ${'raftmesh WebRtcTransport'.padEnd(26)} |`);
  console.log(`| ${'-'.repeat(34)} | ${'-'.repeat(22)} | ${'-'.repeat(26)} |`);
  for (const [label, format] of rows) console.log(`| ${label.padEnd(34)} | ${format(bare).padEnd(22)} | ${format(transport).padEnd(26)} |`);
} finally {
  await browser.close();
  await signaling.close();
  await vite.close();
}
