// Firefox ESR on a profile directory that outlives it, killed with SIGKILL and launched again on
// the same profile (e2e/storage-crash.spec.ts, `npm run bench:indexeddb-kill -- --browser=firefox`).
// Playwright cannot download its own Firefox here, so Debian's firefox-esr is driven with
// puppeteer-core over WebDriver BiDi (ENVIRONMENT.md).
import { readdirSync } from 'node:fs';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { findFirefox } from '../scripts/browser-env.mjs';
import { killProcessTree } from './browser-processes.ts';

export interface FirefoxOnProfile {
  readonly browser: Browser;
  readonly page: Page;
  /**
   * SIGKILL of Firefox and every process under it (nothing shuts down or flushes), then waits
   * until the profile may be launched again; how many processes it killed.
   */
  kill(): Promise<number>;
}

export async function launchFirefoxOnProfile(profile: string): Promise<FirefoxOnProfile> {
  const executablePath = findFirefox();
  if (executablePath === null) throw new Error('Firefox ESR is needed here (see the message above)');
  const browser = await launch({ browser: 'firefox', executablePath, protocol: 'webDriverBiDi', headless: true, userDataDir: profile });
  const pid = browser.process()?.pid;
  const kill = async (): Promise<number> => {
    const killed = pid === undefined ? 0 : killProcessTree(pid);
    await browser.close().catch(() => undefined);
    await prefsPutBack(profile);
    return killed;
  };
  try {
    if (pid === undefined) throw new Error('puppeteer gave no Firefox process to kill');
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    return { browser, page, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

/**
 * puppeteer puts a profile's own prefs back (its `*.puppeteer` backups) when it sees the process
 * exit, which close() does not wait for: a launch meanwhile found user.js gone between its check
 * and its copy (ENOENT).
 */
async function prefsPutBack(profile: string): Promise<void> {
  for (let waited = 0; readdirSync(profile).some((entry) => entry.endsWith('.puppeteer')); waited += 20) {
    if (waited > 10_000) throw new Error(`puppeteer did not put the prefs of ${profile} back within 10 s of the kill`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
