// Heartbeats while a snapshot streams. One follower ("lagging") has its node closed while the
// leader commits past its log and publishes a snapshot of `snapshotBytes`; when the lagging node
// restarts, the leader must send it that snapshot (its log no longer holds what it needs).
// Meanwhile the leader's page proposes one small command at a time, 5 ms apart, and the OTHER
// follower's page timestamps every frame arriving from the leader. Raft's election timer on a
// follower restarts on each of them, so the gap between successive frames is what the timer sees:
// a gap near the election timeout would cost an election. Measured the same way without a
// snapshot first, as the baseline (gaps there come from the 5 ms pacing, the commits and the
// 50 ms heartbeat interval, whichever comes first). The transfer is repeated `snapshotTrials`
// times and the gaps pooled: one 4 MiB transfer takes 1-3 s here, about 100-300 gaps, so the p99
// of a single one is little more than its largest gap.
import { defaultRaftConfig } from '../../src/index.ts';
import type { NodeStatus } from '../pages/browser-node.ts';
import type { BenchProcess } from './cluster.ts';
import { load, percentile, settled, sleep, status, waitFor, wallClockMs } from './driving.ts';
import type { BenchSizes } from './options.ts';

export interface GapFigures {
  readonly frames: number;
  /** How many transfers the figures pool (1 for the baseline). */
  readonly trials: number;
  readonly gapP50Ms: number;
  readonly gapP99Ms: number;
  readonly gapMaxMs: number;
  readonly proposalP99Ms: number;
}

export interface SnapshotFigures {
  readonly snapshotBytes: number;
  readonly baseline: GapFigures;
  readonly duringSnapshot: GapFigures;
  /**
   * Each transfer's own silence p99, in order. In a full run only the first restart has a long log
   * to apply through its stored commit index (the saturation phase's entries since the lagging
   * node's last compaction); later ones follow an install.
   */
  readonly trialGapP99Ms: readonly number[];
  /** The slowest transfer's time from the lagging node's restart to the snapshot installed. */
  readonly transferSeconds: number;
  /**
   * Connections the lagging page established over its restarts (it keeps its transport: with the
   * engine's channels moved on live connections, none), and fresh engine channel pairs it counted
   * (two per restart, one on each of its two connections), summed over the measured transfers,
   * each from just before its node stops to the snapshot installed.
   */
  readonly laggingConnectionsEstablished: number;
  readonly laggingEngineChannelsReopened: number;
  /**
   * Transfers during which the leader lost its leadership (its term moved, or it was no longer
   * leader when the snapshot had been installed). Their gaps are pooled all the same: the silence
   * that cost the election is the very thing measured, and the phase's target is failed.
   */
  readonly electionsDuringTransfers: number;
  /**
   * Trials begun again because leadership moved while the snapshot was being prepared (the fill
   * and the compaction, before the lagging node restarts), or during the baseline: measured from
   * the former leader, which holds no snapshot the others need, they timed its forwards instead
   * of a leader's frames during a transfer that never happened.
   */
  readonly trialsBegunAgain: number;
  /**
   * Transfers after which the lagging node had installed no snapshot: it caught up on entries,
   * so nothing streamed. With the leader compacted past the lagging node's log that cannot happen
   * unless leadership moved to a node that still held the entries; counted so that a run says so
   * if it ever does.
   */
  readonly transfersWithoutInstall: number;
  /**
   * Leadership moves between the baseline and the first trial, or between two trials, found when
   * the next trial gave the roles (a higher term than the leader held when the last one ended).
   * Nothing was measured then, so the figures hold none of it; counted so a run says so.
   */
  readonly electionsBetweenTrials: number;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
}

interface Watched {
  readonly gaps: readonly number[];
  readonly frames: number;
  readonly proposalP99Ms: number;
}

/**
 * Told when each transfer's timed window opens and closes (bench:browser-diagnose samples each
 * browser's threads there), with the roles the phase gave the three processes.
 */
export interface TransferObserver {
  opened(trial: number, roles: { readonly leader: string; readonly lagging: string; readonly watcher: string }): void;
  closed(trial: number): void;
}

async function watchGaps(leader: BenchProcess, watcher: BenchProcess, during: () => Promise<void>): Promise<Watched> {
  await watcher.page.evaluate((sender) => window.browserBench.watchFrames(sender), leader.id);
  const proposals = load(leader, { inFlight: 1, durationMs: 600_000, untilCommitIndex: Number.MAX_SAFE_INTEGER, pauseMs: 5, keepAll: true });
  await during();
  await leader.page.evaluate(() => window.browserBench.stopLoads());
  const arrivals = await watcher.page.evaluate(() => window.browserBench.watchFrames(null));
  const gaps = arrivals.slice(1).map((time, index) => time - (arrivals[index] ?? time));
  const result = await proposals;
  return { gaps, frames: arrivals.length, proposalP99Ms: result.p99Ms };
}

function figures(watched: readonly Watched[]): GapFigures {
  const gaps = watched.flatMap((each) => each.gaps);
  const proposalP99s = watched.map((each) => each.proposalP99Ms).filter(Number.isFinite);
  return {
    frames: watched.reduce((sum, each) => sum + each.frames, 0),
    trials: watched.length,
    gapP50Ms: percentile(gaps, 0.5),
    gapP99Ms: percentile(gaps, 0.99),
    gapMaxMs: Math.max(0, ...gaps),
    // The worst trial's small-proposal p99 (each trial's load keeps its own latencies).
    proposalP99Ms: proposalP99s.length === 0 ? Number.NaN : Math.max(...proposalP99s),
  };
}

interface Roles {
  readonly leader: BenchProcess;
  readonly lagging: BenchProcess;
  readonly watcher: BenchProcess;
  /** The leader's term when the roles were given: a later term, or another role, is an election. */
  readonly term: number;
}

/**
 * Roles from the cluster as it stands. Given once for the whole phase, they went stale when
 * leadership moved: the "leader" was then a follower, the snapshot it published was its own (the
 * real leader had the entries the lagging node lacked and sent them in a fraction of a second), and
 * the phase timed that follower's forwarded proposals as a leader's silence, with nothing to say
 * so (a shortened run, 2026-12-05 09:43 UTC: 225 frames over five "transfers" of 0.57 s at most,
 * where a paced 4 MiB transfer takes 4-5 s and five of them give about 3,000 frames).
 */
async function giveRoles(processes: readonly BenchProcess[]): Promise<Roles> {
  const { leader } = await settled(processes);
  const [lagging, watcher] = processes.filter((each) => each !== leader) as [BenchProcess, BenchProcess];
  return { leader, lagging, watcher, term: (await status(leader)).term };
}

/**
 * The status of the process given the leader's role if it no longer leads in the term it had
 * then (what it says now is what a run prints), null while it still does.
 */
async function leadershipLost(roles: Roles): Promise<NodeStatus | null> {
  const now = await status(roles.leader);
  return now.role === 'leader' && now.term === roles.term ? null : now;
}

export async function measureHeartbeatsDuringSnapshot(processes: readonly BenchProcess[], sizes: BenchSizes, observer?: TransferObserver): Promise<SnapshotFigures> {
  const startedAtMs = wallClockMs();
  // Bounded: a cluster that keeps changing leaders fails the phase rather than looping on.
  let attemptsLeft = 3 * (sizes.snapshotTrials + 1);
  let trialsBegunAgain = 0;
  const attempt = (what: string): void => {
    attemptsLeft -= 1;
    if (attemptsLeft < 0) throw new Error(`snapshot phase: leadership moved too often (${what})`);
  };
  let baseline: Watched | null = null;
  // The leader's term when the baseline or the last trial ended with it still leading; null after
  // a move that is counted already (a trial begun again, an election during a transfer).
  let termAtLastEnd: number | null = null;
  while (baseline === null) {
    attempt('during the baseline');
    const roles = await giveRoles(processes);
    const watched = await watchGaps(roles.leader, roles.watcher, () => sleep(sizes.heartbeatBaselineMs));
    if ((await leadershipLost(roles)) === null) {
      baseline = watched;
      termAtLastEnd = roles.term;
    } else {
      trialsBegunAgain += 1;
      console.error(`  snapshot: ${roles.leader.id} lost its leadership (term ${roles.term}) during the baseline: begun again`);
    }
  }

  const trials: Watched[] = [];
  let transferSeconds = 0;
  let electionsDuringTransfers = 0;
  let transfersWithoutInstall = 0;
  let laggingConnectionsEstablished = 0;
  let laggingEngineChannelsReopened = 0;
  let electionsBetweenTrials = 0;
  while (trials.length < sizes.snapshotTrials) {
    attempt('before a transfer');
    const trial = trials.length;
    const roles = await giveRoles(processes);
    const { leader, lagging, watcher } = roles;
    if (termAtLastEnd !== null && roles.term !== termAtLastEnd) {
      electionsBetweenTrials += 1;
      console.error(`  snapshot: leadership moved before trial ${trial + 1} (term ${termAtLastEnd} → ${roles.term}, ${leader.id} leads)`);
    }
    termAtLastEnd = null;
    // The lagging page's own counters over this transfer: a restart counts a fresh channel pair at
    // both ends, so counters read over the whole phase would also hold other pages' restarts.
    const countersBefore = await lagging.page.evaluate(() => window.browserBench.transportCounters());
    const installsBefore = (await status(lagging)).installs;
    await lagging.page.evaluate(() => window.browserBench.stopNode());
    let restarted = false;
    const restart = async (): Promise<void> => {
      restarted = true;
      await lagging.startNode();
    };
    try {
      // The leader commits past the lagging node's log, snapshots and compacts (it keeps no
      // entries behind a snapshot by default), so the lagging node can only catch up by the snapshot.
      const before = (await status(leader)).commitIndex;
      await load(leader, { inFlight: 64, durationMs: 120_000, untilCommitIndex: before + 2_000, pauseMs: 0, keepAll: false });
      const snapshotIndex = await leader.page.evaluate((bytes) => window.browserBench.snapshotNow(bytes), sizes.snapshotBytes);
      await waitFor('the leader to compact', 30_000, async () => ((await status(leader)).compactionFloor >= snapshotIndex - defaultRaftConfig.snapshotTrailingEntries ? true : null));
      const lost = await leadershipLost(roles);
      if (lost !== null) {
        // Nothing measured yet: the lagging node comes back and the trial starts over, roles anew.
        trialsBegunAgain += 1;
        console.error(`  snapshot: ${leader.id} (leader in term ${roles.term}, ${lagging.id} stopped) is ${lost.role} in term ${lost.term}, leader ${lost.leader ?? 'none'}, before transfer ${trial + 1}: begun again`);
        await restart();
        continue;
      }
      trials.push(
        await watchGaps(leader, watcher, async () => {
          observer?.opened(trial, { leader: leader.id, lagging: lagging.id, watcher: watcher.id });
          const restartedAt = wallClockMs();
          await restart();
          // Entries below the leader's floor exist only in the snapshot, so reaching it means installing it.
          await waitFor('the lagging node to install the snapshot', 120_000, async () => ((await status(lagging)).appliedIndex >= snapshotIndex ? true : null));
          transferSeconds = Math.max(transferSeconds, (wallClockMs() - restartedAt) / 1000);
          if ((await status(lagging)).installs === installsBefore) transfersWithoutInstall += 1;
          observer?.closed(trial);
        }),
      );
      const countersAfter = await lagging.page.evaluate(() => window.browserBench.transportCounters());
      const counted = (name: string): number => (countersAfter[name] ?? 0) - (countersBefore[name] ?? 0);
      laggingConnectionsEstablished += counted('connectionsEstablished');
      laggingEngineChannelsReopened += counted('engineChannelsReopened');
      const now = await leadershipLost(roles);
      if (now === null) termAtLastEnd = roles.term;
      else {
        electionsDuringTransfers += 1;
        console.error(`  snapshot: ${leader.id} (leader in term ${roles.term}) is ${now.role} in term ${now.term}, leader ${now.leader ?? 'none'}, after transfer ${trial + 1}`);
      }
    } finally {
      // Whatever failed, the next phase finds every node running, and later compactions publish
      // small snapshots again wherever leadership goes next. A failure here must not hide the
      // one that brought us here, so these two are best effort.
      if (!restarted) await lagging.startNode().catch(() => undefined);
      await leader.page.evaluate(() => window.browserBench.setSnapshotBytes(64)).catch(() => undefined);
    }
  }
  return {
    snapshotBytes: sizes.snapshotBytes,
    baseline: figures([baseline]),
    duringSnapshot: figures(trials),
    trialGapP99Ms: trials.map((each) => percentile(each.gaps, 0.99)),
    transferSeconds,
    laggingConnectionsEstablished,
    laggingEngineChannelsReopened,
    electionsDuringTransfers,
    trialsBegunAgain,
    transfersWithoutInstall,
    electionsBetweenTrials,
    startedAtMs,
    endedAtMs: wallClockMs(),
  };
}
