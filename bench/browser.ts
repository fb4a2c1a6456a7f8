// `npm run bench:browser`: raftmesh end to end in real browsers. Three headless Chromium
// processes, one page each, one 3-voter cluster: engines and IndexedDB storage (strict) in
// workers, WebRTC between the pages, meeting through a signaling server on 127.0.0.1. In the same
// run it measures the raw limits (IndexedDB batched writes, a bare RTCDataChannel) and prints each
// figure beside its limit; it writes JSON and an SVG chart under bench/results/.
// `--tiny` is the small run npm test makes so the benchmark cannot rot. Phases and their design:
// bench/browser/*.ts. Must run in the loopback-only namespace (scripts/run-loopback.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderChart, type Phase } from './browser/chart.ts';
import { renderMemoryChart } from './browser/memory-chart.ts';
import { benchServing, startBenchCluster } from './browser/cluster.ts';
import { mergeBuckets, sampleCommits, settled, wallClockMs } from './browser/driving.ts';
import { measureFailover } from './browser/failover-phase.ts';
import { measureMemory } from './browser/memory-phase.ts';
import { benchSizes, benchUsage } from './browser/options.ts';
import { measureLightLoadLatency, measureRawLimits, measureSaturation } from './browser/phases.ts';
import { profileUnderSaturation } from './browser/profiled-window.ts';
import { formatTable, indexedDbHalfLine, rampLine, rows, type BenchResults } from './browser/report.ts';
import { measureHeartbeatsDuringSnapshot } from './browser/snapshot-phase.ts';

const outside = Object.values(os.networkInterfaces()).flat().filter((address) => address !== undefined && !address.internal);
if (outside.length > 0) {
  console.error('bench/browser.ts must run in a loopback-only network namespace: use `npm run bench:browser`');
  process.exit(1);
}

function sizesOrExit(): ReturnType<typeof benchSizes> {
  try {
    return benchSizes(process.argv.slice(2));
  } catch (error) {
    console.error(`npm run bench:browser: ${error instanceof Error ? error.message : String(error)}\n${benchUsage}`);
    return process.exit(2);
  }
}

const sizes = sizesOrExit();
const resultsDirectory = path.join(import.meta.dirname, 'results');
fs.mkdirSync(resultsDirectory, { recursive: true });
// The tiny run (npm test) overwrites one file set; full runs keep theirs, named by time.
const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\..*$/, '');
const baseName = path.join(resultsDirectory, sizes.tiny ? 'browser-tiny' : `browser-${stamp}`);
const loadBefore = os.loadavg();
const phases: Phase[] = [];
const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
  const startMs = wallClockMs();
  console.error(`… ${name}`);
  const result = await run();
  phases.push({ name, startMs, endMs: wallClockMs() });
  console.error(`  ${name}: ${((wallClockMs() - startMs) / 1000).toFixed(1)} s`);
  return result;
};

const cluster = await startBenchCluster(sizes.compactEvery, {}, benchServing(process.argv));
try {
  const processes = cluster.processes;
  const raw = await phase('raw limits', () => measureRawLimits(processes, sizes, cluster.profilesDirectory));
  await Promise.all(processes.map((each) => each.startNode()));
  await settled(processes);
  const sampler = sampleCommits(processes, 500);
  const latency = await phase('light load', () => measureLightLoadLatency(processes, sizes));
  const saturation = await phase('saturation', () => measureSaturation(processes, sizes, cluster.profilesDirectory));
  const profiled = sizes.profile ? await phase('profiled', () => profileUnderSaturation(processes, sizes, saturation.inFlightPerPage, baseName)) : null;
  const snapshot = await phase('snapshot', () => measureHeartbeatsDuringSnapshot(processes, sizes));
  const failover = await phase('failover', () => measureFailover(processes, sizes.failoverTrials));
  const memory = await phase('memory', () => measureMemory(processes, sizes, cluster.profilesDirectory));
  await sampler.stop();
  const loadAfter = os.loadavg();
  const results: BenchResults = { raw, latency, saturation, profiled, snapshot, failover, memory };
  const cpu = os.cpus();
  const title = `raftmesh, 3 headless Chromium ${cluster.browserVersion} processes, workers + IndexedDB (strict) + WebRTC, page ${cluster.serving === 'build' ? 'built' : 'from the dev server'} — ${cpu[0]?.model ?? 'unknown CPU'} x${cpu.length}, ${new Date().toISOString()}`;
  const loadAverage = `load average ${loadBefore.map((value) => value.toFixed(1)).join(' ')} before, ${loadAfter.map((value) => value.toFixed(1)).join(' ')} after (1, 5, 15 min)`;
  console.log(`${title}\n${loadAverage}${sizes.tiny ? '\nTINY RUN (npm test): sizes too small for the figures to mean anything' : ''}`);
  console.log(`100-byte commands; saturation: ${sizes.saturationInFlightLevels.join(', ')} in flight per page in turn, ${sizes.saturationMs / 1000} s each after ${sizes.saturationWarmUpMs / 1000} s of warm-up, the best taken; memory phase ${sizes.memoryInFlightPerPage} per page; IndexedDB limit: strict transactions of ${sizes.indexedDbBatch} packed entries; channel limit: bare RTCDataChannel between two of the pages\n`);
  const table = rows(results);
  console.log(formatTable(table));
  console.log(`\n${rampLine(saturation)}\n${indexedDbHalfLine(raw, saturation)}`);
  const buckets = mergeBuckets([...saturation.loads, ...memory.loads, { commits: 0, errors: 0, elapsedMs: 0, p50Ms: 0, p99Ms: 0, buckets: latency.buckets, firstError: null }]);
  fs.writeFileSync(`${baseName}.json`, JSON.stringify({ title, loadAverage, sizes, results, table, phases, commitSamples: sampler.samples, latencyPerSecond: buckets }, null, 1));
  fs.writeFileSync(`${baseName}.svg`, renderChart(title, sampler.samples, buckets, phases));
  fs.writeFileSync(`${baseName}-memory.svg`, renderMemoryChart(title, memory.samples));
  console.log(`\nwrote ${path.relative(process.cwd(), baseName)}.json, .svg and -memory.svg (the memory phase's readings by part)${profiled === null ? '' : ` and CPU profiles of the leader's worker and page, ${path.relative(process.cwd(), profiled.profileFile)}-leader-*.cpuprofile (taken over ${profiled.seconds.toFixed(1)} s after the measured saturation window, ${profiled.errors} proposals failed in it)`}`);
  console.log(`saturation: ${saturation.errors} proposals failed${saturation.firstError === null ? '' : ` (first: ${saturation.firstError})`}; failover: ${failover.failed} trials without a new leader's commit within 30 s; slowest of ${snapshot.duringSnapshot.trials} snapshot transfers took ${snapshot.transferSeconds.toFixed(2)} s (the lagging page established ${snapshot.laggingConnectionsEstablished} connections and ${snapshot.laggingEngineChannelsReopened} fresh engine channel pairs over its restarts; leadership moved during ${snapshot.electionsDuringTransfers} of them, ${snapshot.transfersWithoutInstall} ended without an install, ${snapshot.trialsBegunAgain} trials were begun again because leadership moved before their transfer, and it moved ${snapshot.electionsBetweenTrials} times between trials); CPU at saturation ${Number.isFinite(saturation.cpuMicrosecondsPerCommit) ? `${Math.round(saturation.cpuMicrosecondsPerCommit)} µs per commit (all threads of the 3 browsers)` : 'not measured (Linux only)'}; memory phase: term ${memory.termAtStart} → ${memory.termAtEnd} (${memory.termAtEnd - memory.termAtStart} elections under the load)${memory.stalled ? '; MEMORY PHASE STALLED (no commit for 60 s)' : ''}`);
  const loadErrors = [...saturation.loads, ...memory.loads].filter((result) => result.firstError !== null).map((result) => `${result.errors} (first: ${result.firstError ?? ''})`);
  if (loadErrors.length > 0) console.log(`failed proposals per page under load: ${loadErrors.join('; ')}`);
} finally {
  await cluster.close();
}
