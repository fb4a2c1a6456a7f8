// A short chaos campaign in real browsers (e2e/chaos/, `npm run chaos` for long ones): three
// Chromium processes, one worker node each (IndexedDB strict, WebRTC), clients proposing and
// reading throughout, and one fault of every kind — page closed, browser SIGKILLed, engine worker
// terminated, page frozen, main thread blocked, node partitioned, engine channels closed,
// leadership transferred — each healed before the next. The verdict is the checker's, over the
// recorded history and the final logs; timing only decides how many operations there were, never
// whether the history is correct (liveness waits are generous, and a slow recovery is a note).
// The checker is shown able to fail on this very history: an acknowledged entry removed from the
// final logs must be reported.
import { expect, test } from '@playwright/test';
import { runCampaign } from './chaos/campaign.ts';
import { check } from './chaos/checker.ts';
import { formatReport, writeHistory } from './chaos/report.ts';
import { faultKinds } from './chaos/schedule.ts';
import { tmpdir } from 'node:os';

const seed = 20261201;
/** Small enough that every node compacts a few times in the short run, and restarts install. */
const compactEvery = 150;

test('chaos: every fault kind once, the history checks out', async ({ baseURL }, testInfo) => {
  test.setTimeout(300_000);
  const lines: string[] = [];
  const result = await runCampaign({ seed, seconds: 10, nodes: 3, compactEvery, ...(baseURL === undefined ? {} : { baseUrl: baseURL }), log: (line) => lines.push(line) });
  const file = writeHistory(result, tmpdir());
  const report = formatReport(result, 3, compactEvery, file);
  testInfo.annotations.push({ type: 'chaos', description: report });
  process.stdout.write(`${report}\n`);
  expect(Object.keys(result.faultCounts).sort(), report).toEqual([...faultKinds].sort());
  expect(result.verdict.violations, report).toEqual([]);
  expect(result.verdict.summary.acknowledged, report).toBeGreaterThan(20);
  expect(result.verdict.summary.readsChecked, report).toBeGreaterThan(5);
  // Snapshots happened, so restarts went through installs too (not a verdict: coverage).
  expect(Math.max(...Object.values(result.history.finalStatuses).map((status) => status.compactionFloor)), report).toBeGreaterThan(0);

  // The same history with one acknowledged entry blanked out on every node: the checker says so.
  const acknowledged = result.history.proposals.find((proposal) => proposal.attempts.some((attempt) => attempt.outcome.type === 'ok'));
  const index = acknowledged?.attempts.find((attempt) => attempt.outcome.type === 'ok')?.outcome;
  expect(index?.type).toBe('ok');
  const position = index?.type === 'ok' ? index.value.index - 1 : 0;
  const planted = structuredClone(result.history);
  for (const node of planted.voters) {
    const log = planted.finalLogs[node] ?? [];
    log[position] = { index: position + 1, term: null, command: null, clientId: null, requestId: null };
  }
  expect(check(planted).violations.join('\n')).toContain(`lost ack: ${acknowledged?.operationId}`);
});
