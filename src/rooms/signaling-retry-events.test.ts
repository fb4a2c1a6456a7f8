// A join that waits on its signaling server says why: each failed attempt of the WebSocket
// signaling client reaches the room through the signaling context's `onRetry` (spread into
// createWebSocketSignalingClient with the rest of the context) as a `signalingRetry` event. Before,
// a join whose server was unreachable, or whose fixed id another live connection held (the server
// refuses it with `member-in-use`), waited with no event at all (a newcomer's review, step4b and
// step4c). The real client and server, on loopback.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { nodeId, type NodeId } from '../core/types.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { createWebSocketSignalingClient, type SignalingRetry, type WebSocketConstructor } from '../signaling/websocket-client.ts';
import { FakeConnectionNetwork } from '../transport/webrtc/fake-connection.test-support.ts';
import { createWebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import { joinRoom, type SignalingContext } from './join-room.ts';
import { memoryKeyValueStore } from './room-identity.ts';
import type { RoomEvent } from './room-events.ts';
import { manualVisibility } from './visibility.ts';

type Retry = Extract<RoomEvent, { type: 'signalingRetry' }>;
const wait = { timeout: 20_000, interval: 10 };
const fastRetry = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 20 };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A loopback port nobody listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** joinRoom over the WebSocket client at `url`, the context spread in as the README shows; aborted at cleanup. */
function joinOver(url: string, extra: { nodeId?: NodeId; signaling?: (context: SignalingContext) => ReturnType<typeof createWebSocketSignalingClient> } = {}) {
  const events: RoomEvent[] = [];
  const abort = new AbortController();
  const network = new FakeConnectionNetwork();
  const joining = joinRoom<number, number>({
    room: 'retries',
    ...(extra.nodeId === undefined ? {} : { nodeId: extra.nodeId }),
    signaling: extra.signaling ?? ((context) => createWebSocketSignalingClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor, limits: fastRetry, ...context })),
    createTransport: (signaling, context) => createWebRtcTransport({ signaling, ...context, openConnection: network.openConnection }),
    identityStore: memoryKeyValueStore(),
    visibility: manualVisibility(true),
    store: { initialState: 0, apply: (state, command) => state + command },
    onEvent: (event) => events.push(event),
    signal: abort.signal,
  });
  const outcome = joining.then(
    (room) => room.leave().then(() => 'joined'),
    (error: unknown) => `rejected: ${String(error)}`,
  );
  cleanup.push(async () => {
    abort.abort(new Error('the test is over'));
    await outcome;
  });
  const retries = (): Retry[] => events.filter((event): event is Retry => event.type === 'signalingRetry');
  return { events, retries, outcome, abort };
}

describe('joinRoom: signaling retries as room events', () => {
  it('a server nobody answers at: one signalingRetry per failed attempt, numbered in order, saying the connection failed; the join waits until aborted', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}`;
    const test = joinOver(url);
    await vi.waitFor(() => expect(test.retries().length).toBeGreaterThanOrEqual(3), wait);
    test.abort.abort(new Error('given up by the application'));
    expect(await test.outcome).toMatch(/^rejected: /);
    const retries = test.retries();
    // At most one per attempt: 1, 2, 3, … with no attempt said twice.
    expect(retries.map((retry) => retry.attempt)).toEqual(retries.map((_, index) => index + 1));
    for (const retry of retries) {
      expect(retry.reason).toMatch(/the connection (failed|closed)/);
      expect(retry.delayMs).toBeGreaterThanOrEqual(0);
      expect(retry.delayMs).toBeLessThanOrEqual(fastRetry.reconnectDelayMaxMs);
    }
    expect(retries.some((retry) => /ECONNREFUSED/.test(retry.reason))).toBe(true);
  });

  it("a fixed nodeId another live connection holds: the server's member-in-use refusal reaches the event's reason", async () => {
    const server: SignalingServer = await startSignalingServer({ port: 0 });
    cleanup.push(() => server.close());
    const holder = createWebSocketSignalingClient({ url: server.url, roomId: 'retries', nodeId: nodeId('alice'), WebSocket: WebSocket as unknown as WebSocketConstructor });
    cleanup.push(() => holder.close());
    await vi.waitFor(() => expect(holder.status.value).toBe('joined'), wait);
    const test = joinOver(server.url, { nodeId: nodeId('alice') });
    await vi.waitFor(() => expect(test.retries().length).toBeGreaterThanOrEqual(2), wait);
    for (const retry of test.retries()) expect(retry.reason).toMatch(/member-in-use: node id "alice" is held by a live connection/);
  });

  it("an onRetry of the application's own, chained with the context's, hears the same retries as the room", async () => {
    const url = `ws://127.0.0.1:${await closedPort()}`;
    const own: SignalingRetry[] = [];
    const test = joinOver(url, {
      signaling: (context) =>
        createWebSocketSignalingClient({
          url,
          WebSocket: WebSocket as unknown as WebSocketConstructor,
          limits: fastRetry,
          ...context,
          onRetry: (retry) => {
            context.onRetry?.(retry);
            own.push(retry);
          },
        }),
    });
    await vi.waitFor(() => expect(test.retries().length).toBeGreaterThanOrEqual(2), wait);
    test.abort.abort(new Error('given up by the application'));
    await test.outcome;
    expect(test.retries().map(({ attempt, delayMs, reason }) => ({ attempt, delayMs, reason }))).toEqual(own);
  });
});
