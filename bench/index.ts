// `npm run bench`: benchmarks that print figures (never timed assertions in tests).
import os from 'node:os';
import { measureThroughput } from './core-throughput.ts';
import { runCodecBenchmark } from './codec.ts';
import { heapOverCommits, snapshotCatchUp } from './snapshot.ts';
import { readThroughput, transferTime } from './reads-and-transfer.ts';
import { leaderDedupCacheCost } from './leader-dedup-cache.ts';
import { machineCosts } from './machine-costs.ts';
import { formatNumber } from './statistics.ts';
import { bundleSizes, projectRoot } from './bundle-size.ts';
import { execFileSync } from 'node:child_process';

const sections = ['core', 'dedup', 'forwards', 'codec', 'snapshot', 'reads', 'machine', 'bundle'] as const;
const only = process.argv[2];
// A mistyped section used to print the header and nothing else, which reads like a broken run.
if (process.argv.length > 3 || (only !== undefined && !(sections as readonly string[]).includes(only))) {
  console.error(`usage: npm run bench [-- ${sections.join('|')}] (one section, or none for all); got ${JSON.stringify(process.argv.slice(2).join(' '))}`);
  process.exit(2);
}

console.log(`raftmesh benchmarks — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, Node ${process.version}, ${new Date().toISOString()}`);

if (only === undefined || only === 'core') {
  console.log('\n3-node cluster in one process, in-memory loopback transport, 100-byte commands');
  console.log('in flight   commits/s   p50 ms   p99 ms');
  for (const inFlight of [64, 1024]) {
    // A warm-up run lets the JIT settle so the measured run reflects steady state.
    await measureThroughput({ totalCommits: 50_000, inFlight, commandBytes: 100 });
    const result = await measureThroughput({ totalCommits: 300_000, inFlight, commandBytes: 100 });
    console.log(`${String(inFlight).padStart(9)}   ${formatNumber(result.commitsPerSecond).padStart(9)}   ${result.p50Ms.toFixed(2).padStart(6)}   ${result.p99Ms.toFixed(2).padStart(6)}`);
  }
}

if (only === undefined || only === 'dedup') {
  console.log('\nCost of exactly-once dedup keys (3-node cluster, 1,024 in flight, 100-byte commands; 9 alternating runs each, median)');
  const runs: Record<'with' | 'without', number[]> = { with: [], without: [] };
  for (let round = 0; round < 9; round += 1) {
    for (const mode of ['without', 'with'] as const) runs[mode].push((await measureThroughput({ totalCommits: 150_000, inFlight: 1_024, commandBytes: 100, withoutDedup: mode === 'without' })).commitsPerSecond);
  }
  const median = (values: number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] as number;
  const without = median(runs.without);
  const withKeys = median(runs.with);
  console.log(`without dedup keys ${formatNumber(without)} commits/s; with dedup keys ${formatNumber(withKeys)} commits/s; ${(((without - withKeys) / without) * 100).toFixed(1)}% slower`);
}

if (only === undefined || only === 'forwards') {
  console.log("\nThe leader's dedup cache, per forwarded proposal");
  console.log(leaderDedupCacheCost());
}

if (only === undefined || only === 'codec') {
  console.log('\nCodec: AppendEntries of 100-byte entries');
  for (const line of runCodecBenchmark()) console.log(line);
}

if (only === undefined || only === 'snapshot') {
  console.log('\nSnapshots (3-node cluster, loopback transport)');
  for (const line of await snapshotCatchUp()) console.log(line);
  console.log('Heap over 1,000,000 commits with a snapshot every 10,000 entries:');
  for (const line of await heapOverCommits()) console.log(line);
}

if (only === undefined || only === 'reads') {
  console.log('\nLinearizable reads (3-node cluster, loopback, 1,000 concurrent readers) and leadership transfer');
  for (const line of await readThroughput()) console.log(line);
  for (const line of await transferTime()) console.log(line);
}

if (only === undefined || only === 'machine') {
  console.log('\nWhat this machine charges for a system call and a cross-thread wake-up');
  for (const line of await machineCosts()) console.log(line);
}

if (only === undefined || only === 'bundle') {
  console.log("\nWhat raftmesh adds to an app's JavaScript (production builds of typical apps, importing the package by name)");
  // Measured on the package as published: dist/ built from these sources now, not whatever an
  // earlier build left there.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, stdio: 'inherit' });
  for (const line of await bundleSizes('dist')) console.log(line);
}
