// The demo as users deploy it: `vite build` output served statically (playwright.config.ts builds
// and serves it), the engine's worker bundled by Vite. Three peers in separate Chromium
// processes, one with a room secret mismatch that must be kept out.
import { expect, test } from '@playwright/test';
import { startSignalingServer, type SignalingServer } from '../src/signaling/server/index.ts';
import { staticPort } from '../playwright.config.ts';
import { increment, launchShellPool, view, waitForBoards, waitForCluster, type DemoPeer } from './demo-fixtures.ts';

let signaling: SignalingServer;
const opened: DemoPeer[] = [];

test.beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
test.afterAll(async () => {
  for (const peer of opened.splice(0)) await peer.close().catch(() => undefined);
  await signaling.close();
});

test('the static build forms a cluster and commits; a peer with the wrong room secret is kept out', async () => {
  const baseURL = `http://127.0.0.1:${staticPort}`;
  const room = `static-${Date.now()}`;
  // The four browsers start side by side (one after another, each before its page, they took
  // 2-3 s apiece here, 2026-12-07); the pages still load in the same order, Eve's last.
  const shells = await launchShellPool(4);
  try {
    for (const name of ['Ana', 'Bo', 'Cy']) opened.push(await shells.open(baseURL, { room, signal: signaling.url, name, secret: 'correct horse battery staple', path: '/index.html' }));
    const roomLeader = await waitForCluster(opened, 3);
    await Promise.all(opened.map((peer) => increment(peer)));
    await waitForBoards(opened, 'three increments', (board) => board.counter === 3);
    const intruder = await shells.open(baseURL, { room, signal: signaling.url, name: 'Eve', secret: 'a wrong guess', path: '/index.html', awaitJoined: false });
    opened.push(intruder);
    // It never reaches the room's peers (the peer handshake fails), so it never follows the room's
    // leader and none of the room's log reaches it. The signaling server (no admission key here)
    // lists it with them, so it does not start a cluster of its own beside them either: it waits,
    // and says which peers it cannot reach; the room's pages name it the same way.
    await expect.poll(() => intruder.page.evaluate(() => window.raftmeshDemo.unreachable()), { timeout: 20_000 }).toMatchObject({ count: 3, waiting: true });
    const seen = await view(intruder);
    expect(seen.leader).not.toBe(roomLeader);
    expect(seen.role).toBe('joining');
    await expect.poll(() => opened[0]!.page.evaluate(() => window.raftmeshDemo.unreachable()), { timeout: 20_000 }).toMatchObject({ count: 1, waiting: false });
    const members = await opened[0]!.page.evaluate(() => window.raftmeshDemo.cluster().map((row) => row.id));
    expect(members).toHaveLength(3);
  } finally {
    await shells.close();
  }
});
