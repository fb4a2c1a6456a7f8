// Issue 7: kill the browser in the middle of a write load and reopen the same profile. Every
// proposal acknowledged to the page before the kill must be in IndexedDB, and the log must be a
// prefix-consistent Raft log (contiguous indexes, terms that never decrease) that a node restarts
// from. The browser is killed with SIGKILL (no shutdown, no flush), several times in a row on the
// same profile, at varied moments.
import { chromium, expect, test, type BrowserContext } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { killBrowser } from './browser-processes.ts';

const launch = (profile: string): Promise<BrowserContext> =>
  chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArguments, headless: true });

for (const durability of ['strict', 'relaxed'] as const) {
  test(`SIGKILL during a write load loses no acknowledged entry (${durability})`, async ({ baseURL }) => {
    const profile = mkdtempSync(join(tmpdir(), 'raftmesh-crash-'));
    const name = `crash-${durability}`;
    const acknowledged = new Set<number>();
    try {
      for (let round = 0; round < 3; round += 1) {
        const context = await launch(profile);
        const page = context.pages()[0] ?? (await context.newPage());
        await page.exposeFunction('acknowledge', (indexes: number[]) => {
          for (const index of indexes) acknowledged.add(index);
        });
        await page.goto(`${baseURL}/e2e/pages/storage-crash.html`);
        await page.waitForFunction(() => window.storageCrash !== undefined);
        const before = acknowledged.size;
        await page.evaluate(([database, mode]) => void window.storageCrash.load(database, mode), [name, durability] as const);
        // Let the load run until a few hundred more proposals were acknowledged, then kill at a
        // moment that varies from round to round.
        await expect.poll(() => acknowledged.size - before, { timeout: 60_000 }).toBeGreaterThan(200 + round * 150);
        await page.waitForTimeout(37 * round);
        expect(killBrowser(profile)).toBeGreaterThan(0);
        await context.close().catch(() => undefined);
      }
      const context = await launch(profile);
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${baseURL}/e2e/pages/storage-crash.html`);
      await page.waitForFunction(() => window.storageCrash !== undefined);
      const stored = await page.evaluate((database) => window.storageCrash.inspect(database), name);
      await context.close();

      expect(acknowledged.size).toBeGreaterThan(600);
      const present = new Set(stored.indexes);
      const lost = [...acknowledged].filter((index) => !present.has(index));
      expect(lost, 'acknowledged entries missing after the crashes').toEqual([]);
      stored.indexes.forEach((index, position) => {
        if (position > 0) expect(index).toBe((stored.indexes[position - 1] ?? 0) + 1);
      });
      stored.terms.forEach((term, position) => {
        if (position > 0) expect(term).toBeGreaterThanOrEqual(stored.terms[position - 1] ?? 0);
      });
      expect(stored.restartedCommitIndex).toBeGreaterThan(Math.max(...stored.indexes) > 0 ? Math.max(...acknowledged) : 0);
    } finally {
      killBrowser(profile);
      rmSync(profile, { recursive: true, force: true });
    }
  });
}
