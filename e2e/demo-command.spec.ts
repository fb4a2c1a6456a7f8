// `npm run demo` itself (scripts/demo.ts: the signaling server and the demo on Vite's dev server),
// as a newcomer runs it: every other spec loads the demo from a build (playwright.config.ts), so
// this is the one that checks the dev server still serves it, the package's own names
// (scripts/source-aliases.mjs) and the engine's worker included. Two peers in Chromium processes of
// their own form one cluster (a voter, and a learner the room keeps as one: voters grow by odd
// counts, 1 -> 3, membership-policy.ts) and both increments commit, the learner's through the leader.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { increment, launchShellPool, waitForBoards, waitForCluster, type DemoPeer, type ShellPool } from './demo-fixtures.ts';

const appPort = Number(process.env.RAFTMESH_E2E_DEMO_PORT ?? 5196);
const signalPort = Number(process.env.RAFTMESH_E2E_DEMO_SIGNAL_PORT ?? 8796);
let demo: ChildProcess | null = null;
const opened: DemoPeer[] = [];
let shells: Promise<ShellPool | null> = Promise.resolve(null);

test.afterAll(async () => {
  for (const peer of opened.splice(0)) await peer.close().catch(() => undefined);
  await (await shells)?.close();
  if (demo !== null && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo?.once('exit', resolve));
    demo.kill('SIGINT'); // as Ctrl-C: it stops both servers
    await exited;
  }
});

/** Starts `npm run demo` on the given ports and resolves with the app URL it prints. */
function startDemo(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--port', String(appPort), '--signal-port', String(signalPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  demo = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /app\s+(http:\/\/\S+)/.exec(output)?.[1];
      if (url !== undefined) resolve(url);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`npm run demo exited (${code}) before printing its URL:\n${output}`)));
  });
}

test('npm run demo serves the app from its dev server: two pages form one cluster and both increments commit', async () => {
  // Both browsers start while the demo does (each had started only once the one before was up,
  // 2-3 s apiece here, 2026-12-07); the pages still load one after another.
  const launching = launchShellPool(2);
  shells = launching.catch(() => null);
  const printed = new URL(await startDemo());
  expect(printed.searchParams.get('room')).toBe('board');
  const signal = printed.searchParams.get('signal');
  expect(signal).toBe(`ws://127.0.0.1:${signalPort}`);
  const room = `dev-${Date.now()}`;
  for (const name of ['Ana', 'Bo']) opened.push(await (await launching).open(printed.origin, { room, signal: signal!, name, path: '/' }));
  await waitForCluster(opened, 1);
  await Promise.all(opened.map((peer) => increment(peer)));
  await waitForBoards(opened, 'two increments', (board) => board.counter === 2);
});
