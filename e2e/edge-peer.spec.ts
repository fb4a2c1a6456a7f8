// Issue 12: an always-on Node peer (raftmesh-peer over node-datachannel, FileRaftStorage) in a
// room with Chromium pages, through the same signaling server.
import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSignalingServer, type SignalingServer } from '../src/signaling/server/index.ts';
import { counterOf, increment, launchPersistentShell, launchShellPool, openPersistentPeer, openPersistentPeerIn, view, waitForBoards, waitForCluster, type DemoPeer } from './demo-fixtures.ts';

let signaling: SignalingServer;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
test.beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
test.afterAll(async () => {
  await signaling.close();
});
test.afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
});

/**
 * What a launch gave, or null if it failed, for the cleanup; called as the launch starts, so a
 * launch that fails while the test awaits something else is handled (the test still gets the
 * error where it awaits the launch itself).
 */
function settled<T>(launch: Promise<T>): Promise<T | null> {
  return launch.catch(() => null);
}

interface NodePeer {
  readonly process: ChildProcess;
  readonly output: string[];
  readonly healthUrl: string;
  readonly metricsUrl: string;
  health(): Promise<{ status: string; id: string; role: string; commitIndex: number; appliedIndex: number }>;
  stop(): Promise<number | null>;
}

async function startNodePeer(room: string, extra: readonly string[] = []): Promise<NodePeer> {
  const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-'));
  cleanups.push(() => rmSync(data, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli.ts', '--room', room, '--signal', signaling.url, '--data', data, '--bind', '127.0.0.1', '--http-port', '0', '--app', 'demo/board/store-options.ts', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  child.stderr.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(() => child.kill('SIGKILL'));
  await expect.poll(() => output.join('\n'), { timeout: 30_000 }).toMatch(/health and metrics on (http:\/\/\S+)\/healthz/);
  const base = /health and metrics on (http:\/\/\S+)\/healthz/.exec(output.join('\n'))![1]!;
  return {
    process: child,
    output,
    healthUrl: `${base}/healthz`,
    metricsUrl: `${base}/metrics`,
    health: async () => (await fetch(`${base}/healthz`)).json(),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

test('a Node peer and two Chromium pages form a cluster; with both pages closed, a page that comes back gets the state from the Node peer', async ({ baseURL }) => {
  const room = `edge-${Date.now()}`;
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-edge-profile-'));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }));
  // Both browsers start while the Node peer does (each had started only once the one before was
  // up: about 2-3 s apiece here, 2026-12-07); the peers still join in the same order.
  const boLaunch = launchPersistentShell(profile);
  const anaLaunch = launchShellPool(1);
  const [boLaunched, anaLaunched] = [settled(boLaunch), settled(anaLaunch)];
  cleanups.push(() => boLaunched.then((shell) => shell?.context.close()));
  cleanups.push(() => anaLaunched.then((shells) => shells?.close()));
  const nodePeer = await startNodePeer(room);
  const ana = await (await anaLaunch).open(baseURL!, { room, signal: signaling.url, name: 'Ana' });
  cleanups.push(() => ana.close());
  let bo: DemoPeer = await openPersistentPeerIn(await boLaunch, baseURL!, { room, signal: signaling.url, name: 'Bo' });
  const nodeId = (await nodePeer.health()).id;
  await expect.poll(async () => (await Promise.all([ana, bo].map(view))).map((one) => one.voters), { timeout: 60_000 }).toEqual([3, 3]);
  await waitForCluster([ana, bo], 3);
  expect(await ana.page.evaluate(() => window.raftmeshDemo.cluster().map((row) => row.id))).toContain(nodeId);
  await Promise.all([increment(ana), increment(bo), increment(ana)]);
  await waitForBoards([ana, bo], 'three increments', (board) => board.counter === 3);

  const metrics = await (await fetch(nodePeer.metricsUrl)).text();
  expect(metrics).toMatch(/raftmesh_applied_index \d+/);
  expect(metrics).toContain('raftmesh_voters 3');
  expect((await nodePeer.health()).status).toBe('ok');

  await bo.close(); // Bo leaves; Ana and the Node peer are still a majority
  expect(await increment(ana)).toBe(true);
  expect(await increment(ana)).toBe(true);
  await expect.poll(async () => (await nodePeer.health()).appliedIndex, { timeout: 20_000 }).toBeGreaterThanOrEqual(await ana.page.evaluate(() => window.raftmeshDemo.commitIndex()));
  await ana.close(); // now only the Node peer holds the last two increments besides Ana's closed page

  bo = await openPersistentPeer(baseURL!, profile, { room, signal: signaling.url, name: 'Bo' });
  cleanups.push(() => bo.close());
  await expect.poll(() => counterOf(bo), { timeout: 60_000 }).toBe(5);
  expect(nodePeer.output.join('\n')).toMatch(/role: (leader|follower)/);
  expect(await nodePeer.stop()).toBe(0);
  expect(nodePeer.output.join('\n')).toMatch(/SIGTERM: leaving the room[\s\S]*closed/);
});

test('two pages and a witness survive the leader page closing; the witness never leads', async ({ baseURL }) => {
  const room = `witness-${Date.now()}`;
  // Both browsers start while the witness does (2-3 s apiece here, one after another after it,
  // 2026-12-07); the pages still join in the same order.
  const launching = launchShellPool(2);
  const launched = settled(launching);
  cleanups.push(() => launched.then((shells) => shells?.close()));
  const witness = await startNodePeer(room, ['--witness']);
  const witnessId = (await witness.health()).id;
  const pages: DemoPeer[] = [];
  const shells = await launching;
  for (const name of ['Ana', 'Bo']) {
    const page = await shells.open(baseURL!, { room, signal: signaling.url, name, witness: witnessId });
    cleanups.push(() => page.close());
    pages.push(page);
  }
  const leader = await waitForCluster(pages, 3, 60_000);
  expect(leader).not.toBe(witnessId);
  await Promise.all(pages.map((page) => increment(page)));
  await waitForBoards(pages, 'two increments', (board) => board.counter === 2);
  const ids = await Promise.all(pages.map(async (page) => (await view(page)).id));
  const leaderPage = pages[ids.indexOf(leader)]!;
  const survivor = pages.find((page) => page !== leaderPage)!;
  await leaderPage.close();
  await expect.poll(async () => (await view(survivor)).role, { timeout: 30_000 }).toBe('leader');
  expect(await increment(survivor)).toBe(true);
  await expect.poll(() => counterOf(survivor)).toBe(3);
  expect((await witness.health()).role).not.toBe('leader');
  expect(witness.output.join('\n')).not.toMatch(/role: leader/);
});
