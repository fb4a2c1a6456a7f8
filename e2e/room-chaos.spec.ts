// A short fixed-seed rooms fault campaign (e2e/room-chaos/, `npm run chaos:rooms` for long ones):
// four Chromium tabs, each its own browser process on a persistent profile, join one room through
// joinRoom as the demo does and write while seed 46's schedule makes tabs join, leave, crash
// (page closed), die (SIGKILL of the browser), come back, freeze and get cut off — every fault
// kind at least once — then everything heals and the checker judges the history: convergence,
// exactly-once, linearizable reads, membership, liveness. Waits are bounded generously (two
// shared cores: elections under CPU starvation are legal); the verdict never depends on timing.
//
// The schedule kills tab-1 twice. The first kill also damages its IndexedDB log, so Chromium
// deletes the database when the tab returns (as it sometimes does after a kill by itself): the
// room must take the tab back under a fresh id and lose nothing acknowledged. The second kill
// leaves the database alone, and the tab must come back under that new id.
import { expect, test } from '@playwright/test';
import { runCampaign } from './room-chaos/campaign.ts';
import { reportLines, writeHistory } from './room-chaos/report.ts';
import { faultKinds } from './room-chaos/schedule.ts';

const seed = 46;
const seconds = 24;

test(`rooms under faults: seed ${seed}, ${seconds} s of joins, leaves, crashes, kills (one losing its database), returns, freezes and partitions`, async ({ baseURL }) => {
  test.setTimeout(600_000);
  const result = await runCampaign({ seed, seconds, baseUrl: baseURL!, pace: 'short', edgePeer: false, witness: false, edgeDefaultTimeouts: false, loseDatabaseOnKill: true, convergenceTimeoutMs: 180_000, log: (line) => process.stdout.write(`${line}\n`) });
  const passed = result.verdict.passed && result.harnessError === null;
  const lines = reportLines(result, passed ? null : writeHistory(result));
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const kind of faultKinds) expect(result.history.faultsInjected[kind], `${kind} faults`).toBeGreaterThan(0);
  expect(result.history.notes.filter((note) => note.note.startsWith('skipped')), 'steps skipped').toEqual([]);
  expect(result.harnessError).toBeNull();
  expect(result.verdict.problems).toEqual([]);
  expect(result.verdict.acknowledged).toBeGreaterThan(20);
  // Both kills took effect as described above: one database lost and its tab back under a fresh
  // id, then one return under the same id.
  const notesOf = (tab: string): string[] => result.history.notes.filter((note) => note.tab === tab).map((note) => note.note);
  const tabOne = notesOf('tab-1');
  expect(tabOne, 'notes of tab-1').toContain('its IndexedDB log damaged: the database is gone when it returns');
  expect(tabOne.filter((note) => /^back as \S+ \(was \S+\)$/.test(note)), 'tab-1 back under a fresh id').toHaveLength(1);
  expect(tabOne.filter((note) => note.startsWith('back as ') && note.endsWith('(same identity)')), 'tab-1 back under the same id').toHaveLength(1);
});
