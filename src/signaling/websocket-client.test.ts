// The WebSocket signaling client against the real server on loopback (ws's WebSocket in Node).
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Watchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { Clock } from './clock.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from './server/signaling-server.ts';
import { SignalingRefusedError, SignalingUnreachableError, type ReceivedSignal } from './signaling-client.ts';
import { createWebSocketSignalingClient, type SignalingRetry, type WebSocketConstructor, type WebSocketLike, type WebSocketSignalingClient, type WebSocketSignalingClientOptions } from './websocket-client.ts';

const servers: SignalingServer[] = [];
const clients: WebSocketSignalingClient[] = [];

async function start(options: Partial<SignalingServerOptions> = {}): Promise<SignalingServer> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  return server;
}

function client(url: string, id: string, extra: Partial<WebSocketSignalingClientOptions> = {}): WebSocketSignalingClient {
  const created = createWebSocketSignalingClient({ url, roomId: 'room', nodeId: nodeId(id), WebSocket, ...extra });
  clients.push(created);
  return created;
}

function until<T>(watchable: Watchable<T>, predicate: (value: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    if (predicate(watchable.value)) return resolve(watchable.value);
    const unsubscribe = watchable.subscribe((value) => {
      if (!predicate(value)) return;
      unsubscribe();
      resolve(value);
    });
  });
}

/** A socket the test scripts: it emits what a server or a browser would, when told. */
class ScriptedSocket implements WebSocketLike {
  readonly listeners = new Map<string, Array<(event: { readonly data: unknown }) => void>>();
  send(): void {}
  close(): void {}
  addEventListener(type: string, listener: (event: { readonly data: unknown }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: string, event?: object): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event as { readonly data: unknown });
  }
}

/** A client on scripted sockets and a virtual clock, retrying every 10 ms, reporting to `onRetry`. */
function scriptedClient(onRetry: (retry: SignalingRetry) => void): { virtual: VirtualClock; sockets: ScriptedSocket[]; retrying: WebSocketSignalingClient } {
  const virtual = new VirtualClock();
  const clock: Clock = { now: () => virtual.now(), setTimeout: (fn, ms) => virtual.setTimeout(fn, ms), clearTimeout: (handle) => virtual.clearTimeout(handle) };
  const sockets: ScriptedSocket[] = [];
  const retrying = client('ws://127.0.0.1:9', 'a', {
    WebSocket: class extends ScriptedSocket {
      constructor(_url: string) {
        super();
        sockets.push(this);
      }
    },
    clock,
    limits: { reconnectDelayMinMs: 10, reconnectDelayMaxMs: 10, serverSilenceTimeoutMs: 30_000 },
    onRetry,
  });
  return { virtual, sockets, retrying };
}

const hasPeer = (id: string) => (peers: ReadonlySet<NodeId>) => peers.has(nodeId(id));

afterEach(async () => {
  for (const created of clients.splice(0)) created.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('WebSocket signaling client options', () => {
  it('refuses an empty secret, a room id the protocol cannot carry and a URL no WebSocket opens, before connecting', () => {
    const base = { url: 'ws://127.0.0.1:9', roomId: 'room', nodeId: nodeId('a'), WebSocket };
    expect(() => createWebSocketSignalingClient({ ...base, secret: '' })).toThrow(/the room secret must be a non-empty string/);
    expect(() => createWebSocketSignalingClient({ ...base, roomId: '' })).toThrow(/room id must be 1 \.\. 128 characters/);
    expect(() => createWebSocketSignalingClient({ ...base, roomId: 'r'.repeat(129) })).toThrow(/room id must be 1 \.\. 128 characters/);
    expect(() => createWebSocketSignalingClient({ ...base, roomId: 'bell\u0007' })).toThrow(/without control characters/);
    expect(() => createWebSocketSignalingClient({ ...base, url: 'ftp://example.org' })).toThrow(/url must be a ws:\/\/ or wss:\/\/ URL \(or http:\/\/ or https:\/\/, which WebSocket takes as the same\)/);
    expect(() => createWebSocketSignalingClient({ ...base, url: 'not a url' })).toThrow(/url must be a ws:\/\/ or wss:\/\/ URL \(or http:\/\/ or https:\/\/, which WebSocket takes as the same\)/);
  });
});

describe('WebSocket signaling client', () => {
  it('joins, watches peers and exchanges signals through the server', async () => {
    const { url } = await start();
    const a = client(url, 'a');
    const b = client(url, 'b');
    await until(a.peers, hasPeer('b'));
    await until(b.peers, hasPeer('a'));
    const received = new Promise<ReceivedSignal>((resolve) => b.signals.subscribe(resolve));
    a.signal(nodeId('b'), '{"candidate":"x"}');
    expect(await received).toEqual({ from: 'a', payload: '{"candidate":"x"}' });
    b.close();
    expect(await b.closed).toBeNull();
    await until(a.peers, (peers) => peers.size === 0);
  });

  it('answers the admission challenge with the right secret', async () => {
    const { url } = await start({ rooms: { room: { secret: 'open sesame' } } });
    const a = client(url, 'a', { secret: 'open sesame' });
    await until(a.status, (status) => status === 'joined');
  });

  it('stops with a clear error for a wrong or a missing secret instead of retrying', async () => {
    const { url } = await start({ rooms: { room: { secret: 'open sesame' } } });
    const wrong = await client(url, 'a', { secret: 'guess' }).closed;
    expect(wrong).toBeInstanceOf(SignalingRefusedError);
    expect(wrong).toMatchObject({ code: 'admission-refused' });
    const missing = await client(url, 'b').closed;
    expect(String(missing)).toMatch(/requires a secret and none was given/);
  });

  it('reconnects with backoff after the server restarts, and rejoins', async () => {
    const first = await start();
    const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 20 };
    const a = client(first.url, 'a', { limits });
    const b = client(first.url, 'b', { limits });
    await until(a.peers, hasPeer('b'));
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    await until(a.peers, (peers) => peers.size === 0);
    await start({ port: first.port });
    await until(a.peers, hasPeer('b'));
    await until(b.status, (status) => status === 'joined');
  });

  it('is not stopped for good when replaced for a missed ping (a stalled page): it reconnects and takes its id back', async () => {
    const server = await start({ limits: { memberProbeTimeoutMs: 100 } });
    let stalled = false;
    // ws's WebSocket, except that its pongs are lost while `stalled` (a page frozen for a while).
    class StallingWebSocket extends WebSocket {
      override send(data: string): void {
        if (stalled && data.includes('"pong"')) return;
        super.send(data);
      }
    }
    const a = client(server.url, 'a', { WebSocket: StallingWebSocket as unknown as WebSocketConstructor, limits: { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 20 } });
    await until(a.status, (status) => status === 'joined');
    stalled = true;
    const statuses: string[] = [];
    a.status.subscribe((status) => statuses.push(status));
    // Someone says hello under a's id; a misses the ping, and the newcomer gets the id.
    const other = new WebSocket(server.url);
    await new Promise((resolve) => other.once('open', resolve));
    other.send(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'a' }));
    await until(a.status, (status) => status === 'connecting');
    stalled = false;
    // The newcomer answers no ping either: a's next hello replaces it, and a is back.
    await until(a.status, (status) => status === 'joined');
    expect(statuses).toEqual(['connecting', 'joined']);
    let stopped = false;
    void a.closed.then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    other.close();
  });

  it('says why each attempt failed and when the next starts (onRetry): a refused connection with ws\'s own words', async () => {
    const server = await start();
    const { url } = server;
    await server.close();
    servers.splice(0);
    const retries: { attempt: number; delayMs: number; reason: string }[] = [];
    const lonely = client(url, 'a', { limits: { reconnectDelayMinMs: 1, reconnectDelayMaxMs: 2, reconnectAttemptsMax: 3 }, onRetry: (retry) => retries.push(retry) });
    expect(await lonely.closed).toBeInstanceOf(SignalingUnreachableError);
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 2, 3]);
    for (const retry of retries) {
      expect(retry.reason).toMatch(new RegExp(`^the connection failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${new URL(url).port}$`));
      expect(retry.delayMs).toBeGreaterThanOrEqual(1);
      expect(retry.delayMs).toBeLessThanOrEqual(2);
    }
  });

  it('names a close, a server that never answers and one it cannot understand, and survives a throwing onRetry', async () => {
    const reasons: string[] = [];
    const { virtual, sockets, retrying } = scriptedClient((retry) => {
      reasons.push(retry.reason);
      throw new Error('a broken logger');
    });
    sockets[0]!.emit('close', { code: 1013, reason: 'try again later' });
    await virtual.advance(10);
    sockets[1]!.emit('open');
    sockets[1]!.emit('message', { data: '{"type":"nonsense"}' });
    await virtual.advance(10);
    sockets[2]!.emit('error', {}); // a browser's error event: no word of why
    await virtual.advance(10);
    await virtual.advance(30_000); // the fourth connects and then hears nothing
    expect(reasons).toEqual([
      'the connection closed (code 1013, "try again later")',
      'the server sent a message this client does not understand',
      'the connection failed',
      'not in the room 30000 ms after connecting',
    ]);
    expect(retrying.status.value).toBe('connecting'); // still trying
  });

  it('gives a refusal as the cause of the attempt it was heard on only, not of later attempts that failed otherwise', async () => {
    // From a review of onRetry: a server that once said rate-limited and then went down was said
    // to be rate-limiting on every retry after.
    const reasons: string[] = [];
    const { virtual, sockets } = scriptedClient((retry) => reasons.push(retry.reason));
    sockets[0]!.emit('open');
    sockets[0]!.emit('message', { data: JSON.stringify({ type: 'error', code: 'rate-limited', message: 'slow down' }) });
    sockets[0]!.emit('close', { code: 1008, reason: 'rate-limited' });
    await virtual.advance(10);
    sockets[1]!.emit('error', { message: 'connect ECONNREFUSED 127.0.0.1:9' });
    expect(reasons).toEqual(['the connection closed (code 1008, "rate-limited") (the server said rate-limited: slow down)', 'the connection failed: connect ECONNREFUSED 127.0.0.1:9']);
  });

  it('gives up after the configured number of attempts', async () => {
    const server = await start();
    const { url } = server;
    await server.close();
    servers.splice(0);
    const lonely = client(url, 'a', { limits: { reconnectDelayMinMs: 1, reconnectDelayMaxMs: 2, reconnectAttemptsMax: 3 } });
    expect(await lonely.closed).toBeInstanceOf(SignalingUnreachableError);
  });
});

describe('a WebSocket signaling client joined for hours', () => {
  it('keeps no handle of a timer that has fired (it kept one per ping interval, for as long as it stayed joined)', async () => {
    const virtual = new VirtualClock();
    const fired = new Set<unknown>();
    let clearedAfterFiring = 0;
    const clock: Clock = {
      now: () => virtual.now(),
      setTimeout: (fn, ms) => {
        const handle = virtual.setTimeout(() => (fired.add(handle), fn()), ms);
        return handle;
      },
      clearTimeout: (handle) => {
        if (fired.has(handle)) clearedAfterFiring++;
        virtual.clearTimeout(handle);
      },
    };
    const sockets: FakeServerSocket[] = [];
    /** A server that answers every ping, so the client never hears silence. */
    class FakeServerSocket implements WebSocketLike {
      readonly listeners = new Map<string, Array<(event: { readonly data: unknown }) => void>>();
      pings = 0;
      constructor(_url: string) {
        sockets.push(this);
      }
      send(data: string): void {
        if ((JSON.parse(data) as { type: string }).type !== 'ping') return;
        this.pings++;
        this.emit('message', { data: JSON.stringify({ type: 'pong' }) });
      }
      close(): void {}
      addEventListener(type: string, listener: (event: { readonly data: unknown }) => void): void {
        this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
      }
      emit(type: string, event: { readonly data: unknown } = { data: undefined }): void {
        for (const listener of this.listeners.get(type) ?? []) listener(event);
      }
    }
    const joined = createWebSocketSignalingClient({ url: 'ws://127.0.0.1:9', roomId: 'room', nodeId: nodeId('a'), WebSocket: FakeServerSocket, clock });
    const socket = sockets[0]!;
    socket.emit('open');
    socket.emit('message', { data: JSON.stringify({ type: 'joined', roomId: 'room', nodeId: 'a', peers: [] }) });
    expect(joined.status.value).toBe('joined');
    await virtual.advance(1_000 * 20_000); // 1,000 ping intervals: about five and a half hours
    expect(socket.pings).toBe(1_000);
    joined.close();
    // close() clears every timer the client still holds: none of them may be one long fired.
    expect(clearedAfterFiring).toBe(0);
    expect(virtual.pendingTimers).toBe(0);
  });
});
