// Fixtures for the demo's end-to-end tests: a signaling server per test file, and peers that
// are separate Chromium processes (one context each, so each has its own IndexedDB), or pages
// of one persistent profile (reload and restart on the same profile).
import { chromium, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';
import '../demo/test-api.ts';

export interface DemoPeer {
  readonly name: string;
  readonly page: Page;
  readonly context: BrowserContext;
  /** Closes this peer's browser (its connections drop as when a person closes the window). */
  close(): Promise<void>;
}

/**
 * What the board helpers below need of a peer: its page's `evaluate`. Playwright's and
 * puppeteer's pages both have it, so a Firefox page driven by puppeteer (e2e/firefox-interop.spec.ts)
 * is checked by the same helpers as the Chromium pages.
 */
export interface PageEvaluator {
  evaluate<Result>(pageFunction: () => Result | Promise<Result>): Promise<Result>;
}

export interface BoardPeer {
  readonly name: string;
  readonly page: PageEvaluator;
}

const launchOptions = { executablePath: chromiumPath, args: chromiumArguments, headless: true };

export interface PeerOptions {
  readonly room: string;
  readonly signal: string;
  readonly name: string;
  readonly secret?: string;
  readonly witness?: string;
  /** The app's page: /demo/index.html of the test pages' build by default, /index.html for the demo's own static build. */
  readonly path?: string;
  /** False: return as soon as the page loaded (a peer that cannot reach the room never joins; it waits). */
  readonly awaitJoined?: boolean;
  /** The room policy's wait before it replaces or removes an unreachable member (?unreachableAfterMs, demo/app/settings.ts); default 10 s. */
  readonly unreachableAfterMs?: number;
  /** The board store's version (?version, demo/app/settings.ts): the page runs as that release of the board. */
  readonly boardVersion?: number;
}

export function demoUrl(baseURL: string, options: PeerOptions): string {
  const query = new URLSearchParams({ room: options.room, signal: options.signal, name: options.name, ...(options.secret ? { secret: options.secret } : {}), ...(options.witness ? { witness: options.witness } : {}), ...(options.unreachableAfterMs === undefined ? {} : { unreachableAfterMs: String(options.unreachableAfterMs) }), ...(options.boardVersion === undefined ? {} : { version: String(options.boardVersion) }) });
  return `${baseURL}${options.path ?? '/demo/index.html'}?${query}`;
}

async function joined(page: Page): Promise<void> {
  await page.waitForFunction(() => window.raftmeshDemo !== undefined);
  await page.evaluate(() => window.raftmeshDemo.ready);
}

/** A Chromium process of its own with a blank page: a peer before it loads the app. */
export interface PeerShell {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
}

async function launchPeerShell(): Promise<PeerShell> {
  const browser: Browser = await chromium.launch(launchOptions);
  try {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    return { browser, context, page: await context.newPage() };
  } catch (error) {
    await browser.close().catch(() => undefined);
    throw error;
  }
}

/**
 * `count` shells launched side by side. Launching a browser and opening its first page took 2 to
 * 3 s of each peer's 4 to 5 s start here (2026-12-07), and the peers of a test were launched one
 * after another; the app is still loaded one page after another (openPeerIn), so who joins first
 * is as before. If one launch fails, the others are closed.
 */
export async function launchPeerShells(count: number): Promise<PeerShell[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => launchPeerShell()));
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed === undefined) return settled.map((outcome) => (outcome as PromiseFulfilledResult<PeerShell>).value);
  await closeShells(settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : [])));
  throw failed.reason;
}

/** Closes shells no peer was opened in (a test that failed while loading its peers). */
export async function closeShells(shells: readonly PeerShell[]): Promise<void> {
  await Promise.all(shells.map((shell) => shell.browser.close().catch(() => undefined)));
}

/** Loads the app in a launched shell and, unless told not to, waits until it joined its room. */
export async function openPeerIn(shell: PeerShell, baseURL: string, options: PeerOptions): Promise<DemoPeer> {
  await shell.page.goto(demoUrl(baseURL, options));
  if (options.awaitJoined !== false) await joined(shell.page);
  return { name: options.name, page: shell.page, context: shell.context, close: () => shell.browser.close() };
}

/**
 * Chromium processes launched side by side at once, taken one by one as the test loads its pages
 * (in the test's order, when it is ready for each): a test no longer waits for a browser to start
 * before every peer. `close` ends the shells never taken; a taken one is closed with its peer.
 */
export interface ShellPool {
  /** Loads the app in the next launched shell (closing that shell if this fails). */
  open(baseURL: string, options: PeerOptions): Promise<DemoPeer>;
  close(): Promise<void>;
}

export async function launchShellPool(count: number): Promise<ShellPool> {
  const waiting = await launchPeerShells(count);
  return {
    async open(baseURL, options) {
      const shell = waiting.shift();
      if (shell === undefined) throw new Error(`all ${count} launched shells are taken`);
      try {
        return await openPeerIn(shell, baseURL, options);
      } catch (error) {
        await closeShells([shell]);
        throw error;
      }
    },
    close: () => closeShells(waiting.splice(0)),
  };
}

/** A peer in a Chromium process of its own. */
export async function openPeer(baseURL: string, options: PeerOptions): Promise<DemoPeer> {
  const shell = await launchPeerShell();
  try {
    return await openPeerIn(shell, baseURL, options);
  } catch (error) {
    await closeShells([shell]);
    throw error;
  }
}

/** A Chromium on a persistent profile directory (survives browser restarts) with its first page, before it loads the app. */
export interface PersistentShell {
  readonly context: BrowserContext;
  readonly page: Page;
}

export async function launchPersistentShell(profile: string): Promise<PersistentShell> {
  const context = await chromium.launchPersistentContext(profile, { ...launchOptions, permissions: ['camera', 'microphone'] });
  try {
    return { context, page: context.pages()[0] ?? (await context.newPage()) };
  } catch (error) {
    await context.close().catch(() => undefined);
    throw error;
  }
}

/** Loads the app in a launched persistent shell and waits until it joined; closes that browser if it cannot. */
export async function openPersistentPeerIn(shell: PersistentShell, baseURL: string, options: PeerOptions): Promise<DemoPeer> {
  const { context, page } = shell;
  try {
    await page.goto(demoUrl(baseURL, options));
    await joined(page);
  } catch (error) {
    await context.close().catch(() => undefined);
    throw error;
  }
  return { name: options.name, page, context, close: () => context.close() };
}

/** A peer on a persistent profile directory (survives browser restarts). */
export async function openPersistentPeer(baseURL: string, profile: string, options: PeerOptions): Promise<DemoPeer> {
  return openPersistentPeerIn(await launchPersistentShell(profile), baseURL, options);
}

export interface PeerView {
  readonly id: string | null;
  readonly role: string;
  readonly leader: string | null;
  readonly voters: number;
  readonly commitIndex: number;
}

export const view = (peer: BoardPeer): Promise<PeerView> =>
  peer.page.evaluate(() => ({
    id: window.raftmeshDemo.nodeId(),
    role: window.raftmeshDemo.role(),
    leader: window.raftmeshDemo.leader(),
    voters: window.raftmeshDemo.cluster().filter((row) => row.membership === 'voter').length,
    commitIndex: window.raftmeshDemo.commitIndex(),
  }));

/** Waits until every peer follows one leader and the configuration has `voters` voters. */
export async function waitForCluster(peers: readonly BoardPeer[], voters: number, timeout = 60_000): Promise<string> {
  let leader: string | null = null;
  await expect
    .poll(
      async () => {
        const views = await Promise.all(peers.map(view));
        leader = views[0]?.leader ?? null;
        const agreed = leader !== null && views.every((one) => one.leader === leader && one.voters === voters);
        return agreed ? 'agreed' : JSON.stringify(views);
      },
      { timeout, intervals: [250, 500, 1000] },
    )
    .toBe('agreed');
  return leader as unknown as string;
}

export async function increment(peer: BoardPeer): Promise<boolean> {
  const outcome = await peer.page.evaluate(() => window.raftmeshDemo.dispatch({ type: 'increment', amount: 1 }));
  return outcome.ok;
}

export const counterOf = (peer: BoardPeer): Promise<number> => peer.page.evaluate(() => window.raftmeshDemo.board().counter);

/** Waits until every peer's confirmed board satisfies `check` and all boards are equal. */
export async function waitForBoards(peers: readonly BoardPeer[], describe: string, check: (board: { counter: number; chat: readonly { text: string }[]; tasks: readonly { id: string; claimedBy: string | null }[] }) => boolean, timeout = 30_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const boards = await Promise.all(peers.map((peer) => peer.page.evaluate(() => window.raftmeshDemo.board())));
        const same = boards.every((board) => JSON.stringify(board) === JSON.stringify(boards[0]));
        return same && boards.every(check) ? 'converged' : `${describe}: ${JSON.stringify(boards.map((board) => ({ counter: board.counter, chat: board.chat.length, tasks: board.tasks.length })))}`;
      },
      { timeout, intervals: [250, 500, 1000] },
    )
    .toBe('converged');
}
