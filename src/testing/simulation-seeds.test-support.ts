// One block of simulation seeds per Vitest test, shared by the 3-, 4- and 5-node files (separate
// files so Vitest runs them on separate workers). A failure names its seed and the command that
// replays it.
import { expect, it } from 'vitest';
import { replayCommand, runSimulation, witnessCount } from './simulation.ts';

/**
 * Seeds that once found an engine bug, replayed on every run. (A change to the simulator's
 * schedule changes what a seed does, so these guard the fix only while the schedule stands; the
 * bulk seeds guard the rest.)
 */
export const regressionSeeds: readonly { readonly seed: number; readonly nodes: 3 | 5; readonly found: string; readonly removals?: boolean; readonly durationMs?: number; readonly witnesses?: number }[] = [
  // A restarted follower matched a read answer meant for its previous incarnation (correlation
  // ids restarted at 1) and returned a read index from before its read began.
  { seed: 100_075, nodes: 3, found: 'stale read index after restart' },
  { seed: 100_278, nodes: 3, found: 'stale read index after restart' },
  { seed: 101_874, nodes: 3, found: 'stale read index after restart' },
  { seed: 102_635, nodes: 3, found: 'stale read index after restart' },
  { seed: 200_714, nodes: 5, found: 'stale read index after restart' },
  // A voter away while a learner was promoted, that learner then leading, refused its frames for
  // good; and one demoted to learner while away campaigned where nobody answered (the check that
  // every member catches up found both).
  { seed: 510_096, nodes: 5, found: 'a voter never caught up with a leader promoted while it was away' },
  { seed: 510_115, nodes: 5, found: 'a voter never caught up with a leader promoted while it was away' },
  { seed: 141_020, nodes: 5, found: 'a member demoted while away never caught up with a leader promoted meanwhile' },
  { seed: 142_059, nodes: 5, removals: true, durationMs: 20_000, found: 'a member demoted while away never caught up with a leader promoted meanwhile' },
  // A learner, which never campaigns, away while the leader was promoted: nobody named it the
  // leader until it asked (the leader probe).
  { seed: 151_122, nodes: 5, found: 'a learner never caught up with a leader promoted while it was away' },
  { seed: 152_068, nodes: 5, removals: true, durationMs: 20_000, found: 'a learner never caught up with a leader promoted while it was away' },
  // A follower installing a snapshot beyond its log cut entries above its commit index before the
  // snapshot was durable; crashed in between, two re-added nodes elected a leader without a
  // committed entry (Leader Completeness).
  { seed: 60_060, nodes: 5, removals: true, durationMs: 20_000, found: 'a snapshot install cut possibly committed entries before the snapshot was durable' },
  // The only voter that could lead lacked entries that only the witnesses held, and a witness
  // never leads: nobody could be elected until the witnesses handed the entries over (catch-up).
  { seed: 6, nodes: 5, witnesses: 2, found: 'no leader: the voters that may lead lacked entries only witnesses held' },
];

async function runSeed(seed: number, nodes: number, removals = false, durationMs?: number, witnesses = 0, crashesInSnapshotWrites = false, smallBatches = false): Promise<void> {
  try {
    const result = await runSimulation({ seed, nodes, removals, witnesses, crashesInSnapshotWrites, smallBatches, ...(durationMs === undefined ? {} : { durationMs }) });
    expect(result.healedCommitMs).toBeLessThanOrEqual(5_000);
    expect(result.witnesses).toHaveLength(witnesses);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replayCommand(seed, nodes, removals, witnesses, crashesInSnapshotWrites)}${durationMs === undefined ? '' : ` --duration ${durationMs}`}${smallBatches ? ' --small-batches' : ''}`);
  }
}

export function simulationRegressionSeeds(nodes: 3 | 5): void {
  for (const { seed, found, removals = false, durationMs, witnesses = 0 } of regressionSeeds.filter((regression) => regression.nodes === nodes)) {
    it(`${nodes} nodes${removals ? ', members removed and taken back' : ''}${witnesses > 0 ? `, ${witnessCount(witnesses)} among them` : ''}, regression seed ${seed} (${found})`, () => runSeed(seed, nodes, removals, durationMs, witnesses));
  }
}

/** How the seeds of simulationSeedBlocks run: blocks of 50, no removals, no witnesses and the simulator's default span of faults unless said. */
export interface SeedBlockOptions {
  readonly blockSize?: number;
  readonly removals?: boolean;
  readonly witnesses?: number;
  readonly durationMs?: number;
  /** SimulationOptions.crashesInSnapshotWrites. */
  readonly crashesInSnapshotWrites?: boolean;
  /** SimulationOptions.smallBatches. */
  readonly smallBatches?: boolean;
}

export function simulationSeedBlocks(nodes: 3 | 4 | 5, firstSeed: number, count: number, { blockSize = 50, removals = false, witnesses = 0, durationMs, crashesInSnapshotWrites = false, smallBatches = false }: SeedBlockOptions = {}): void {
  for (let from = firstSeed; from < firstSeed + count; from += blockSize) {
    const to = Math.min(from + blockSize, firstSeed + count) - 1;
    const what = `${removals ? ', members removed and taken back' : ''}${witnesses > 0 ? `, ${witnessCount(witnesses)} among them (never leading)` : ''}${durationMs === undefined ? '' : `, ${durationMs / 1_000} s of faults`}${crashesInSnapshotWrites ? ', crashes inside snapshot writes' : ''}${smallBatches ? ', batches of one to three entries' : ''}`;
    it(`${nodes} nodes${what}, seeds ${from}..${to}: every safety property holds, a leader commits within 5 s of the heal and every member catches up`, async () => {
      for (let seed = from; seed <= to; seed += 1) await runSeed(seed, nodes, removals, durationMs, witnesses, crashesInSnapshotWrites, smallBatches);
    });
  }
}
