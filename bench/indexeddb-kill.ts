// `npm run bench:indexeddb-kill [-- --cycles=N --durability=strict|relaxed --browser=chromium|firefox]`:
// whether a browser keeps every IndexedDB write it acknowledged through a SIGKILL in the middle of
// writes, and how often it throws the whole database away instead. Each cycle launches the headless
// browser on one profile, opens a database, writes 64-record transactions from 8 lanes for
// 150–550 ms, then SIGKILLs the browser and every process under it. Chromium's next open may find
// its LevelDB log torn ("checksum mismatch"), delete the database and report it only through the
// `dataLoss` field of that open's upgradeneeded event ("total"); Firefox (SQLite) has no such
// field, so there a loss would show only as records missing. Raw IndexedDB, not raftmesh: this
// measures the browser. Must run in the loopback-only namespace (the npm script sees to it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { killBrowser } from '../e2e/browser-processes.ts';
import { launchFirefoxOnProfile } from '../e2e/firefox-on-profile.ts';

const usage = 'usage: npm run bench:indexeddb-kill -- [--cycles=N] [--durability=strict|relaxed] [--browser=chromium|firefox]';
const given = new Map<string, string>();
for (const argument of process.argv.slice(2)) {
  const match = /^--(cycles|durability|browser)=(.+)$/.exec(argument);
  if (match === null) {
    console.error(`unknown argument ${JSON.stringify(argument)}\n${usage}`);
    process.exit(2);
  }
  given.set(match[1] ?? '', match[2] ?? '');
}
const cycles = Number(given.get('cycles') ?? '60');
const durability = given.get('durability') ?? 'relaxed';
const browserName = given.get('browser') ?? 'chromium';
if (!Number.isInteger(cycles) || cycles < 1 || (durability !== 'strict' && durability !== 'relaxed') || (browserName !== 'chromium' && browserName !== 'firefox')) {
  console.error(usage);
  process.exit(2);
}

interface OpenReport {
  readonly error?: string;
  readonly dataLoss?: string | null;
  readonly dataLossMessage?: string | null;
  readonly count?: number;
}

const page = `<!doctype html><script>
window.openDatabase = () => new Promise((resolve) => {
  let loss = { dataLoss: null, dataLossMessage: null };
  const request = indexedDB.open('kill', 1);
  request.onupgradeneeded = (event) => {
    loss = { dataLoss: event.dataLoss ?? null, dataLossMessage: event.dataLossMessage ?? null };
    request.result.createObjectStore('records');
  };
  request.onerror = () => resolve({ error: String(request.error) });
  request.onsuccess = () => {
    window.database = request.result;
    const transaction = request.result.transaction('records', 'readonly');
    const count = transaction.objectStore('records').count();
    transaction.oncomplete = () => resolve({ ...loss, count: count.result });
  };
});
window.written = 0;
window.writeLoad = (durability) => {
  const value = new Uint8Array(2000);
  const lane = () => {
    const transaction = window.database.transaction('records', 'readwrite', { durability });
    for (let record = 0; record < 64; record += 1) transaction.objectStore('records').put(value, Math.random());
    transaction.oncomplete = () => { window.written += 64; lane(); };
  };
  for (let lanes = 0; lanes < 8; lanes += 1) lane();
};
</script>`;

interface PageCalls {
  openDatabase(): Promise<OpenReport>;
  writeLoad(durability: string): Promise<void>;
  written(): Promise<number>;
}

/** The page's functions through a driver's evaluate (Playwright's and puppeteer's differ in their types only). */
function pageCalls(evaluate: (expression: string) => Promise<unknown>): PageCalls {
  return {
    openDatabase: () => evaluate('window.openDatabase()') as Promise<OpenReport>,
    writeLoad: async (mode) => void (await evaluate(`window.writeLoad(${JSON.stringify(mode)})`)),
    written: () => evaluate('window.written') as Promise<number>,
  };
}

/** One launch of the browser on the profile, with the page open. */
interface Launched {
  readonly version: string;
  /** The page's functions (below), called in the page. */
  readonly page: PageCalls;
  /** SIGKILL of the browser and every process under it: nothing gets to shut down or flush. */
  kill(): Promise<void>;
}

async function launchChromium(profile: string, url: string): Promise<Launched> {
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArguments, headless: true });
  const tab = context.pages()[0] ?? (await context.newPage());
  await tab.goto(url);
  return {
    version: `Chromium ${context.browser()?.version() ?? (await tab.evaluate(() => navigator.userAgent))}`,
    page: pageCalls((expression) => tab.evaluate(expression)),
    kill: async () => {
      killBrowser(profile);
      await context.close().catch(() => undefined);
    },
  };
}

async function launchFirefox(profile: string, url: string): Promise<Launched> {
  const firefox = await launchFirefoxOnProfile(profile);
  // A puppeteer Firefox carries no --user-data-dir for killBrowser(profile) to find: killed here.
  await firefox.page.goto(url).catch(async (error: unknown) => {
    await firefox.kill();
    throw error;
  });
  return { version: await firefox.browser.version(), page: pageCalls((expression) => firefox.page.evaluate(expression)), kill: async () => void (await firefox.kill()) };
}

const server = http.createServer((_request, response) => {
  response.setHeader('content-type', 'text/html');
  response.end(page);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const profile = mkdtempSync(path.join(os.tmpdir(), 'raftmesh-indexeddb-kill-'));
const open = browserName === 'firefox' ? launchFirefox : launchChromium;
const losses: string[] = [];
let expected = 0;
let last: Launched | null = null;
try {
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const launched = await open(profile, url);
    last = launched;
    if (cycle === 0) console.log(`SIGKILL of headless ${launched.version} during ${durability} IndexedDB writes, ${cycles} cycles — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
    const opened = await launched.page.openDatabase();
    if (opened.error !== undefined || opened.dataLoss === 'total' || (opened.count ?? 0) < expected) {
      losses.push(`cycle ${cycle}: ${JSON.stringify(opened)}, at least ${expected} records written before`);
      console.log(losses.at(-1));
    }
    await launched.page.writeLoad(durability);
    await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(Math.random() * 400)));
    // Records whose transaction completed before this reading: all must be there after the kill.
    expected = (opened.count ?? 0) + (await launched.page.written());
    await launched.kill();
    last = null;
  }
  console.log(`${browserName}, ${durability}: ${losses.length} of ${cycles} reopens after a SIGKILL found records missing or the database deleted by the browser; ${expected} records acknowledged before the last kill`);
} finally {
  await last?.kill();
  killBrowser(profile);
  rmSync(profile, { recursive: true, force: true });
  server.close();
}
