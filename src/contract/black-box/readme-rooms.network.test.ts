// Item 2: README "Rooms" snippet, in Node: fake-indexeddb for IndexedDB, node-datachannel for WebRTC (README
// "Requirements"), ws for WebSocket (Node 20), the signaling server on 127.0.0.1. The `network` project
// runs it (a forked process, inside the loopback-only namespace).
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IndexedDbRaftStorage, joinRoom } from '../../index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient } from '../../webrtc.ts';
import { startSignalingServer } from '../../signaling/server/index.ts';
import { webrtc, WS } from './loopback-webrtc.test-support.ts';

let server: Awaited<ReturnType<typeof startSignalingServer>>;
beforeAll(async () => { server = await startSignalingServer({ port: 0, host: '127.0.0.1' }); });
afterAll(async () => { await server.close(); });

it('README "Rooms": two peers join, dispatch, read, leave', async () => {
  const secret = 'a long random room secret for the test';
  const url = server.url;
  type Command = { type: 'add'; amount: number };
  const renders: { total: number }[] = [];
  const render = (s: { total: number }) => renders.push(s);
  const join = (tag: string) => joinRoom<{ total: number }, Command>({
    room: 'team-42',
    secret,
    signaling: (context) => createWebSocketSignalingClient({ url, ...context, WebSocket: WS }),
    createTransport: (signaling) => createWebRtcTransport({ signaling, secret, webrtc }),
    storage: (id) => IndexedDbRaftStorage.open(`team-42:${tag}:${id}`),
    store: { initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command.amount }) },
  });
  const room = await join('p1');
  room.store.subscribe((state) => render(state));
  const { state } = await room.store.dispatch({ type: 'add', amount: 1 });
  expect(state).toEqual({ total: 1 });
  const room2 = await join('p2');
  const r2 = await room2.store.dispatch({ type: 'add', amount: 2 });
  expect(r2.state.total).toBe(3);
  const fresh = await room.store.read();
  expect(fresh).toEqual({ total: 3 });
  expect(renders.length).toBeGreaterThan(0);
  await room2.leave();
  await room.leave();
}, 60_000);
