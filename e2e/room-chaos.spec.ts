// A short fixed-seed rooms fault campaign (e2e/room-chaos/, `npm run chaos:rooms` for long ones):
// four Chromium tabs, each its own browser process on a persistent profile, join one room through
// joinRoom as the demo does and write while seed 2's schedule makes tabs join, leave, crash
// (page closed), die (SIGKILL of the browser), come back, freeze and get cut off — every fault
// kind at least once — then everything heals and the checker judges the history: convergence,
// exactly-once, linearizable reads, membership, liveness. Waits are bounded generously (two
// shared cores: elections under CPU starvation are legal); the verdict never depends on timing.
import { expect, test } from '@playwright/test';
import { runCampaign } from './room-chaos/campaign.ts';
import { reportLines, writeHistory } from './room-chaos/report.ts';
import { faultKinds } from './room-chaos/schedule.ts';

const seed = 2;
const seconds = 24;

test(`rooms under faults: seed ${seed}, ${seconds} s of joins, leaves, crashes, kills, returns, freezes and partitions`, async ({ baseURL }) => {
  test.setTimeout(600_000);
  const result = await runCampaign({ seed, seconds, baseUrl: baseURL!, pace: 'short', edgePeer: false, witness: false, edgeDefaultTimeouts: false, convergenceTimeoutMs: 180_000, log: (line) => process.stdout.write(`${line}\n`) });
  const passed = result.verdict.passed && result.harnessError === null;
  const lines = reportLines(result, passed ? null : writeHistory(result));
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const kind of faultKinds) expect(result.history.faultsInjected[kind], `${kind} faults`).toBeGreaterThan(0);
  expect(result.history.notes.filter((note) => note.note.startsWith('skipped')), 'steps skipped').toEqual([]);
  expect(result.harnessError).toBeNull();
  expect(result.verdict.problems).toEqual([]);
  expect(result.verdict.acknowledged).toBeGreaterThan(20);
});
