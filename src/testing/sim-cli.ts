// `npm run sim -- --seeds N [--first S] [--nodes 5] [--seed S] [--duration MS] [--workload kv] [--removals]
// [--witnesses W] [--max-snapshot-bytes B] [--crash-in-snapshot-writes] [--small-batches] [--digest]`: random fault schedules against real engines on a virtual clock, with
// snapshots of seed-chosen sizes (0 bytes to 20 chunks) streamed at a seed-chosen pace. Each
// failure prints its seed and the exact command that replays it. --digest also prints, per seed, a
// fingerprint of everything the run did (simulation-digest.ts): a refactoring that must not change
// behaviour gives the same digests.
import { parseArgs } from 'node:util';
import { runExactlyOnceSimulation } from './exactly-once-simulation.ts';
import { defaultSimulationDurationMs, replayCommand, runSimulation, witnessCount, witnessesAllowed } from './simulation.ts';
import { observeForDigest, SimulationDigest } from './simulation-digest.ts';
import { describeSnapshotConditions, drawSnapshotConditions } from './snapshot-conditions.ts';

const usage =
  'usage: npm run sim -- [--seeds N] [--first S] | [--seed S], [--nodes N] [--workload faults|kv] [--duration MS] [--removals] [--witnesses W] [--max-snapshot-bytes B] [--crash-in-snapshot-writes] [--small-batches] [--digest]';

/** A mistyped flag used to be ignored, so a run of the defaults passed for the run asked for. */
function refuse(message: string): never {
  console.error(`npm run sim: ${message}\n${usage}`);
  process.exit(2);
}

const flags = {
  seeds: { type: 'string' },
  first: { type: 'string' },
  seed: { type: 'string' },
  nodes: { type: 'string' },
  duration: { type: 'string' },
  workload: { type: 'string' },
  removals: { type: 'boolean' },
  witnesses: { type: 'string' },
  'max-snapshot-bytes': { type: 'string' },
  'crash-in-snapshot-writes': { type: 'boolean' },
  'small-batches': { type: 'boolean' },
  digest: { type: 'boolean' },
} as const;
function parseCommandLine() {
  try {
    return parseArgs({ options: flags, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return refuse(error instanceof Error ? error.message : String(error));
  }
}
const values = parseCommandLine();

function integer(name: keyof typeof flags, fallback: number, least = 0): number {
  const raw = values[name];
  if (raw === undefined || typeof raw === 'boolean') return fallback;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < least) refuse(`--${name} must be an integer >= ${least}, got ${JSON.stringify(raw)}`);
  return value;
}

const nodes = integer('nodes', 3, 1);
// --workload kv: retrying clients over the key-value state machine (linearizability, exactly-once).
const workload = values.workload ?? 'faults';
if (workload !== 'faults' && workload !== 'kv') refuse(`--workload is faults or kv, got ${JSON.stringify(workload)}`);
if (values.seed !== undefined && (values.seeds !== undefined || values.first !== undefined)) refuse('--seed runs one seed: give it, or --seeds and --first, not both');
for (const faultsOnly of ['duration', 'removals', 'witnesses', 'max-snapshot-bytes', 'crash-in-snapshot-writes', 'small-batches'] as const) {
  if (workload === 'kv' && values[faultsOnly] !== undefined) refuse(`--${faultsOnly} applies to the faults workload, not --workload kv`);
}
const seeds = values.seed === undefined ? Array.from({ length: integer('seeds', 100, 1) }, (_, position) => integer('first', 1) + position) : [integer('seed', 1)];
const durationMs = integer('duration', defaultSimulationDurationMs);
// --removals: membership changes sometimes remove members entirely, and later ones take them back.
const removals = values.removals === true;
// --witnesses W: W of the nodes (drawn per seed) vote and acknowledge but never campaign or lead.
const witnesses = integer('witnesses', 0);
if (!witnessesAllowed(witnesses, nodes)) refuse(`--witnesses must be fewer than a quorum of --nodes (at most ${Math.floor(nodes / 2)} of ${nodes}), got ${witnesses}`);
// --max-snapshot-bytes 20: header-only snapshots, as before they grew (the seed picks otherwise).
const maxSnapshotBytes = values['max-snapshot-bytes'] === undefined ? undefined : integer('max-snapshot-bytes', 20);
// --crash-in-snapshot-writes: most single crashes (4 in 5) strike between two writes of a snapshot sequence.
const crashesInSnapshotWrites = values['crash-in-snapshot-writes'] === true;
// --small-batches: AppendEntries of one to three entries (SimulationOptions.smallBatches).
const smallBatches = values['small-batches'] === true;
const digesting = values.digest === true;
let failures = 0;
const installed = { count: 0, bytes: 0 };
let pauses = 0;
let crashesOnSend = 0;
/** Leaders cut off as they won, and indexes committed while a node held a newer-term rival (Figure 8's shape). */
const figure8 = { leadersCutOff: 0, committedRivals: 0 };
let snapshotWriteCrashes = 0;
/** kv workload: requests committed twice (skipped by the session table), and acknowledgements naming such a copy. */
const copies = { entries: 0, acknowledged: 0 };
const started = performance.now();
for (const seed of seeds) {
  const digest = digesting ? new SimulationDigest() : null;
  const observing = digest === null ? {} : { observe: (cluster: Parameters<typeof observeForDigest>[0]) => observeForDigest(cluster, digest) };
  try {
    const result = workload === 'kv' ? await runExactlyOnceSimulation({ seed, nodes, ...observing, ...(digest === null ? {} : { onHistory: (history) => digest.record('history', history) }) }) : await runSimulation({ seed, nodes, durationMs, removals, witnesses, crashesInSnapshotWrites, smallBatches, ...(maxSnapshotBytes === undefined ? {} : { maxSnapshotBytes }), ...observing });
    digest?.record('result', result);
    installed.count += result.snapshotsInstalled;
    installed.bytes += result.snapshotBytesInstalled;
    pauses += result.pauses;
    if ('crashesOnSend' in result) crashesOnSend += result.crashesOnSend;
    if ('committedRivals' in result) {
      figure8.leadersCutOff += result.leadersCutOff;
      figure8.committedRivals += result.committedRivals;
    }
    if ('crashesInSnapshotWrites' in result) snapshotWriteCrashes += result.crashesInSnapshotWrites ?? 0;
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
    console.log(`  replay: ${replayCommand(seed, nodes, removals, witnesses, crashesInSnapshotWrites)}${workload === 'kv' ? ' --workload kv' : durationOption + sizeOption + (smallBatches ? ' --small-batches' : '')}`);
    digest?.record('failure', error instanceof Error ? error.message : String(error));
  }
  if (digest !== null) console.log(`digest seed ${seed}: ${digest.hex}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${seeds.length - failures} of ${seeds.length} seeds passed (${workload} workload, ${nodes} nodes${witnesses > 0 ? ` (${witnessCount(witnesses)})` : ''}, ${seconds} s; ${installed.count} snapshots installed, ${(installed.bytes / 1024 / 1024).toFixed(1)} MiB, ${pauses} pauses, ${crashesOnSend} crashes on a send${workload === 'kv' ? '' : `, ${figure8.leadersCutOff} leaders cut off, ${figure8.committedRivals} commits beside a newer-term rival`}${crashesInSnapshotWrites ? `, ${snapshotWriteCrashes} crashes inside snapshot writes` : ''}${smallBatches ? ', small batches' : ''}${workload === 'kv' ? `; ${copies.entries} requests committed again under their key, ${copies.acknowledged} acknowledged at the copy` : ''})`);
process.exit(failures === 0 ? 0 : 1);
