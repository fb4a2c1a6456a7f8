// One campaign: a cluster of real browsers, the workload running throughout, the seeded fault
// schedule for the given time, a final heal, convergence, then the checker's verdict over the
// history. Liveness waits are generous (this machine is a shared 2-core VM; an election under CPU
// starvation is legal): a slow recovery is noted, only the checker decides the verdict.
import { check, type Verdict } from './checker.ts';
import { startChaosCluster, type ChaosCluster } from './cluster.ts';
import { currentLeader, injectAndHeal, resolveTargets, statusOf } from './faults.ts';
import type { FaultKind, History } from './history.ts';
import { describeFault, faultKinds, faultSchedule } from './schedule.ts';
import { elapsedMs, sleep, waitFor, withTimeout } from './time.ts';
import { startWorkload } from './workload.ts';

export interface CampaignOptions {
  readonly seed: number;
  readonly seconds: number;
  readonly nodes: number;
  readonly compactEvery: number;
  /** A server already serving the repository's pages (the Playwright spec's). */
  readonly baseUrl?: string;
  /**
   * Damage the LevelDB log of the first browser killed (e2e/damaged-indexeddb.ts) before it is
   * launched again, so that Chromium deletes its database as it sometimes does after a kill by
   * itself: the node is then lost for good, and the campaign goes on without it.
   */
  readonly loseDatabaseOnKill?: boolean;
  readonly log: (line: string) => void;
}

export interface CampaignResult {
  readonly history: History;
  readonly verdict: Verdict;
  /** Each step as it ran: "step 3 at 12.3 s: freeze on node-b for 1200 ms". */
  readonly schedule: readonly string[];
  readonly faultCounts: Readonly<Partial<Record<FaultKind, number>>>;
  readonly wallSeconds: number;
  /** When the cluster first had a leader, the faults ended and the logs were read (s from start). */
  readonly phases: { readonly clusterUp: number; readonly faultsEnded: number; readonly logsRead: number };
}

const seconds = (milliseconds: number): number => Math.round(milliseconds / 100) / 10;
const healthyWithinMs = 90_000;
const convergedWithinMs = 120_000;
const logsTimeoutMs = 30_000;
const finalReadRounds = 3;
const observeEveryMs = 250;

/** Every node not lost for good up, started, not stopped, and agreeing on one leader that says it leads. */
async function healthy(cluster: ChaosCluster): Promise<boolean> {
  const live = cluster.live();
  const statuses = await Promise.all(live.map(statusOf));
  if (statuses.some((status) => status === null || !status.started || status.stopped !== null)) return false;
  const leaders = new Set(statuses.map((status) => status?.leader ?? null));
  const leader = [...leaders][0] ?? null;
  if (leaders.size !== 1 || leader === null) return false;
  return statuses[live.findIndex((process) => process.id === leader)]?.role === 'leader';
}

/** Same commit index everywhere, every application caught up with it, twice in a row. */
async function converged(cluster: ChaosCluster): Promise<boolean> {
  const read = async (): Promise<string | null> => {
    const statuses = await Promise.all(cluster.live().map(statusOf));
    if (statuses.some((status) => status === null || status.appliedIndex !== status.commitIndex)) return null;
    const indexes = new Set(statuses.map((status) => status?.commitIndex));
    return indexes.size === 1 ? JSON.stringify([...indexes]) : null;
  };
  const first = await read();
  if (first === null || !(await healthy(cluster))) return false;
  await sleep(1_000);
  return (await read()) === first;
}

/**
 * After the final heal: waits until the nodes converge, then reads every node's committed sequence
 * and commit index. Something may still commit while the nodes are read one after another (a
 * proposal the page had not given up on, a new leader's no-op): then the logs differ in length
 * only, and they are read again, a bounded number of times. The checker judges what is read last.
 */
async function collectFinalLogs(cluster: ChaosCluster, history: History): Promise<void> {
  for (let round = 0; round < finalReadRounds; round += 1) {
    if (!(await waitFor(() => converged(cluster), convergedWithinMs, 500))) {
      history.notes.push(`no convergence within ${convergedWithinMs} ms of the final heal`);
    }
    for (const process of cluster.live()) {
      const final = await withTimeout(
        process.page.evaluate(() => ({ log: window.chaosNode.committedLog(), commitIndex: window.chaosNode.status().commitIndex, status: window.chaosNode.status() })),
        logsTimeoutMs,
        `${process.id}'s log`,
      );
      history.finalLogs[process.id] = final.log;
      history.finalCommitIndexes[process.id] = final.commitIndex;
      history.finalStatuses[process.id] = final.status;
    }
    const lengths = new Set(Object.values(history.finalLogs).map((log) => log.length));
    const indexes = new Set(Object.values(history.finalCommitIndexes));
    if (lengths.size === 1 && indexes.size === 1) return;
    history.notes.push(`final read ${round + 1}: logs of ${[...lengths].join('/')} entries, commit indexes ${[...indexes].join('/')}; reading again`);
  }
}

/** Reads every node's status about every 250 ms, so each term's leader is seen (statusOf notes it). */
function observeLeadership(cluster: ChaosCluster): { stop(): Promise<void> } {
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      await Promise.all(cluster.processes.map(statusOf));
      await sleep(observeEveryMs);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
    },
  };
}

/** "node-b leads term 7", as the leader itself reports it, for the schedule's lines. */
async function leaderAndTerm(cluster: ChaosCluster): Promise<string> {
  // Role and term from one status read: a second read could pair a new term with an old role.
  const leader = await currentLeader(cluster);
  return leader === null ? 'no leader' : `${leader.process.id} leads term ${leader.term}`;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const startedMs = elapsedMs();
  const history: History = { seed: options.seed, seconds: options.seconds, voters: [], startedAt: new Date().toISOString(), proposals: [], reads: [], faults: [], notes: [], finalLogs: {}, finalCommitIndexes: {}, finalStatuses: {}, leadership: {}, lostForGood: {} };
  const schedule: string[] = [];
  const faultCounts: Partial<Record<FaultKind, number>> = {};
  const timings = { clusterUp: 0, faultsEnded: 0, convergedAt: 0 };
  const cluster = await startChaosCluster({ nodes: options.nodes, compactEvery: options.compactEvery, ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }) });
  try {
    (history.voters as string[]).push(...cluster.voters);
    if (!(await waitFor(() => healthy(cluster), healthyWithinMs))) throw new Error(`no leader within ${healthyWithinMs} ms of the start`);
    timings.clusterUp = elapsedMs();
    options.log(`cluster of ${cluster.voters.length} up at ${(elapsedMs() / 1000).toFixed(1)} s; faults for ${options.seconds} s (seed ${options.seed})`);
    const workload = startWorkload(cluster, history, options.seed);
    const observer = observeLeadership(cluster);
    const deadline = elapsedMs() + options.seconds * 1000;
    // Disarmed by the first kill that damages a log, before that browser is even relaunched: two
    // kills at once would otherwise both damage theirs (faults.ts).
    const databaseLoss = { armed: options.loseDatabaseOnKill === true };
    for (const step of faultSchedule(options.seed, cluster.voters.length)) {
      // The first steps cover every fault kind once; a campaign always runs them all.
      if (elapsedMs() >= deadline && step.index >= faultKinds.length) break;
      const before = await leaderAndTerm(cluster);
      const targets = await resolveTargets(cluster, step.faults);
      const line = `step ${step.index} at ${(elapsedMs() / 1000).toFixed(1)} s (${before}): ${step.faults.map((fault, position) => `${describeFault(fault)} → ${targets[position]?.id ?? 'skipped: no live node left for it'}`).join(' + ')}`;
      schedule.push(line);
      options.log(line);
      // A fault left without a live node to land on (nodes lost for good) is skipped, and not counted.
      await Promise.all(step.faults.map((fault, position) => {
        const target = targets[position];
        if (target === null || target === undefined) return Promise.resolve();
        faultCounts[fault.kind] = (faultCounts[fault.kind] ?? 0) + 1;
        return injectAndHeal(cluster, history, step.index, fault, target, databaseLoss);
      }));
      const healedAt = elapsedMs();
      if (!(await waitFor(() => healthy(cluster), healthyWithinMs))) history.notes.push(`step ${step.index}: no agreed leader within ${healthyWithinMs} ms of the heal`);
      else if (elapsedMs() - healedAt > 10_000) history.notes.push(`step ${step.index}: ${Math.round((elapsedMs() - healedAt) / 1000)} s to an agreed leader after the heal`);
      const after = await leaderAndTerm(cluster);
      schedule[schedule.length - 1] += `; then ${after}`;
      options.log(`  then ${after}`);
      await sleep(step.quietMs);
    }
    await workload.stop();
    await observer.stop();
    timings.faultsEnded = elapsedMs();
    // The final heal: nothing is held any more; every node must converge.
    for (const process of cluster.processes) await withTimeout(process.page.evaluate(() => window.chaosNode.setPartitioned(false)), 10_000, 'final heal').catch(() => {});
    for (const process of cluster.processes) {
      if (process.lost === null) continue;
      history.lostForGood[process.id] = process.lost;
      history.notes.push(`${process.id} lost for good (the browser deleted its database after a kill; its log is not judged): ${process.lost}`);
    }
    await collectFinalLogs(cluster, history);
    timings.convergedAt = elapsedMs();
    for (const process of cluster.processes) history.leadership[process.id] = Object.fromEntries(process.ledTerms);
    const verdict = check(history);
    for (const process of cluster.processes) if (process.console.length > 0) history.notes.push(`${process.id} console: ${process.console.slice(0, 20).join(' | ')}`);
    return { history, verdict, schedule, faultCounts, wallSeconds: Math.round(elapsedMs() - startedMs) / 1000,
      phases: { clusterUp: seconds(timings.clusterUp - startedMs), faultsEnded: seconds(timings.faultsEnded - startedMs), logsRead: seconds(timings.convergedAt - startedMs) },
    };
  } finally {
    await cluster.close();
  }
}
