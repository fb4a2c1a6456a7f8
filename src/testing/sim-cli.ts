// `npm run sim -- --seeds N [--first S] [--nodes 5] [--seed S] [--duration MS] [--workload kv] [--removals]
// [--max-snapshot-bytes B] [--digest]`: random fault schedules against real engines on a virtual clock, with
// snapshots of seed-chosen sizes (0 bytes to 20 chunks) streamed at a seed-chosen pace. Each
// failure prints its seed and the exact command that replays it. --digest also prints, per seed, a
// fingerprint of everything the run did (simulation-digest.ts): a refactoring that must not change
// behaviour gives the same digests.
import { runExactlyOnceSimulation } from './exactly-once-simulation.ts';
import { defaultSimulationDurationMs, replayCommand, runSimulation } from './simulation.ts';
import { observeForDigest, SimulationDigest } from './simulation-digest.ts';
import { describeSnapshotConditions, drawSnapshotConditions } from './snapshot-conditions.ts';

function option(name: string): string | undefined {
  const position = process.argv.indexOf(`--${name}`);
  return position === -1 ? undefined : process.argv[position + 1];
}

function integer(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer, got ${raw}`);
    process.exit(2);
  }
  return value;
}

const nodes = integer('nodes', 3);
const single = option('seed');
const seeds = single === undefined ? Array.from({ length: integer('seeds', 100) }, (_, position) => integer('first', 1) + position) : [integer('seed', 1)];
const durationMs = integer('duration', defaultSimulationDurationMs);
// --workload kv: retrying clients over the key-value state machine (linearizability, exactly-once).
const workload = option('workload') ?? 'faults';
// --removals: membership changes sometimes remove members entirely, and later ones take them back.
const removals = process.argv.includes('--removals');
// --max-snapshot-bytes 20: header-only snapshots, as before they grew (the seed picks otherwise).
const maxSnapshotBytes = option('max-snapshot-bytes') === undefined ? undefined : integer('max-snapshot-bytes', 20);
const digesting = process.argv.includes('--digest');
let failures = 0;
const installed = { count: 0, bytes: 0 };
let pauses = 0;
/** kv workload: requests committed twice (skipped by the session table), and acknowledgements naming such a copy. */
const copies = { entries: 0, acknowledged: 0 };
const started = performance.now();
for (const seed of seeds) {
  const digest = digesting ? new SimulationDigest() : null;
  const observing = digest === null ? {} : { observe: (cluster: Parameters<typeof observeForDigest>[0]) => observeForDigest(cluster, digest) };
  try {
    const result = workload === 'kv' ? await runExactlyOnceSimulation({ seed, nodes, ...observing, ...(digest === null ? {} : { onHistory: (history) => digest.record('history', history) }) }) : await runSimulation({ seed, nodes, durationMs, removals, ...(maxSnapshotBytes === undefined ? {} : { maxSnapshotBytes }), ...observing });
    digest?.record('result', result);
    installed.count += result.snapshotsInstalled;
    installed.bytes += result.snapshotBytesInstalled;
    pauses += result.pauses;
    if ('duplicateEntries' in result) {
      copies.entries += result.duplicateEntries;
      copies.acknowledged += result.acknowledgedCopies;
    }
    if (seeds.length === 1) console.log(`${JSON.stringify(result)}\n${describeSnapshotConditions(drawSnapshotConditions(seed))}`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    console.log(`  ${describeSnapshotConditions(drawSnapshotConditions(seed))}`);
    const durationOption = workload === 'faults' && durationMs !== defaultSimulationDurationMs ? ` --duration ${durationMs}` : '';
    const sizeOption = maxSnapshotBytes === undefined ? '' : ` --max-snapshot-bytes ${maxSnapshotBytes}`;
    console.log(`  replay: ${replayCommand(seed, nodes, removals)}${workload === 'kv' ? ' --workload kv' : durationOption + sizeOption}`);
    digest?.record('failure', error instanceof Error ? error.message : String(error));
  }
  if (digest !== null) console.log(`digest seed ${seed}: ${digest.hex}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${seeds.length - failures} of ${seeds.length} seeds passed (${workload} workload, ${nodes} nodes, ${seconds} s; ${installed.count} snapshots installed, ${(installed.bytes / 1024 / 1024).toFixed(1)} MiB, ${pauses} pauses${workload === 'kv' ? `; ${copies.entries} requests committed again under their key, ${copies.acknowledged} acknowledged at the copy` : ''})`);
process.exit(failures === 0 ? 0 : 1);
