// Issue 10 in real browsers: three pages (three browser contexts, each with its own
// localStorage and IndexedDB) join one room through joinRoom over WebRTC and the WebSocket
// signaling server. The first bootstraps, the others join as learners and are promoted; every
// page applies every command; the leader's page is hidden and leadership moves to a visible
// page; a page reloads and comes back with the same node id and its log.
import { expect, test, type Page } from '@playwright/test';
import { deriveAdmissionKey } from '../src/signaling/admission.ts';
import { startSignalingServer, type SignalingServer } from '../src/signaling/server/index.ts';
import type { RoomPeerStatus } from './pages/room-peer.ts';

const room = 'e2e-room';
const secret = 'e2e room secret, long and random in real use';
// Polls with generous limits: CPU on this machine is shared; nothing here is a timing assertion.
const poll = { timeout: 90_000, intervals: [100, 250, 500, 1_000] };

const status = (page: Page): Promise<RoomPeerStatus> => page.evaluate(() => window.roomPeer.status());
const start = (page: Page, signalingUrl: string, roomName = room, engine: 'page' | 'worker' = 'page'): Promise<string> =>
  page.evaluate((config) => window.roomPeer.start(config), { signalingUrl, room: roomName, secret, engine });
const counters = (page: Page): Promise<Record<string, number>> => page.evaluate(() => window.roomPeer.transportCounters());

test('three pages join a room and converge, a hidden leader hands off, a reload keeps its identity', async ({ browser, baseURL }) => {
  test.setTimeout(300_000);
  const server: SignalingServer = await startSignalingServer({ port: 0, host: '127.0.0.1', rooms: { [room]: { admissionKey: await deriveAdmissionKey(secret, room) } } });
  const contexts = await Promise.all([0, 1, 2].map(() => browser.newContext({ ...(baseURL === undefined ? {} : { baseURL }), permissions: ['camera', 'microphone'] })));
  try {
    const pages = await Promise.all(contexts.map((context) => context.newPage()));
    await Promise.all(pages.map((page) => page.goto('/e2e/pages/room-peer.html')));
    // The first page is alone: it bootstraps a one-voter cluster and leads it.
    const ids = [await start(pages[0]!, server.url)];
    await expect.poll(async () => (await status(pages[0]!)).role, poll).toBe('leader');
    ids.push(...(await Promise.all(pages.slice(1).map((page) => start(page, server.url)))));
    expect(new Set(ids).size).toBe(3);

    // Both newcomers join as learners, catch up and are promoted together (odd voter counts).
    for (const page of pages) await expect.poll(async () => (await status(page)).voters, poll).toEqual([...ids].sort());
    await Promise.all(pages.map((page) => page.evaluate(() => window.roomPeer.add())));
    for (const page of pages) await expect.poll(async () => (await status(page)).state.total, poll).toBe(3);
    const states = await Promise.all(pages.map(status));
    expect(new Set(states.map((one) => JSON.stringify(one.state))).size).toBe(1);

    // The leader's tab goes to the background: it hands leadership to a visible voter.
    const leaderId = states[0]!.leader!;
    const leaderPage = pages[ids.indexOf(leaderId)]!;
    await leaderPage.evaluate(() => window.roomPeer.setHidden(true));
    await expect.poll(async () => {
      const leader = (await status(pages.find((page) => page !== leaderPage)!)).leader;
      return leader !== null && leader !== leaderId;
    }, poll).toBe(true);
    const newLeader = (await status(pages.find((page) => page !== leaderPage)!)).leader!;
    await expect.poll(async () => (await status(pages[ids.indexOf(newLeader)]!)).role, poll).toBe('leader');

    // A follower reloads: same node id (localStorage), its log back from IndexedDB, still a voter.
    const reloadedIndex = ids.findIndex((id) => id !== leaderId && id !== newLeader);
    const reloaded = pages[reloadedIndex]!;
    await reloaded.reload();
    expect(await start(reloaded, server.url)).toBe(ids[reloadedIndex]);
    await expect.poll(async () => (await status(reloaded)).state.total, poll).toBe(3);
    await reloaded.evaluate(() => window.roomPeer.add());
    for (const page of pages) await expect.poll(async () => (await status(page)).state.total, poll).toBe(4);
    expect((await status(reloaded)).voters).toEqual([...ids].sort());
    await Promise.all(pages.map((page) => page.evaluate(() => window.roomPeer.leave())));
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
    await server.close();
  }
});

test('with the engines in workers, pages that connected before their nodes started keep their connections: fresh channels move to each worker', async ({ browser, baseURL }) => {
  test.setTimeout(300_000);
  const workerRoom = 'e2e-room-workers';
  const server: SignalingServer = await startSignalingServer({ port: 0, host: '127.0.0.1', rooms: { [workerRoom]: { admissionKey: await deriveAdmissionKey(secret, workerRoom) } } });
  const contexts = await Promise.all([0, 1, 2].map(() => browser.newContext({ ...(baseURL === undefined ? {} : { baseURL }), permissions: ['camera', 'microphone'] })));
  try {
    const pages = await Promise.all(contexts.map((context) => context.newPage()));
    await Promise.all(pages.map((page) => page.goto('/e2e/pages/room-peer.html')));
    const ids = [await start(pages[0]!, server.url, workerRoom, 'worker')];
    await expect.poll(async () => (await status(pages[0]!)).role, poll).toBe('leader');
    // The newcomers connect while they listen for the room, before their nodes (and workers) start.
    ids.push(...(await Promise.all(pages.slice(1).map((page) => start(page, server.url, workerRoom, 'worker')))));
    expect(new Set(ids).size).toBe(3);
    for (const page of pages) await expect.poll(async () => (await status(page)).voters, poll).toEqual([...ids].sort());
    await Promise.all(pages.map((page) => page.evaluate(() => window.roomPeer.add())));
    for (const page of pages) await expect.poll(async () => (await status(page)).state.total, poll).toBe(3);

    for (const page of pages) {
      const counted = await counters(page);
      // Every page's two connections are the first ones: their engine channels reached the
      // workers as fresh pairs on the live connections, not through new connections.
      // All counters in the message: a lost connection, an ICE restart or a failed handshake tell apart
      // the ways a third connection can come about.
      expect([counted['connectionAttempts'], counted['connectionsEstablished']], JSON.stringify(counted)).toEqual([2, 2]);
      expect(counted['engineChannelsReopened']).toBeGreaterThanOrEqual(1);
      expect(counted['dataChannelsHandedOver']).toBeGreaterThanOrEqual(2);
    }
    await Promise.all(pages.map((page) => page.evaluate(() => window.roomPeer.leave())));
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
    await server.close();
  }
});
