// One tab of the campaign: a Chromium process of its own on a persistent profile (a context made
// by newContext is off the record, where IndexedDB lives in memory: bench/browser/cluster.ts), one
// page running e2e/pages/room-chaos-peer.ts. The profile outlives crashes and kills, so a tab that
// returns finds its identity slot (localStorage) and its log (IndexedDB) again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright';
import { chromiumArguments, chromiumPath } from '../../scripts/browser-flags.mjs';
import { killBrowser } from '../browser-processes.ts';
import { damageIndexedDbLogIfThere } from '../damaged-indexeddb.ts';
import type { ChaosPeerStatus, ChaosRoomSettings, ConfigurationSighting, DispatchAnswer, ReadAnswer, SeenEvent } from './page-api.ts';

/** Launching, loading and joining may take long on two loaded cores; never forever. */
const startTimeoutMs = 90_000;
const pagePath = '/e2e/pages/room-chaos-peer.html';

export type TabState = 'live' | 'down' | 'gone';

export interface ChaosTab {
  readonly name: string;
  readonly state: TabState;
  /** The node id the page last reported (null before the first start). */
  readonly nodeId: string | null;
  /** Every node id this tab ran under, in order. */
  readonly nodeIds: readonly string[];
  /** Changes with every page the tab opens: a workload loop stops when its page is gone. */
  readonly incarnation: number;
  readonly frozen: boolean;
  /** Opens the browser if it is not running, then a page, then joins the room. */
  start(): Promise<string>;
  dispatch(operationId: string, timeoutMs: number): Promise<DispatchAnswer>;
  read(timeoutMs: number): Promise<ReadAnswer>;
  status(): Promise<ChaosPeerStatus>;
  appliedIds(): Promise<readonly string[]>;
  events(): Promise<readonly SeenEvent[]>;
  configurations(): Promise<readonly ConfigurationSighting[]>;
  setConnected(connected: boolean): Promise<void>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** The page closes without unload handlers; the browser stays. */
  crashPage(): Promise<void>;
  /** SIGKILL of the browser; answers how many processes died. */
  kill(): Promise<number>;
  /** After a kill: damages the profile's IndexedDB log so that Chromium deletes the database on the next start; null once done, else why not. */
  damageDatabase(): string | null;
  /** room.leave(), then the browser closes for good. */
  leave(): Promise<void>;
  /** Closes the browser and deletes the profile (end of the campaign). */
  dispose(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `settings` is asked at every start: a page opened later names the witness's current id. */
export function createChaosTab(name: string, baseUrl: string, settings: () => ChaosRoomSettings): ChaosTab {
  const profile = mkdtempSync(join(tmpdir(), `raftmesh-room-chaos-${name}-`));
  let context: BrowserContext | null = null;
  let page: Page | null = null;
  let devTools: CDPSession | null = null;
  let state: TabState = 'down';
  let frozen = false;
  let incarnation = 0;
  const nodeIds: string[] = [];

  const livePage = (): Page => {
    if (page === null) throw new Error(`${name} has no page`);
    return page;
  };
  const forget = (): void => {
    page = null;
    devTools = null;
    frozen = false;
    state = 'down';
    incarnation += 1;
  };

  const open = async (): Promise<Page> => {
    context ??= await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      args: chromiumArguments,
      headless: true,
      permissions: ['camera', 'microphone'],
    });
    const opened = context.pages().find((candidate) => !candidate.isClosed()) ?? (await context.newPage());
    await opened.goto(`${baseUrl}${pagePath}`);
    await opened.waitForFunction(() => window.roomChaos !== undefined);
    return opened;
  };

  return {
    name,
    get state() {
      return state;
    },
    get nodeId() {
      return nodeIds[nodeIds.length - 1] ?? null;
    },
    nodeIds,
    get incarnation() {
      return incarnation;
    },
    get frozen() {
      return frozen;
    },
    async start() {
      const starting = async (): Promise<string> => {
        page = await open();
        return page.evaluate((room) => window.roomChaos.start(room), settings());
      };
      const id = await withTimeout(starting(), startTimeoutMs, `${name}: starting`);
      if (id !== nodeIds[nodeIds.length - 1]) nodeIds.push(id);
      state = 'live';
      incarnation += 1;
      return id;
    },
    dispatch: (operationId, timeoutMs) => livePage().evaluate(([id, ms]) => window.roomChaos.dispatch(id, ms), [operationId, timeoutMs] as const),
    read: (timeoutMs) => livePage().evaluate((ms) => window.roomChaos.read(ms), timeoutMs),
    async status() {
      const status = await livePage().evaluate(() => window.roomChaos.status());
      if (status.id !== nodeIds[nodeIds.length - 1]) nodeIds.push(status.id);
      return status;
    },
    appliedIds: () => livePage().evaluate(() => window.roomChaos.appliedIds()),
    events: () => livePage().evaluate(() => window.roomChaos.events()),
    configurations: () => livePage().evaluate(() => window.roomChaos.configurations()),
    setConnected: (connected) => livePage().evaluate((value) => window.roomChaos.setConnected(value), connected),
    async freeze() {
      if (context === null) throw new Error(`${name} has no browser`);
      devTools ??= await context.newCDPSession(livePage());
      await devTools.send('Page.setWebLifecycleState', { state: 'frozen' });
      frozen = true;
    },
    async thaw() {
      if (devTools === null || !frozen) return;
      await devTools.send('Page.setWebLifecycleState', { state: 'active' });
      frozen = false;
    },
    async crashPage() {
      const closing = page;
      forget();
      await closing?.close({ runBeforeUnload: false });
    },
    async kill() {
      forget();
      const killed = killBrowser(profile);
      const closing = context;
      context = null;
      await closing?.close().catch(() => undefined);
      return killed;
    },
    damageDatabase: () => damageIndexedDbLogIfThere(profile, baseUrl),
    async leave() {
      const leaving = livePage();
      try {
        await withTimeout(leaving.evaluate(() => window.roomChaos.leave()), 30_000, `${name}: leaving`);
      } finally {
        forget();
        state = 'gone';
        const closing = context;
        context = null;
        await withTimeout(closing?.close() ?? Promise.resolve(), 15_000, `${name}: closing`).catch(() => killBrowser(profile));
      }
    },
    async dispose() {
      forget();
      state = 'gone';
      const closing = context;
      context = null;
      await withTimeout(closing?.close() ?? Promise.resolve(), 15_000, `${name}: closing`).catch(() => killBrowser(profile));
      killBrowser(profile);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
