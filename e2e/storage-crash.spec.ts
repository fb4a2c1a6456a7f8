// Issue 7: kill the browser in the middle of a write load and reopen the same profile. Every
// proposal acknowledged to the page before the kill must be in IndexedDB, and the log must be a
// prefix-consistent Raft log (contiguous indexes, terms that never decrease) that a node restarts
// from. The browser is killed with SIGKILL (no shutdown, no flush), several times in a row on the
// same profile, at varied moments.
// Chromium itself sometimes deletes the database on the open after such a kill: it finds its
// LevelDB log torn ("checksum mismatch"), treats the database as corrupt, and makes an empty one,
// reporting it only to that open (`npm run bench:indexeddb-kill`: 3 of 60 kills strict, 2 of 60
// relaxed; here 1 CI run on 2026-12-06 lost all 3,010 acknowledged entries so). No library can
// keep what the browser deletes; what raftmesh must do then is refuse to open, saying so, rather
// than start the node as one that never voted or stored anything. Both outcomes are checked: every
// acknowledged entry is there, or the open is refused with that reason (noted on the test).
// Firefox ESR (SQLite underneath, no `dataLoss` to report) runs the same load, strict: there only
// "nothing lost" passes (`npm run bench:indexeddb-kill -- --browser=firefox`: 0 of 60 kills lost a
// record, strict or relaxed).
import { chromium, expect, test, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { killBrowser } from './browser-processes.ts';
import { damageIndexedDbLog } from './damaged-indexeddb.ts';
import { launchFirefoxOnProfile } from './firefox-on-profile.ts';

const launch = (profile: string): Promise<BrowserContext> =>
  chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArguments, headless: true });

/** Chromium on `profile` with the crash page open; each acknowledged index lands in `acknowledged`. */
async function openCrashPage(profile: string, baseURL: string | undefined, acknowledged: Set<number>): Promise<{ context: BrowserContext; page: Page }> {
  const context = await launch(profile);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.exposeFunction('acknowledge', (indexes: number[]) => {
    for (const index of indexes) acknowledged.add(index);
  });
  await page.goto(`${baseURL}/e2e/pages/storage-crash.html`);
  await page.waitForFunction(() => window.storageCrash !== undefined);
  return { context, page };
}

type Inspection = Awaited<ReturnType<Window['storageCrash']['inspect']>>;

/** A browser on `profile` with the crash page open, whichever browser it is. */
interface CrashSession {
  load(name: string, durability: 'strict' | 'relaxed'): Promise<void>;
  /** How many acknowledged indexes the test holds, after taking those the page kept for it. */
  acknowledgedCount(): Promise<number>;
  inspect(name: string): Promise<Inspection>;
  /** SIGKILL of the browser and every process under it; how many processes. */
  kill(): Promise<number>;
}

type CrashBrowser = (profile: string, baseURL: string | undefined, acknowledged: Set<number>) => Promise<CrashSession>;

const crashChromium: CrashBrowser = async (profile, baseURL, acknowledged) => {
  const { context, page } = await openCrashPage(profile, baseURL, acknowledged);
  return {
    load: (name, durability) => page.evaluate(([database, mode]) => window.storageCrash.load(database, mode), [name, durability] as const),
    acknowledgedCount: async () => acknowledged.size,
    inspect: (name) => page.evaluate((database) => window.storageCrash.inspect(database), name),
    kill: async () => {
      const killed = killBrowser(profile);
      await context.close().catch(() => undefined);
      return killed;
    },
  };
};

/** Firefox ESR through puppeteer, whose BiDi pages take no exposed function: acknowledgments are taken from the page. */
const crashFirefox: CrashBrowser = async (profile, baseURL, acknowledged) => {
  const firefox = await launchFirefoxOnProfile(profile);
  try {
    await firefox.page.goto(`${baseURL}/e2e/pages/storage-crash.html`);
    await firefox.page.waitForFunction(() => window.storageCrash !== undefined);
  } catch (error) {
    await firefox.kill();
    throw error;
  }
  return {
    load: (name, durability) => firefox.page.evaluate((database, mode) => window.storageCrash.load(database, mode), name, durability),
    acknowledgedCount: async () => {
      for (const index of await firefox.page.evaluate(() => window.storageCrash.takeAcknowledged())) acknowledged.add(index);
      return acknowledged.size;
    },
    inspect: (name) => firefox.page.evaluate((database) => window.storageCrash.inspect(database), name),
    kill: () => firefox.kill(),
  };
};

/** The refusal of a database the browser deleted as corrupt (IndexedDbRaftStorage.open). */
const browserDeletedDatabase = /RaftStorageError: IndexedDbRaftStorage open: the browser deleted the database "raftmesh:[\w-]+" as corrupt/;

/** A page call that may meet the browser's deletion: its refusal becomes null, noted on the test. */
async function unlessBrowserDeleted<T>(call: Promise<T>, when: string, testInfo: TestInfo): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    expect(message, 'the only failure allowed: the storage refusing a database the browser deleted').toMatch(browserDeletedDatabase);
    testInfo.annotations.push({ type: 'browser deleted the database', description: `${when}: ${message.split('\n')[0] ?? ''}` });
    return null;
  }
}

/** Three rounds of a write load killed at varied moments on one profile, then the reopened log checked. */
async function killDuringWrites(open: CrashBrowser, durability: 'strict' | 'relaxed', baseURL: string | undefined, testInfo: TestInfo): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-crash-'));
  const name = `crash-${durability}`;
  const acknowledged = new Set<number>();
  let session: CrashSession | null = null;
  try {
    for (let round = 0; round < 3; round += 1) {
      session = await open(profile, baseURL, acknowledged);
      const before = acknowledged.size;
      const started = await unlessBrowserDeleted(session.load(name, durability).then(() => true), `round ${round}, after ${acknowledged.size} acknowledged entries`, testInfo);
      if (started === null) return;
      // Let the load run until a few hundred more proposals were acknowledged, then kill at a
      // moment that varies from round to round.
      const running = session;
      await expect.poll(async () => (await running.acknowledgedCount()) - before, { timeout: 60_000 }).toBeGreaterThan(200 + round * 150);
      await new Promise((resolve) => setTimeout(resolve, 37 * round));
      expect(await session.kill()).toBeGreaterThan(0);
      session = null;
    }
    session = await open(profile, baseURL, acknowledged);
    const stored = await unlessBrowserDeleted(session.inspect(name), `after ${acknowledged.size} acknowledged entries`, testInfo);
    if (stored === null) return;

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
    await session?.kill();
    killBrowser(profile);
    rmSync(profile, { recursive: true, force: true });
  }
}

for (const durability of ['strict', 'relaxed'] as const) {
  test(`SIGKILL during a write load loses no acknowledged entry (${durability})`, async ({ baseURL }, testInfo) => {
    await killDuringWrites(crashChromium, durability, baseURL, testInfo);
  });
}

test('Firefox ESR: SIGKILL during a write load loses no acknowledged entry (strict)', async ({ baseURL }, testInfo) => {
  // Four launches of Firefox, 5–7 s each here, and longer on a busy machine (as in firefox-interop.spec.ts).
  test.setTimeout(240_000);
  await killDuringWrites(crashFirefox, 'strict', baseURL, testInfo);
});

test('a database Chromium deletes as corrupt is refused on that open and every later one, saying so', async ({ baseURL }) => {
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-corrupt-'));
  const name = 'corrupted';
  const acknowledged = new Set<number>();
  const open = (): Promise<{ context: BrowserContext; page: Page }> => openCrashPage(profile, baseURL, acknowledged);
  try {
    const first = await open();
    await first.page.evaluate((database) => window.storageCrash.load(database, 'strict'), name);
    await expect.poll(() => acknowledged.size, { timeout: 60_000 }).toBeGreaterThan(100);
    await first.context.close();
    // Damage a record of the origin's LevelDB log, as a torn write would: Chromium's next open
    // finds a checksum mismatch, deletes the database and makes an empty one.
    damageIndexedDbLog(profile, baseURL ?? '');

    for (const attempt of ['the open that finds the damage', 'a later open']) {
      const again = await open();
      const refusal = await again.page.evaluate(
        (database) => window.storageCrash.inspect(database).then(() => 'opened', (error: unknown) => `${String(error)} [reason ${String((error as { reason?: unknown }).reason)}]`),
        name,
      );
      await again.context.close();
      expect(refusal, attempt).toMatch(browserDeletedDatabase);
      expect(refusal, attempt).toContain('[reason dataLost]');
      expect(refusal, attempt).toContain('must not come back under its id');
    }
  } finally {
    killBrowser(profile);
    rmSync(profile, { recursive: true, force: true });
  }
});
