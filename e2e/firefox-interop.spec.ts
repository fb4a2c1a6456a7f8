// Issue 11, across browsers: a Firefox ESR page and two Chromium processes in one room of the
// demo, over real WebRTC through the signaling server, each with its engine in a module worker on
// IndexedDB. Playwright cannot download its own Firefox here, so Debian's firefox-esr is driven
// with puppeteer-core over WebDriver BiDi; the Chromium pages are the usual fixtures.
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';
import { findFirefox } from '../scripts/browser-env.mjs';
import { startSignalingServer, type SignalingServer } from '../src/signaling/server/index.ts';
import { firefoxOffline } from './firefox-preferences.ts';
import { closeShells, demoUrl, increment, launchPeerShells, openPeerIn, view, waitForBoards, waitForCluster, type BoardPeer, type DemoPeer, type PeerOptions } from './demo-fixtures.ts';

const firefoxPreferences = {
  // close() takes about a second instead of 5 s and a kill (firefox-preferences.ts).
  ...firefoxOffline,
  // Firefox leaves loopback out of ICE gathering by default, and loopback is all the test
  // namespace has: without this there is no candidate at all.
  'media.peerconnection.ice.loopback': true,
  // Without a camera/microphone grant Firefox hides host candidates behind mDNS names, which
  // nothing resolves in the namespace (Chromium gets the same effect from its permission grant).
  'media.peerconnection.ice.obfuscate_host_addresses': false,
};

/** browser.close() can hang after WebRTC use (ENVIRONMENT.md): after this long the process group is killed. */
const firefoxCloseTimeout = 5_000;

interface FirefoxPeer extends BoardPeer {
  readonly page: PuppeteerPage;
  /** What the page logged as errors (uncaught exceptions, console.error): shown when a test fails. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Closes Firefox, killing its process group if close() does not finish in time, then deletes its profile. */
async function closeFirefox(browser: PuppeteerBrowser, profile: string): Promise<void> {
  const child = browser.process();
  const exited = child === null || child.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const closedInTime = await Promise.race([browser.close().then(() => true, () => false), sleep(firefoxCloseTimeout).then(() => false)]);
  if (!closedInTime && child?.pid !== undefined && child.exitCode === null) {
    // puppeteer starts Firefox detached, as the leader of its own process group: killing the
    // group takes the content processes with it.
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  await Promise.race([exited, sleep(firefoxCloseTimeout)]);
  rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

interface LaunchedFirefox {
  readonly browser: PuppeteerBrowser;
  readonly profile: string;
}

async function launchFirefox(executablePath: string): Promise<LaunchedFirefox> {
  // Our own profile directory, so it is deleted even when the process has to be killed.
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-firefox-'));
  try {
    return { browser: await launch({ browser: 'firefox', executablePath, protocol: 'webDriverBiDi', extraPrefsFirefox: firefoxPreferences, headless: true, userDataDir: profile }), profile };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    throw error;
  }
}

/** Loads the demo in a launched Firefox and waits until it joined; the caller closes that Firefox, also when this fails. */
async function openFirefoxPeer({ browser, profile }: LaunchedFirefox, baseURL: string, options: PeerOptions): Promise<FirefoxPeer> {
  const page = (await browser.pages())[0] ?? (await browser.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console.error: ${message.text()}`);
  });
  await page.goto(demoUrl(baseURL, options));
  await page.waitForFunction(() => window.raftmeshDemo !== undefined);
  await page.evaluate(() => window.raftmeshDemo.ready);
  return { name: options.name, page, pageErrors, close: () => closeFirefox(browser, profile) };
}

let signaling: SignalingServer;
const cleanups: (() => Promise<void>)[] = [];

test.beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
test.afterAll(async () => {
  await signaling.close();
});
test.afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

test('a Firefox ESR page and two Chromium processes form one cluster, converge, and keep committing after Firefox closes', async ({ baseURL }, testInfo) => {
  const firefoxPath = findFirefox();
  if (firefoxPath === null) throw new Error('Firefox ESR is needed for this test (see the message above)');
  // Long launches: Firefox takes several seconds to start here, more when the machine is busy.
  test.setTimeout(240_000);
  const room = `firefox-${Date.now()}`;
  // Firefox joins last, into the cluster the Chromium pages formed: the slowest browser to start
  // here. (Before room discovery waited for signaling to be ready, a late WebSocket join made it
  // bootstrap a second cluster beside the first: 3 of 7 runs split the room.)
  // The three browsers start side by side (Firefox's start alone took 5–7 s here, 2026-12-07, and
  // came after both Chromium peers had joined); the pages are still loaded one after another, in
  // the same order, so Firefox still joins last.
  const firefoxLaunch = launchFirefox(firefoxPath);
  let firefoxOpen = true;
  cleanups.push(async () => {
    const launched = await firefoxLaunch.catch(() => null);
    if (launched !== null && firefoxOpen) await closeFirefox(launched.browser, launched.profile);
  });
  const shells = await launchPeerShells(2);
  const chromiumPeers: DemoPeer[] = [];
  try {
    for (const [position, name] of ['Ana', 'Bo'].entries()) {
      const peer = await openPeerIn(shells[position]!, baseURL!, { room, signal: signaling.url, name });
      cleanups.push(() => peer.close());
      chromiumPeers.push(peer);
    }
  } finally {
    await closeShells(shells.slice(chromiumPeers.length));
  }
  const firefox = await openFirefoxPeer(await firefoxLaunch, baseURL!, { room, signal: signaling.url, name: 'Fox' });
  try {
    const everyone: BoardPeer[] = [firefox, ...chromiumPeers];
    await waitForCluster(everyone, 3);
    // Each page proposes through its own engine: Firefox's commands reach the Chromium boards
    // and theirs reach Firefox's, whichever page leads.
    expect((await Promise.all(everyone.flatMap((peer) => [increment(peer), increment(peer)]))).every(Boolean)).toBe(true);
    await waitForBoards(everyone, 'six increments, two from each page', (board) => board.counter === 6);

    const firefoxId = (await view(firefox)).id;
    const leaderBefore = (await view(chromiumPeers[0]!)).leader;
    await firefox.close();
    firefoxOpen = false;
    // Two of three voters remain, a majority: they keep their leader (or elect one, when Firefox
    // led) and commit without it.
    await expect.poll(async () => (await Promise.all(chromiumPeers.map(view))).map((one) => one.leader).filter((leader) => leader !== null && leader !== firefoxId).length, { timeout: 30_000 }).toBe(2);
    expect((await Promise.all(chromiumPeers.map((peer) => increment(peer)))).every(Boolean)).toBe(true);
    await waitForBoards(chromiumPeers, 'six increments and two more after Firefox closed', (board) => board.counter === 8);
    testInfo.annotations.push({ type: 'leader before Firefox closed', description: leaderBefore === firefoxId ? 'Firefox' : 'a Chromium page' });
  } catch (error) {
    // What each page saw (elections, membership, wedges) and what Firefox logged as errors: the
    // evidence for why a run did not converge.
    const timelines: string[] = [];
    const reachable: BoardPeer[] = firefoxOpen ? [firefox, ...chromiumPeers] : chromiumPeers;
    for (const peer of reachable) {
      timelines.push(`${peer.name}: ${JSON.stringify(await peer.page.evaluate(() => window.raftmeshDemo.timeline()).catch(() => 'unavailable'))}`);
    }
    await testInfo.attach('timelines', { body: timelines.join('\n'), contentType: 'text/plain' });
    await testInfo.attach('firefox-page-errors', { body: firefox.pageErrors.join('\n'), contentType: 'text/plain' });
    throw error;
  }
});
