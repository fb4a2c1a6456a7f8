// `npm run bench:indexeddb-kill [-- --cycles=N --durability=strict|relaxed]`: how often Chromium
// throws away a whole IndexedDB database after a SIGKILL in the middle of writes. Each cycle
// launches headless Chromium on one profile, opens a database, writes 64-record transactions from
// 8 lanes for 150–550 ms, then SIGKILLs the browser and every process under it
// (e2e/browser-processes.ts). On the next open, Chromium may find its LevelDB log torn
// ("checksum mismatch"), delete the database and report it only through the `dataLoss` field of
// that open's upgradeneeded event ("total"). Raw IndexedDB, not raftmesh: this measures the
// browser. Must run in the loopback-only namespace (the npm script sees to it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import { killBrowser } from '../e2e/browser-processes.ts';

const option = (name: string, fallback: string): string => process.argv.find((argument) => argument.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const cycles = Number(option('cycles', '60'));
const durability = option('durability', 'relaxed');
if (!Number.isInteger(cycles) || cycles < 1 || (durability !== 'strict' && durability !== 'relaxed')) {
  console.error('usage: npm run bench:indexeddb-kill -- [--cycles=N] [--durability=strict|relaxed]');
  process.exit(2);
}

interface OpenReport {
  readonly error?: string;
  readonly dataLoss?: string | null;
  readonly dataLossMessage?: string | null;
  readonly count?: number;
}

/** What the page's inline script below defines. */
declare global {
  interface Window {
    openDatabase(): Promise<OpenReport>;
    writeLoad(durability: string): void;
    written: number;
  }
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

const server = http.createServer((_request, response) => {
  response.setHeader('content-type', 'text/html');
  response.end(page);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const profile = mkdtempSync(path.join(os.tmpdir(), 'raftmesh-indexeddb-kill-'));
const losses: string[] = [];
let expected = 0;
try {
  console.log(`SIGKILL of headless Chromium during ${durability} IndexedDB writes, ${cycles} cycles — ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${new Date().toISOString()}`);
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArguments, headless: true });
    const tab = context.pages()[0] ?? (await context.newPage());
    await tab.goto(url);
    const opened = await tab.evaluate(() => window.openDatabase());
    if (opened.error !== undefined || opened.dataLoss === 'total' || (opened.count ?? 0) < expected) {
      losses.push(`cycle ${cycle}: ${JSON.stringify(opened)}, at least ${expected} records written before`);
      console.log(losses.at(-1));
    }
    await tab.evaluate((mode) => window.writeLoad(mode), durability);
    await tab.waitForTimeout(150 + Math.floor(Math.random() * 400));
    // Records whose transaction completed before this reading: all must be there after the kill.
    expected = (opened.count ?? 0) + (await tab.evaluate(() => window.written));
    killBrowser(profile);
    await context.close().catch(() => undefined);
  }
  console.log(`${durability}: ${losses.length} of ${cycles} reopens after a SIGKILL found records missing (the database deleted by the browser)`);
} finally {
  killBrowser(profile);
  rmSync(profile, { recursive: true, force: true });
  server.close();
}
