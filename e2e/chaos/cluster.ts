// The campaign's world: the chaos page served over HTTP, a signaling server on 127.0.0.1, and one
// Chromium process per node on its own persistent profile (bench/browser/cluster.ts explains why
// persistent: IndexedDB of an off-the-record context lives in memory). Each process can lose its
// page, its engine's worker or its whole browser, and come back on the same profile and database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright';
import { launchProfile, startPageServer, type PageServer } from '../../bench/browser/cluster.ts';
import { startSignalingServer } from '../../src/signaling/server/index.ts';
import { killBrowser } from '../browser-processes.ts';
import type { StartOptions } from './pages/chaos-protocol.ts';
import { withTimeout } from './time.ts';

export const chaosPage = 'e2e/chaos/pages/chaos-node.html';
const roomId = 'chaos';
const secret = 'chaos secret';
/** Bounds on the harness's own steps: a page that takes longer to load or start is a failure. */
const pageLoadTimeoutMs = 60_000;
const nodeStartTimeoutMs = 60_000;

export interface ChaosProcess {
  readonly id: string;
  readonly profile: string;
  context: BrowserContext;
  page: Page;
  /** False while the page, the worker or the browser is down (clients wait rather than call). */
  up: boolean;
  /**
   * Each term in which this node said it led (role 'leader' in a status read by the runner), with
   * when it was first seen: Raft's election safety allows one leader per term.
   */
  readonly ledTerms: Map<number, number>;
  /** Every log line the page printed (errors mostly), bounded. */
  readonly console: string[];
  /**
   * Why this node is gone for good, or null: its storage refused to open because the browser
   * deleted the database as corrupt after a kill (RaftStorageError reason 'dataLost', README
   * "When Chromium deletes the database"). Its id must not run again, and the campaign goes on
   * with the others: a crash-stop the checker judges the rest by.
   */
  lost: string | null;
}

export interface ChaosCluster {
  readonly processes: readonly ChaosProcess[];
  /** The processes not lost for good (ChaosProcess.lost). */
  live(): ChaosProcess[];
  /** Where the chaos page is served: its origin names the browsers' IndexedDB folders. */
  readonly baseUrl: string;
  readonly voters: readonly string[];
  /** Opens a fresh page on the process's browser and starts its node from its database. */
  reopenPage(process: ChaosProcess): Promise<void>;
  /** SIGKILLs the browser (every process under its profile); returns how many processes died. */
  killBrowser(process: ChaosProcess): Promise<number>;
  /** Launches the browser again on the same profile, opens the page, starts the node. */
  relaunch(process: ChaosProcess): Promise<void>;
  /** Starts the node again on the same page (after its worker died). */
  restartNode(process: ChaosProcess): Promise<void>;
  cdp(process: ChaosProcess): Promise<CDPSession>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly nodes: number;
  /** A server already serving the repository's pages (Playwright's); else the page is built here. */
  readonly baseUrl?: string;
  /** Each node publishes a snapshot (its whole applied sequence) every this many entries; 0: never. */
  readonly compactEvery: number;
}

const maxConsoleLines = 500;

export async function startChaosCluster(options: ClusterOptions): Promise<ChaosCluster> {
  const server: PageServer = options.baseUrl === undefined ? await startPageServer(chaosPage, 'build') : { baseUrl: options.baseUrl, close: async () => {} };
  const signaling = await startSignalingServer({ port: 0, host: '127.0.0.1', rooms: { [roomId]: { secret } } });
  const profiles = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmesh-chaos-'));
  const voters = [...Array(options.nodes).keys()].map((position) => `node-${String.fromCharCode(97 + position)}`);
  const startOptions = (id: string, position: number): StartOptions => ({
    signalingUrl: signaling.url,
    roomId,
    secret,
    self: id,
    voters,
    storageName: `chaos-${id}`,
    // The first node proposes plainly (identity 'auto'); the others as durable client sessions.
    durableClientId: position === 0 ? null : `session-${id}`,
    compactEvery: options.compactEvery,
  });

  /** `afterKill`: the browser was SIGKILLed, so a database it deleted (dataLost) is its doing, not a bug. */
  async function openAndStart(process: ChaosProcess, afterKill = false): Promise<void> {
    const page = await process.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        if (process.console.length < maxConsoleLines) process.console.push(`${new Date().toISOString()} ${message.type()}: ${message.text().slice(0, 500)}`);
      }
    });
    page.on('pageerror', (error) => {
      if (process.console.length < maxConsoleLines) process.console.push(`${new Date().toISOString()} pageerror: ${error.message.slice(0, 500)}`);
    });
    process.page = page;
    await page.goto(`${server.baseUrl}/${chaosPage}`, { timeout: pageLoadTimeoutMs });
    await page.waitForFunction(() => window.chaosNode !== undefined, undefined, { timeout: pageLoadTimeoutMs });
    await startNode(process, afterKill);
  }

  async function startNode(process: ChaosProcess, afterKill = false): Promise<void> {
    const position = voters.indexOf(process.id);
    const outcome = await withTimeout(
      process.page.evaluate((start) => window.chaosNode.start(start), startOptions(process.id, position)),
      nodeStartTimeoutMs,
      `${process.id}'s node start`,
    );
    // Only after a kill: anywhere else (a page reopened, a worker restarted) the browser had no
    // reason to delete anything, and a refusal is a failure of the campaign like any other.
    if (outcome.type === 'error' && outcome.reason === 'dataLost' && afterKill) {
      process.lost = `${outcome.name}: ${outcome.message}`;
      process.up = false;
      return;
    }
    if (outcome.type === 'error') throw new Error(`${process.id} did not start: ${outcome.name}: ${outcome.message}`);
    process.up = true;
  }

  const processes = await Promise.all(
    voters.map(async (id) => {
      const profile = path.join(profiles, id);
      const context = await launchProfile(profile);
      for (const blank of context.pages()) await blank.close();
      const process: ChaosProcess = { id, profile, context, page: null as unknown as Page, up: false, ledTerms: new Map(), console: [], lost: null };
      await openAndStart(process);
      return process;
    }),
  );

  return {
    processes,
    live: () => processes.filter((process) => process.lost === null),
    baseUrl: server.baseUrl,
    voters,
    async reopenPage(process) {
      await openAndStart(process);
    },
    async killBrowser(process) {
      process.up = false;
      const killed = killBrowser(process.profile);
      await process.context.close().catch(() => {});
      return killed;
    },
    async relaunch(process) {
      process.context = await launchProfile(process.profile);
      for (const blank of process.context.pages()) await blank.close();
      await openAndStart(process, true);
    },
    async restartNode(process) {
      await startNode(process);
    },
    cdp: (process) => process.context.newCDPSession(process.page),
    async close() {
      await Promise.all(processes.map((process) => process.context.close().catch(() => {})));
      for (const process of processes) killBrowser(process.profile);
      await signaling.close();
      await server.close();
      fs.rmSync(profiles, { recursive: true, force: true });
    },
  };
}
