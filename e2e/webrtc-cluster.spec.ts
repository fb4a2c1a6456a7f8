// Issue 9: a 3-node Raft cluster across three browser contexts (three renderer processes, each
// with its own RTCPeerConnections) over real WebRTC, introduced by the WebSocket signaling server
// with a room secret. It elects a leader and commits; then one follower's connections are closed,
// the others commit without it, and it reconnects by itself and catches up.
import { expect, test, type Page } from '@playwright/test';
import { deriveAdmissionKey } from '../src/signaling/admission.ts';
import { startSignalingServer, type SignalingServer } from '../src/signaling/server/index.ts';
import type { WebRtcNodeStatus } from './pages/webrtc-node.ts';

const ids = ['node-1', 'node-2', 'node-3'];
const roomId = 'e2e-cluster';
const secret = 'e2e room secret, long and random in real use';
// Polls with generous limits: CPU on this machine is shared; nothing here is a timing assertion.
const poll = { timeout: 90_000, intervals: [100, 250, 500] };

const status = (page: Page): Promise<WebRtcNodeStatus> => page.evaluate(() => window.webrtcNode.status());

test('3-node cluster over WebRTC elects, commits, and a cut-off follower reconnects and catches up', async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const server: SignalingServer = await startSignalingServer({
    port: 0,
    host: '127.0.0.1',
    rooms: { [roomId]: { admissionKey: await deriveAdmissionKey(secret, roomId) } },
  });
  const contexts = await Promise.all(ids.map(() => browser.newContext({ ...(baseURL === undefined ? {} : { baseURL }), permissions: ['camera', 'microphone'] })));
  try {
    const pages = await Promise.all(contexts.map((context) => context.newPage()));
    await Promise.all(pages.map((page) => page.goto('/e2e/pages/webrtc-node.html')));
    await Promise.all(
      pages.map((page, index) =>
        page.evaluate((config) => window.webrtcNode.start(config), {
          id: ids[index] as string,
          voters: ids,
          signalingUrl: server.url,
          roomId,
          secret,
          reconnectDelayMinMs: 2_000,
        }),
      ),
    );

    // A leader that every node agrees on, over a full mesh.
    await expect.poll(async () => {
      const all = await Promise.all(pages.map(status));
      const leaders = new Set(all.map((one) => one.leader));
      return leaders.size === 1 && !leaders.has(null) && all.every((one) => one.peers.length === 2);
    }, poll).toBe(true);
    const leaderId = (await status(pages[0] as Page)).leader as string;
    const leader = pages[ids.indexOf(leaderId)] as Page;
    const follower = pages.find((_, index) => ids[index] !== leaderId) as Page;

    await leader.evaluate(() => window.webrtcNode.propose('before the cut'));
    for (const page of pages) await expect.poll(async () => (await status(page)).applied, poll).toEqual(['before the cut']);
    const before = await status(follower);

    // Close every connection of one follower; the other two stay a majority and keep committing.
    await follower.evaluate(() => window.webrtcNode.cutOff());
    const during = Array.from({ length: 10 }, (_, index) => `while cut off ${index}`);
    await leader.evaluate((commands) => Promise.all(commands.map((command) => window.webrtcNode.propose(command))), during);

    // It reconnects by itself (new, authenticated connections) and catches up.
    await expect.poll(async () => (await status(follower)).applied, poll).toEqual(['before the cut', ...during]);
    await expect.poll(async () => (await status(follower)).peers.length, poll).toBe(2);
    const after = await status(follower);
    expect(after.counters.connectionsLost).toBeGreaterThanOrEqual(before.counters.connectionsLost + 2);
    expect(after.counters.connectionsEstablished).toBeGreaterThanOrEqual(before.counters.connectionsEstablished + 2);
    expect(after.counters.authenticationFailures).toBe(0);

    await leader.evaluate(() => window.webrtcNode.propose('after the reconnect'));
    for (const page of pages) await expect.poll(async () => (await status(page)).applied.at(-1), poll).toBe('after the reconnect');
    await Promise.all(pages.map((page) => page.evaluate(() => window.webrtcNode.stop())));
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
    await server.close();
  }
});
