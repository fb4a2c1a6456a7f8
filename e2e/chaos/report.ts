// The campaign's report: the verdict, what was injected, and on failure the seed, the schedule,
// the replay command and where the history was written (JSON, under bench/results/).
import fs from 'node:fs';
import path from 'node:path';
import type { CampaignResult } from './campaign.ts';

export const replayCommand = (seed: number, seconds: number, nodes: number, compactEvery: number, loseDatabaseOnKill = false): string =>
  `npm run chaos -- --seed ${seed} --seconds ${seconds} --nodes ${nodes} --compact-every ${compactEvery}${loseDatabaseOnKill ? ' --lose-database-on-kill' : ''}`;

/** Writes the history (and verdict) as JSON; returns the file's path. */
export function writeHistory(result: CampaignResult, directory = 'bench/results'): string {
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `chaos-${result.history.seed}-${result.history.startedAt.replaceAll(':', '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ verdict: result.verdict, schedule: result.schedule, faultCounts: result.faultCounts, history: result.history }));
  return file;
}

export function formatReport(result: CampaignResult, nodes: number, compactEvery: number, historyFile: string, loseDatabaseOnKill = false): string {
  const { verdict, history } = result;
  const summary = verdict.summary;
  const faults = Object.entries(result.faultCounts).map(([kind, count]) => `${kind} ${count}`).join(', ');
  const lines = [
    `chaos campaign, seed ${history.seed}, ${history.seconds} s of faults, ${nodes} nodes, ${result.wallSeconds} s wall, started ${history.startedAt}`,
    `phases: cluster up at ${result.phases.clusterUp} s, faults ended at ${result.phases.faultsEnded} s, logs read at ${result.phases.logsRead} s`,
    `faults: ${history.faults.length} (${faults}) in ${result.schedule.length} steps`,
    `commit index ${summary.commitIndex}; ${summary.commands} commands: ${summary.acknowledged} acknowledged, ${summary.definitelyFailed} definitely failed, ${summary.unknown} unknown (${summary.unknownCommitted} of them committed); ${summary.retriedSessions} session commands retried; ${summary.duplicatesInLog} commands in the log more than once (deduplicated); ${summary.acknowledgedAtReplay} acknowledged at a deduplicated copy`,
    `reads: ${summary.readsChecked} answered and checked of ${summary.reads}`,
    `snapshots every ${compactEvery} entries; at the end: ${Object.entries(history.finalStatuses).map(([node, status]) => `${node} floor ${status.compactionFloor}, ${status.installs} installs on its page`).join('; ')}`,
    ...history.notes.map((note) => `note: ${note}`),
    `verdict: ${verdict.ok ? 'PASS' : `FAIL (${verdict.violations.length} violations)`}`,
  ];
  if (!verdict.ok) {
    lines.push(...verdict.violations.slice(0, 40).map((violation) => `  ${violation}`));
    lines.push('fault schedule:', ...result.schedule.map((step) => `  ${step}`));
    lines.push(`replay: ${replayCommand(history.seed, history.seconds, nodes, compactEvery, loseDatabaseOnKill)}`);
  }
  lines.push(`history: ${historyFile}`);
  return lines.join('\n');
}
