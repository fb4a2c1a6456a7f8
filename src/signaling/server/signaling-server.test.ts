import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeId } from '../../core/types.ts';
import { deriveAdmissionKey } from '../admission.ts';
import { terminalErrorCodes } from '../messages.ts';
import { createWebSocketSignalingClient, type WebSocketConstructor } from '../websocket-client.ts';
import { connectRaw, joinOpen, joinWithSecret, type RawClient } from './raw-client.test-support.ts';
import type { SignalingServerEvent } from './events.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from './signaling-server.ts';

let server: SignalingServer | null = null;
const clients: RawClient[] = [];

async function start(options: Partial<SignalingServerOptions> = {}): Promise<SignalingServer> {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1', ...options });
  return server;
}

async function track(client: Promise<RawClient>): Promise<RawClient> {
  const resolved = await client;
  clients.push(resolved);
  return resolved;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = null;
});

describe('admission', () => {
  it('admits a client that proves the room secret, and the secret never crosses the wire', async () => {
    const { url } = await start({ rooms: { alpha: { secret: 'correct horse battery staple' } } });
    const client = await track(joinWithSecret(url, 'alpha', 'a', 'correct horse battery staple'));
    expect(await client.next('joined')).toEqual({ type: 'joined', roomId: 'alpha', nodeId: 'a', peers: [] });
    expect(JSON.stringify(client.received)).not.toContain('correct horse');
  });

  it('refuses a wrong secret with a clear error and closes the socket', async () => {
    const { url } = await start({ rooms: { alpha: { secret: 'right' } } });
    const client = await track(joinWithSecret(url, 'alpha', 'a', 'wrong'));
    const error = await client.next('error');
    expect(error.code).toBe('admission-refused');
    expect(error.message).toMatch(/secret does not match/);
    expect((await client.closed).code).toBe(1008);
    expect(server?.stats()).toMatchObject({ peers: 0, refusals: 1 });
  });

  it('accepts a derived admission key in place of the secret', async () => {
    const admissionKey = await deriveAdmissionKey('s3cret', 'alpha');
    const { url } = await start({ rooms: { alpha: { admissionKey } } });
    const client = await track(joinWithSecret(url, 'alpha', 'a', 's3cret'));
    await client.next('joined');
  });

  it('needs no secret for open rooms and refuses rooms it does not serve', async () => {
    const { url } = await start({ rooms: { open: {} } });
    await track(joinOpen(url, 'open', 'a'));
    const stranger = await track(connectRaw(url));
    stranger.send({ type: 'hello', protocol: 1, roomId: 'elsewhere', nodeId: 'b' });
    expect((await stranger.next('error')).code).toBe('room-unknown');
  });

  it('asks a resolver at join time', async () => {
    const { url } = await start({ rooms: async (roomId) => (roomId.startsWith('team-') ? { secret: `key-${roomId}` } : null) });
    await (await track(joinWithSecret(url, 'team-1', 'a', 'key-team-1'))).next('joined');
    const refused = await track(connectRaw(url));
    refused.send({ type: 'hello', protocol: 1, roomId: 'other', nodeId: 'b' });
    expect((await refused.next('error')).code).toBe('room-unknown');
  });

  it('answers a resolver that throws with server-error, which clients retry: the public client joins on its next attempt', async () => {
    let calls = 0;
    const { url } = await start({
      rooms: async () => {
        calls += 1;
        if (calls === 1) throw new Error('config service timed out');
        return {};
      },
    });
    const raw = await track(connectRaw(url));
    raw.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'a' });
    const error = await raw.next('error');
    expect(error).toEqual({ type: 'error', code: 'server-error', message: 'the server could not look up room "room" just now; try again' });
    expect(terminalErrorCodes.has('server-error')).toBe(false);
    const client = createWebSocketSignalingClient({ url, roomId: 'room', nodeId: nodeId('b'), WebSocket: WebSocket as unknown as WebSocketConstructor, limits: { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 20 } });
    calls = 0; // its first lookup fails too
    try {
      await new Promise<void>((resolve) => client.status.subscribe((status) => status === 'joined' && resolve()));
      expect(calls).toBe(2);
    } finally {
      client.close();
    }
  });

  it('refuses a proof replayed for another node id', async () => {
    const { url } = await start({ rooms: { alpha: { secret: 'right' } } });
    const client = await track(connectRaw(url));
    client.send({ type: 'hello', protocol: 1, roomId: 'alpha', nodeId: 'mallory' });
    await client.next('challenge');
    client.send({ type: 'challenge-response', proof: '0'.repeat(64) });
    expect((await client.next('error')).code).toBe('admission-refused');
  });
});

describe('relay', () => {
  it('announces peers and relays signals within the room, with `from` set by the server', async () => {
    const { url } = await start();
    const a = await track(joinOpen(url, 'room', 'a'));
    const b = await track(connectRaw(url));
    b.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
    expect((await b.next('joined')).peers).toEqual(['a']);
    expect(await a.next('peer-joined')).toEqual({ type: 'peer-joined', nodeId: 'b' });
    b.send({ type: 'signal', to: 'a', payload: '{"sdp":"offer"}' });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: '{"sdp":"offer"}' });
    b.close();
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', nodeId: 'b' });
  });

  it('serves on when its onEvent listener throws: joins, signals and leaves go through, and each is still reported', async () => {
    const seen: string[] = [];
    const onEvent = (event: SignalingServerEvent): void => {
      seen.push(event.type);
      throw new Error('a broken logger');
    };
    const { url } = await start({ onEvent });
    const a = await track(joinOpen(url, 'room', 'a'));
    const b = await track(joinOpen(url, 'room', 'b'));
    expect(b.received.find((message) => message.type === 'joined')).toMatchObject({ peers: ['a'] });
    expect(await a.next('peer-joined')).toEqual({ type: 'peer-joined', nodeId: 'b' });
    b.send({ type: 'signal', to: 'a', payload: 'offer' });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: 'offer' });
    b.close();
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', nodeId: 'b' });
    expect(seen).toEqual(['joined', 'joined', 'left']);
    expect(server?.stats()).toMatchObject({ peers: 1 });
  });

  it('never leaks across rooms: a signal to a node of another room is answered with unknown-peer', async () => {
    const { url } = await start();
    const a = await track(joinOpen(url, 'one', 'a'));
    const b = await track(joinOpen(url, 'two', 'b'));
    a.send({ type: 'signal', to: 'b', payload: 'secret offer' });
    expect((await a.next('error')).code).toBe('unknown-peer');
    // The connection survives an unknown peer; b heard nothing about room one.
    a.send({ type: 'ping' });
    await a.next('pong');
    b.send({ type: 'ping' });
    await b.next('pong');
    expect(b.received.map((message) => message.type)).toEqual(['joined', 'pong']);
  });

  it('refuses a client-written `from` instead of trusting it', async () => {
    const { url } = await start();
    const a = await track(joinOpen(url, 'room', 'a'));
    const mallory = await track(joinOpen(url, 'room', 'mallory'));
    await a.next('peer-joined');
    mallory.send({ type: 'signal', to: 'a', from: 'b', payload: 'forged' });
    expect((await mallory.next('error')).code).toBe('malformed');
    await mallory.closed;
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', nodeId: 'mallory' });
    expect(a.received.some((message) => message.type === 'signal')).toBe(false);
  });

  it('replaces a holder of the node id that answers no ping within memberProbeTimeoutMs (a socket left half-open), and reports it as a leave', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ limits: { memberProbeTimeoutMs: 200 }, onEvent: (event) => events.push(event) });
    const a = await track(joinOpen(url, 'room', 'a'));
    const old = await track(joinOpen(url, 'room', 'b')); // a raw client: it answers no ping
    await a.next('peer-joined');
    const fresh = await track(connectRaw(url));
    const asked = Date.now();
    fresh.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
    await old.next('ping');
    expect((await old.next('error')).code).toBe('replaced');
    await fresh.next('joined');
    expect(Date.now() - asked).toBeGreaterThanOrEqual(190);
    await a.next('peer-left');
    await a.next('peer-joined');
    fresh.send({ type: 'signal', to: 'a', payload: 'hi' });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: 'hi' });
    expect(server?.stats().peers).toBe(2);
    // Before, the replaced holder was neither a leave nor a refusal: two joins of b, no leave.
    expect(events.filter((event) => event.type !== 'joined')).toEqual([{ type: 'left', roomId: 'room', nodeId: 'b', reason: 'replaced', peers: 1 }]);
    const stats = server?.stats();
    expect(stats).toMatchObject({ joins: 3, leaves: 1, refusals: 0 });
    expect((stats?.joins ?? 0) - (stats?.leaves ?? 0)).toBe(stats?.peers);
  });

  it('keeps a node id with its live holder: a newcomer under that id is refused with member-in-use, however many come at once', async () => {
    const { url } = await start({ limits: { memberProbeTimeoutMs: 2_000 } });
    const a = await track(joinOpen(url, 'room', 'a'));
    const holder = await track(joinOpen(url, 'room', 'b'));
    await a.next('peer-joined');
    let pings = 0;
    holder.socket.on('message', (data) => {
      if (JSON.parse(String(data)).type !== 'ping') return;
      pings++;
      holder.send({ type: 'pong' });
    });
    const impostors = await Promise.all([1, 2, 3].map(() => track(connectRaw(url))));
    for (const impostor of impostors) impostor.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
    for (const impostor of impostors) {
      const error = await impostor.next('error');
      expect(error.code).toBe('member-in-use');
      expect(error.message).toMatch(/held by a live connection/);
      expect((await impostor.closed).code).toBe(1008);
    }
    expect(pings).toBeLessThanOrEqual(3);
    expect(pings).toBeGreaterThanOrEqual(1);
    holder.send({ type: 'signal', to: 'a', payload: 'still me' });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: 'still me' });
    expect(a.received.filter((message) => message.type === 'peer-left')).toEqual([]);
    expect(server?.stats()).toMatchObject({ peers: 2, refusals: 3 });
  });

  it('pings a live holder once per probe timeout however many hellos come, so they cannot push it over its rate limit', async () => {
    const { url } = await start({ limits: { memberProbeTimeoutMs: 2_000, messagesPerSecond: 1, messageBurst: 5 } });
    const holder = await track(joinOpen(url, 'room', 'b'));
    let pings = 0;
    holder.socket.on('message', (data) => {
      if (JSON.parse(String(data)).type !== 'ping') return;
      pings++;
      holder.send({ type: 'pong' });
    });
    for (let attempt = 0; attempt < 12; attempt++) {
      const impostor = await track(connectRaw(url));
      impostor.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
      expect((await impostor.next('error')).code).toBe('member-in-use');
    }
    expect(pings).toBe(1);
    holder.send({ type: 'ping' });
    await holder.next('pong');
    expect(holder.received.some((message) => message.type === 'error')).toBe(false);
  });

  it('answers a newcomer\'s keepalive while it waits on the probe, then lets it in', async () => {
    const { url } = await start({ limits: { memberProbeTimeoutMs: 300 } });
    const old = await track(joinOpen(url, 'room', 'b')); // answers no ping
    const fresh = await track(connectRaw(url));
    fresh.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
    await old.next('ping');
    fresh.send({ type: 'ping' });
    await fresh.next('pong');
    await fresh.next('joined');
    expect(fresh.received.filter((message) => message.type === 'error')).toEqual([]);
  });

  it('a newcomer probing a holder that closes meanwhile joins at once', async () => {
    const { url } = await start({ limits: { memberProbeTimeoutMs: 5_000 } });
    const old = await track(joinOpen(url, 'room', 'b'));
    const fresh = await track(connectRaw(url));
    fresh.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
    await old.next('ping');
    const asked = Date.now();
    old.close();
    expect(await fresh.next('joined')).toEqual({ type: 'joined', roomId: 'room', nodeId: 'b', peers: [] });
    expect(Date.now() - asked).toBeLessThan(2_000);
  });
});

describe('bad input', () => {
  const cases: Array<[string, string | Buffer | object, string]> = [
    ['malformed JSON', '{"type":', 'malformed'],
    ['an unknown type', { type: 'launch-missiles' }, 'unknown-type'],
    ['a binary frame', Buffer.from([1, 2, 3]), 'malformed'],
    ['a signal before joining', { type: 'signal', to: 'a', payload: 'x' }, 'protocol'],
    ['another protocol version', { type: 'hello', protocol: 99, roomId: 'r', nodeId: 'n' }, 'unsupported-protocol'],
    ['an oversized message', { type: 'hello', protocol: 1, roomId: 'r', nodeId: 'x'.repeat(5000) }, 'too-large'],
  ];
  for (const [name, frame, code] of cases) {
    it(`answers ${name} with an error frame and disconnects`, async () => {
      const { url } = await start({ limits: { maxMessageBytes: 4096 } });
      const bystander = await track(joinOpen(url, 'calm', 'c'));
      const client = await track(connectRaw(url));
      client.send(frame);
      expect((await client.next('error')).code).toBe(code);
      await client.closed;
      bystander.send({ type: 'ping' });
      await bystander.next('pong');
    });
  }
});
