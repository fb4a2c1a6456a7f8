// The WebSocket signaling client when its server goes away and comes back, from the outside:
// `raftmesh/webrtc`'s client against `raftmesh/signaling-server`'s server on loopback.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeId, type NodeId, type Watchable } from '../index.ts';
import {
  createWebSocketSignalingClient,
  SignalingRefusedError,
  SignalingUnreachableError,
  type ReceivedSignal,
  type WebSocketConstructor,
  type WebSocketSignalingClient,
} from '../webrtc.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from './server/index.ts';

const servers: SignalingServer[] = [];
const clients: WebSocketSignalingClient[] = [];
const fastRetry = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 20 };

async function start(options: Partial<SignalingServerOptions> = {}): Promise<SignalingServer> {
  const server = await startSignalingServer({ port: 0, ...options });
  servers.push(server);
  return server;
}

async function stop(server: SignalingServer): Promise<void> {
  await server.close();
  servers.splice(servers.indexOf(server), 1);
}

function client(url: string, id: string, secret?: string): WebSocketSignalingClient {
  const created = createWebSocketSignalingClient({
    url,
    roomId: 'room',
    nodeId: nodeId(id),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    limits: fastRetry,
    ...(secret === undefined ? {} : { secret }),
  });
  clients.push(created);
  return created;
}

function until<T>(watchable: Watchable<T>, predicate: (value: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const check = (value: T): boolean => {
      if (!predicate(value)) return false;
      resolve(value);
      return true;
    };
    if (check(watchable.value)) return;
    const unsubscribe = watchable.subscribe((value) => check(value) && unsubscribe());
  });
}

const has = (id: string) => (peers: ReadonlySet<NodeId>) => peers.has(nodeId(id));

function record(target: WebSocketSignalingClient): ReceivedSignal[] {
  const received: ReceivedSignal[] = [];
  target.signals.subscribe((signal) => received.push(signal));
  return received;
}

afterEach(async () => {
  for (const created of clients.splice(0)) created.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('signaling client: the server goes away and comes back', () => {
  it('while away: connecting, no peers, not ready, signals dropped without throwing; back: rejoined and relaying both ways', async () => {
    const first = await start();
    const a = client(first.url, 'a');
    const b = client(first.url, 'b');
    const atA = record(a);
    const atB = record(b);
    await until(a.peers, has('b'));
    await stop(first);
    await until(a.status, (status) => status === 'connecting');
    expect([...a.peers.value]).toEqual([]);
    expect(a.ready?.value).toBe(false);
    expect(() => a.signal(nodeId('b'), 'sent while away')).not.toThrow();
    const second = await start({ port: first.port });
    await until(a.peers, has('b'));
    await until(b.peers, has('a'));
    expect(a.status.value).toBe('joined');
    expect(a.ready?.value).toBe(true);
    a.signal(nodeId('b'), 'to b');
    b.signal(nodeId('a'), 'to a');
    await new Promise<void>((resolve) => {
      const check = (): void => void (atA.length > 0 && atB.length > 0 && resolve());
      a.signals.subscribe(check);
      b.signals.subscribe(check);
      check();
    });
    expect(atB).toEqual([{ from: 'a', payload: 'to b' }]);
    expect(atA).toEqual([{ from: 'b', payload: 'to a' }]);
    expect(second.stats()).toMatchObject({ peers: 2, joins: 2 });
  });

  it('answers the admission challenge again when the server comes back', async () => {
    const rooms = { room: { secret: 'shh' } };
    const first = await start({ rooms });
    const a = client(first.url, 'a', 'shh');
    await until(a.status, (status) => status === 'joined');
    await stop(first);
    await until(a.status, (status) => status === 'connecting');
    const second = await start({ port: first.port, rooms });
    await until(a.status, (status) => status === 'joined');
    expect(second.stats()).toMatchObject({ joins: 1, refusals: 0 });
  });

  it('stops for good, with the reason, if the server that comes back no longer serves the room', async () => {
    const first = await start();
    const a = client(first.url, 'a');
    await until(a.status, (status) => status === 'joined');
    await stop(first);
    await start({ port: first.port, rooms: { other: {} } });
    const reason = await a.closed;
    expect(reason).toBeInstanceOf(SignalingRefusedError);
    expect(reason).toMatchObject({ code: 'room-unknown' });
    expect(a.status.value).toBe('closed');
  });

  it('closed while the server is away: resolves null and never rejoins when it comes back', async () => {
    const first = await start();
    const a = client(first.url, 'a');
    const b = client(first.url, 'b');
    await until(a.peers, has('b'));
    await stop(first);
    await until(a.status, (status) => status === 'connecting');
    a.close();
    expect(await a.closed).toBeNull();
    const second = await start({ port: first.port });
    await until(b.status, (status) => status === 'joined');
    // b's join proves the server is up; give a's (cancelled) retries time to show up if they were alive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(second.stats()).toMatchObject({ joins: 1, peers: 1, connections: 1 });
    expect([...b.peers.value]).toEqual([]);
  });
});

describe('signaling client: a server that accepts connections but never answers', () => {
  let hung: Server | null = null;
  const held: Socket[] = [];

  afterEach(async () => {
    for (const socket of held.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => (hung === null ? resolve() : hung.close(() => resolve())));
    hung = null;
  });

  it('counts each silent connection attempt as failed, so reconnectAttemptsMax still ends in SignalingUnreachableError', async () => {
    // A frozen or wedged server: the kernel completes the TCP connection, the WebSocket upgrade
    // never comes. Without a bound on the opening handshake the client would wait forever.
    hung = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => hung?.listen(0, '127.0.0.1', () => resolve()));
    const address = hung.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const silent = createWebSocketSignalingClient({
      url: `ws://127.0.0.1:${port}`,
      roomId: 'room',
      nodeId: nodeId('a'),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      limits: { pingIntervalMs: 50, serverSilenceTimeoutMs: 200, reconnectDelayMinMs: 5, reconnectDelayMaxMs: 10, reconnectAttemptsMax: 2 },
    });
    clients.push(silent);
    const outcome = await Promise.race([silent.closed, new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000))]);
    expect(outcome).toBeInstanceOf(SignalingUnreachableError);
    expect(held.length).toBe(3);
  });
});
