// What a campaign prints: the fault counts and the verdict; on failure also the seed, the whole
// schedule, the replay command, and the history written as JSON to a temporary directory (so it
// can be read, or judged again by the checker).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CampaignResult } from './campaign.ts';
import { describeStep } from './schedule.ts';

export function replayCommand(seed: number, seconds: number, edgePeer: boolean): string {
  return `npm run chaos:rooms -- --seed ${seed} --seconds ${seconds}${edgePeer ? ' --edge-peer' : ''}`;
}

export function writeHistory(result: CampaignResult): string {
  const folder = mkdtempSync(join(tmpdir(), `raftmesh-room-chaos-${result.history.seed}-`));
  const file = join(folder, 'history.json');
  writeFileSync(file, `${JSON.stringify({ ...result.history, verdict: result.verdict, harnessError: result.harnessError }, null, 1)}\n`);
  return file;
}

/** The report's lines; `historyFile` when the history was written. */
export function reportLines(result: CampaignResult, edgePeer: boolean, historyFile: string | null): string[] {
  const { history, verdict } = result;
  const faults = Object.entries(history.faultsInjected).map(([kind, count]) => `${kind} ${count}`).join(', ');
  const lines = [
    `seed ${history.seed}, ${history.seconds} s of faults${history.edgePeerId === null ? '' : `, edge peer ${history.edgePeerId}`}: ${faults}`,
    `dispatches: ${verdict.acknowledged} acknowledged, ${verdict.unknown} unknown, ${verdict.failed} failed; ${verdict.reads} reads; ${verdict.applied} applied in the end on ${history.final.length} live members`,
  ];
  const passed = verdict.passed && result.harnessError === null;
  lines.push(passed ? 'verdict: PASS' : 'verdict: FAIL');
  if (passed) return lines;
  if (result.harnessError !== null) lines.push(`harness error: ${result.harnessError}`);
  lines.push(...verdict.problems.map((problem) => `  ${problem}`));
  lines.push('schedule:', ...history.schedule.steps.map((step) => `  ${describeStep(step)}`));
  lines.push(`replay: ${replayCommand(history.seed, history.seconds, edgePeer)}`);
  if (historyFile !== null) lines.push(`history: ${historyFile}`);
  return lines;
}
