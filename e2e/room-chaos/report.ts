// What a campaign prints: the fault counts and the verdict; on failure also the seed, the whole
// schedule, the replay command, and the history written as JSON to a temporary directory (so it
// can be read, or judged again by the checker).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CampaignResult } from './campaign.ts';
import type { ChaosHistory } from './history.ts';
import type { ConfigurationSighting } from './page-api.ts';
import { describeStep, edgeFaultKinds } from './schedule.ts';
import { edgeLogSource } from './witness.ts';

export function replayCommand(history: Pick<ChaosHistory, 'seed' | 'seconds' | 'tabs' | 'edgePeerTimeouts' | 'edgePeerWitness' | 'loseDatabaseOnKill'>): string {
  const tabs = history.tabs === null ? '' : ` --tabs ${history.tabs}`;
  const edge = history.edgePeerTimeouts === null ? '' : ` --edge-peer${history.edgePeerWitness ? ' --witness' : ''}${history.edgePeerTimeouts === 'defaults' ? ' --edge-default-timeouts' : ''}`;
  return `npm run chaos:rooms -- --seed ${history.seed} --seconds ${history.seconds}${tabs}${edge}${history.loseDatabaseOnKill === true ? ' --lose-database-on-kill' : ''}`;
}

/**
 * The longest time no dispatch was acknowledged while the load ran (the final operations after the
 * heal left out), and when it began: how long the room could not commit, or no tab could reach it.
 * A figure for the report, never a verdict: a stall while a majority is away is legal.
 */
export function longestStallWithoutAcknowledgement(history: Pick<ChaosHistory, 'operations'>): { readonly ms: number; readonly fromMs: number } | null {
  const acknowledged = history.operations
    .filter((operation) => operation.kind === 'dispatch' && operation.outcome === 'ok' && !operation.final && operation.completedAtMs !== null)
    .map((operation) => operation.completedAtMs as number)
    .sort((first, second) => first - second);
  let longest: { ms: number; fromMs: number } | null = null;
  for (let index = 1; index < acknowledged.length; index += 1) {
    const fromMs = acknowledged[index - 1] as number;
    const ms = (acknowledged[index] as number) - fromMs;
    if (longest === null || ms > longest.ms) longest = { ms, fromMs };
  }
  return longest;
}

/** At most this many configuration changes are listed for one stretch. */
const maxChangesListed = 6;

/**
 * Who the voters were around the longest stretch, as the tabs live at the end had recorded it
 * (page-api.ts): each tab's newest configuration when the stretch began, tabs that agree named
 * together, and the configurations a tab adopted during it. A page records from its opening only,
 * so a tab reloaded since has nothing from before and is named as such. The campaign asks no
 * page for its membership while faults run: this is read once, after the run.
 */
export function votersAroundStretch(history: Pick<ChaosHistory, 'nodeNames' | 'final'>, stretch: { readonly ms: number; readonly fromMs: number }): string[] {
  // An id no tab or edge peer of the campaign ran is named as itself.
  const name = (id: string): string => history.nodeNames[id] ?? id;
  const describe = (seen: ConfigurationSighting): string =>
    `voters ${seen.voters.map(name).sort().join(', ') || 'none'}${seen.learners.length === 0 ? '' : `; learners ${seen.learners.map(name).sort().join(', ')}`}`;
  const tabsByView = new Map<string, string[]>();
  const noRecord: string[] = [];
  const changes: { readonly atMs: number; readonly tab: string; readonly view: string }[] = [];
  for (const member of history.final) {
    const before = member.configurations.filter((seen) => seen.atMs <= stretch.fromMs);
    const newest = before[before.length - 1];
    if (newest === undefined) noRecord.push(member.tab);
    else {
      const view = describe(newest);
      tabsByView.set(view, [...(tabsByView.get(view) ?? []), member.tab]);
    }
    member.configurations.forEach((seen, index) => {
      // A page's first record is what its node started with, not a change it heard of.
      if (seen.atMs > stretch.fromMs && seen.atMs <= stretch.fromMs + stretch.ms) changes.push({ atMs: seen.atMs, tab: member.tab, view: `${index === 0 ? 'opened with' : 'adopted'} ${describe(seen)}` });
    });
  }
  const views = [...tabsByView].map(([view, tabs]) => `${view} (as ${tabs.join(', ')} saw it)`);
  const lines = [`  when it began: ${[...views, ...(noRecord.length === 0 ? [] : [`no record from ${noRecord.join(', ')} (opened since)`])].join('; ') || 'no tab live at the end'}`];
  changes.sort((first, second) => first.atMs - second.atMs);
  for (const change of changes.slice(0, maxChangesListed)) lines.push(`  at ${(change.atMs / 1000).toFixed(1)} s ${change.tab} ${change.view}`);
  if (changes.length > maxChangesListed) lines.push(`  and ${changes.length - maxChangesListed} more configuration changes during it`);
  return lines;
}

export function writeHistory(result: CampaignResult): string {
  const folder = mkdtempSync(join(tmpdir(), `raftmesh-room-chaos-${result.history.seed}-`));
  const file = join(folder, 'history.json');
  writeFileSync(file, `${JSON.stringify({ ...result.history, verdict: result.verdict, harnessError: result.harnessError }, null, 1)}\n`);
  return file;
}

/** The report's lines; `historyFile` when the history was written. */
export function reportLines(result: CampaignResult, historyFile: string | null): string[] {
  const { history, verdict } = result;
  const edgeKinds: readonly string[] = edgeFaultKinds;
  const faults = Object.entries(history.faultsInjected)
    .filter(([kind]) => history.edgePeerTimeouts !== null || !edgeKinds.includes(kind))
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  const role = history.edgePeerWitness ? 'witness' : 'edge peer';
  const edge = history.edgePeerTimeouts === null ? '' : `, ${role} ${history.edgePeerIds.join(' then ') || 'never started'} (${history.edgePeerTimeouts === 'pages' ? "the pages' timeouts" : "the engine's default timeouts"})`;
  const leads = history.edgeLeaderObservations.filter((seen) => seen.source === edgeLogSource).length;
  const lines = [
    `seed ${history.seed}, ${history.seconds} s of faults${edge}: ${faults}`,
    ...(history.edgePeerTimeouts === null ? [] : [`${role}: became leader ${leads} times by its log; ${history.edgeLeaderObservations.length} sightings in all${history.edgePeerWitness ? `; leaves held back for the witness: ${history.leavesHeldBack}` : ''}`]),
    `dispatches: ${verdict.acknowledged} acknowledged, ${verdict.unknown} unknown, ${verdict.failed} failed; ${verdict.reads} reads; ${verdict.applied} applied in the end on ${history.final.length} live members`,
  ];
  const stall = longestStallWithoutAcknowledgement(history);
  if (stall !== null) lines.push(`longest stretch without an acknowledgement under load: ${(stall.ms / 1000).toFixed(1)} s from ${(stall.fromMs / 1000).toFixed(1)} s`, ...votersAroundStretch(history, stall));
  const passed = verdict.passed && result.harnessError === null;
  lines.push(passed ? 'verdict: PASS' : 'verdict: FAIL');
  if (passed) return lines;
  if (result.harnessError !== null) lines.push(`harness error: ${result.harnessError}`);
  lines.push(...verdict.problems.map((problem) => `  ${problem}`));
  lines.push('schedule:', ...history.schedule.steps.map((step) => `  ${describeStep(step)}`));
  lines.push(`replay: ${replayCommand(history)}`);
  if (historyFile !== null) lines.push(`history: ${historyFile}`);
  return lines;
}
