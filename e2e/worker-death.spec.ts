// A worker node's worker that ends without an `error` event, in Chromium and in Firefox ESR: the
// page notices through the worker's life lock (src/worker/worker-life.ts) and rejects the pending
// propose with WorkerCrashedError within milliseconds; an orderly close raises nothing and leaves
// no life lock behind. Firefox is driven with puppeteer-core over WebDriver BiDi, as in
// firefox-interop.spec.ts (Playwright cannot download its own Firefox here). The delays measured
// are attached to the test as annotations.
import { expect, test, type TestInfo } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from 'puppeteer-core';
import { findFirefox } from '../scripts/browser-env.mjs';
import { firefoxOffline } from './firefox-preferences.ts';
import type { DeathHow, DeathRound } from './pages/worker-death.ts';

const rounds = 3;
const hows: readonly DeathHow[] = ['self.close', 'terminate', 'orderly close'];
const pagePath = '/e2e/pages/worker-death.html';
const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

function expectNoticed(results: readonly DeathRound[], browser: string, testInfo: TestInfo): void {
  for (const how of hows) {
    const mine = results.filter((result) => result.how === how);
    testInfo.annotations.push({ type: `${browser}: ${how}`, description: `propose rejected with ${mine.map((result) => result.rejectedWith).join(', ')} after ${mine.map((result) => result.afterMs).join(' / ')} ms` });
  }
  for (const result of results) {
    expect(result.errorEvents, `${result.how}: the path under test has no error event`).toBe(0);
    expect(result.lifeLocksLeft, `${result.how}: no life lock left behind`).toBe(0);
    if (result.how === 'orderly close') {
      expect(result.rejectedWith).toBe('RaftClosedError');
      expect(result.stoppedWith).toBe('RaftClosedError');
    } else {
      expect(result.rejectedWith).toBe('WorkerCrashedError');
      expect(result.stoppedWith).toBe('WorkerCrashedError');
      expect(result.afterMs).toBeLessThan(2_000);
    }
  }
}

test('Chromium: a worker that ends without an error event stops its node within milliseconds', async ({ page }, testInfo) => {
  await page.goto(pagePath);
  await page.waitForFunction('window.workerDeathRound !== undefined');
  const results: DeathRound[] = [];
  for (let round = 0; round < rounds; round += 1) for (const how of hows) results.push(await page.evaluate((which) => window.workerDeathRound(which), how));
  expectNoticed(results, 'Chromium', testInfo);
});

test('Firefox ESR: a worker that ends without an error event stops its node within milliseconds', async ({ baseURL }, testInfo) => {
  const firefoxPath = findFirefox();
  if (firefoxPath === null) throw new Error('Firefox ESR is needed for this test (see the message above)');
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-firefox-'));
  // firefoxOffline: without it every close() here took 5 s and ended in a kill (firefox-preferences.ts).
  const browser = await launch({ browser: 'firefox', executablePath: firefoxPath, protocol: 'webDriverBiDi', extraPrefsFirefox: firefoxOffline, headless: true, userDataDir: profile });
  try {
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    await page.goto(`${baseURL}${pagePath}`);
    await page.waitForFunction(() => window.workerDeathRound !== undefined);
    testInfo.annotations.push({ type: 'Firefox', description: await browser.version() });
    const results: DeathRound[] = [];
    for (let round = 0; round < rounds; round += 1) for (const how of hows) results.push(await page.evaluate((which) => window.workerDeathRound(which), how));
    expectNoticed(results, 'Firefox', testInfo);
  } finally {
    // No WebRTC here, but close() is still bounded: a hung Firefox is killed with its process group.
    const child = browser.process();
    const closed = await Promise.race([browser.close().then(() => true, () => false), sleep(5_000).then(() => false)]);
    if (!closed && child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
