// The server's bounds, each with a bystander room that must keep working throughout. Time is a
// virtual clock: the token bucket never refills and timeouts fire only when the test advances it.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { resolveClientLimits, resolveServerLimits, type SignalingClientLimits, type SignalingServerLimits } from '../limits.ts';
import type { SignalingServerEvent } from './events.ts';
import { connectRaw, joinOpen, type RawClient } from './raw-client.test-support.ts';
import { startSignalingServer, type SignalingServer } from './signaling-server.ts';

let server: SignalingServer | null = null;
const clients: RawClient[] = [];

async function start(limits: Partial<SignalingServerLimits>, clock = new VirtualClock(), events: SignalingServerEvent[] = []): Promise<SignalingServer> {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1', limits, clock, onEvent: (event) => events.push(event) });
  return server;
}

async function track(client: Promise<RawClient>): Promise<RawClient> {
  const resolved = await client;
  clients.push(resolved);
  return resolved;
}

async function stillServes(client: RawClient): Promise<void> {
  client.send({ type: 'ping' });
  await client.next('pong');
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = null;
});

describe('server bounds', () => {
  it('disconnects a flooding client while another room keeps relaying', async () => {
    const { url } = await start({ messageBurst: 10, messagesPerSecond: 1 });
    const a = await track(joinOpen(url, 'calm', 'a'));
    const b = await track(joinOpen(url, 'calm', 'b'));
    const flooder = await track(joinOpen(url, 'noisy', 'f'));
    for (let index = 0; index < 50; index++) flooder.send({ type: 'ping' });
    expect((await flooder.next('error')).code).toBe('rate-limited');
    expect((await flooder.closed).code).toBe(1008);
    b.send({ type: 'signal', to: 'a', payload: 'still here' });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: 'still here' });
    expect(server?.stats()).toMatchObject({ rooms: 1, peers: 2 });
  });

  it('survives a thousand joins and leaves and ends with empty rooms', async () => {
    const { url } = await start({});
    const bystander = await track(joinOpen(url, 'bystander', 'z'));
    for (let round = 0; round < 20; round++) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, index) => joinOpen(url, `room-${index % 7}`, `n-${round}-${index}`)),
      );
      await Promise.all(batch.map((client) => (client.close(), client.closed)));
      await stillServes(bystander);
    }
    await expect.poll(() => server?.stats().rooms).toBe(1);
    expect(server?.stats()).toMatchObject({ peers: 1, joins: 1001 });
    await expect.poll(() => server?.stats().leaves).toBe(1000);
  });

  it('refuses a peer beyond the room limit, and a room beyond the server limit', async () => {
    const { url } = await start({ maxPeersPerRoom: 2, maxRooms: 2 });
    await track(joinOpen(url, 'room', 'a'));
    await track(joinOpen(url, 'room', 'b'));
    const third = await track(connectRaw(url));
    third.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'c' });
    expect((await third.next('error')).code).toBe('room-full');
    await track(joinOpen(url, 'second', 'd'));
    const other = await track(connectRaw(url));
    other.send({ type: 'hello', protocol: 1, roomId: 'third', nodeId: 'e' });
    expect((await other.next('error')).code).toBe('server-full');
  });

  it('disconnects an idle client but not one that pings', async () => {
    const clock = new VirtualClock();
    const { url } = await start({ idleTimeoutMs: 1_000 }, clock);
    const idle = await track(joinOpen(url, 'room', 'idle'));
    const lively = await track(joinOpen(url, 'room', 'lively'));
    for (let step = 0; step < 4; step++) {
      await clock.advance(400);
      await stillServes(lively);
    }
    expect((await idle.next('error')).code).toBe('idle-timeout');
    await idle.closed;
    await stillServes(lively);
  });

  it('disconnects a client that does not finish the handshake in time', async () => {
    const clock = new VirtualClock();
    const { url } = await start({ handshakeTimeoutMs: 500 }, clock);
    const silent = await track(connectRaw(url));
    await clock.advance(500);
    expect((await silent.next('error')).code).toBe('handshake-timeout');
    await expect.poll(() => server?.stats().connections).toBe(0);
  });

  it('tells every client when it shuts down', async () => {
    const { url } = await start({});
    const a = await track(joinOpen(url, 'room', 'a'));
    await server?.close();
    expect((await a.next('error')).code).toBe('server-closing');
    expect((await a.closed).code).toBe(1001);
  });
});

describe('slow consumers', () => {
  it('cuts off a client that stops reading instead of buffering for it without end, and reports it as a refusal', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ maxBufferedBytes: 64 * 1024, messagesPerSecond: 100_000, messageBurst: 100_000 }, new VirtualClock(), events);
    const sender = await track(joinOpen(url, 'room', 'sender'));
    const sleeper = await track(joinOpen(url, 'room', 'sleeper'));
    await sender.next('peer-joined');
    sleeper.socket.pause(); // stops reading: the server's queue to it can only grow
    const payload = 'x'.repeat(32 * 1024);
    let left = false;
    void sender.next('peer-left').then(() => (left = true));
    for (let round = 0; round < 200 && !left; round++) {
      for (let index = 0; index < 20; index++) sender.send({ type: 'signal', to: 'sleeper', payload });
      sender.send({ type: 'ping' });
      await sender.next('pong');
    }
    expect(left).toBe(true);
    await stillServes(sender);
    // Before, a plain leave (reason "disconnected") and no refusal: the cut left no trace as one.
    expect(events.filter((event) => event.type !== 'joined')).toEqual([
      { type: 'refused', code: 'not-reading', message: 'more than 65536 bytes queued to a client that does not read them', roomId: 'room', nodeId: 'sleeper', remoteAddress: expect.stringMatching(/127\.0\.0\.1/) },
      { type: 'left', roomId: 'room', nodeId: 'sleeper', reason: 'not-reading', peers: 1 },
    ]);
    expect(server?.stats()).toMatchObject({ refusals: 1, leaves: 1 });
  });

  it('cuts off a client that floods pings and reads none of the pongs, as one that stops reading', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ maxBufferedBytes: 64 * 1024 }, new VirtualClock(), events);
    const flooder = await track(joinOpen(url, 'room', 'flooder'));
    flooder.socket.pause(); // reads nothing more: the pongs pile up in the kernel, then in the server
    const gone = (): boolean => events.some((event) => event.type === 'left');
    for (let round = 0; round < 500 && !gone(); round++) {
      for (let index = 0; index < 500; index++) flooder.socket.ping(Buffer.alloc(125));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // Before, ws cut it itself (60 pongs pending) without a word: a plain leave.
    expect(events.filter((event) => event.type !== 'joined')).toEqual([
      expect.objectContaining({ type: 'refused', code: 'not-reading', roomId: 'room', nodeId: 'flooder' }),
      expect.objectContaining({ type: 'left', nodeId: 'flooder', reason: 'not-reading' }),
    ]);
  });
});

describe('memberProbeTimeoutMs', () => {
  it('is 5 s, or half a shorter handshake timeout, and may not exceed half the handshake timeout', () => {
    expect(resolveServerLimits().memberProbeTimeoutMs).toBe(5_000);
    expect(resolveServerLimits({ handshakeTimeoutMs: 500 }).memberProbeTimeoutMs).toBe(250);
    expect(resolveServerLimits({ handshakeTimeoutMs: 500, memberProbeTimeoutMs: 100 }).memberProbeTimeoutMs).toBe(100);
    expect(() => resolveServerLimits({ memberProbeTimeoutMs: 5_001 })).toThrow(new RangeError('signaling limit memberProbeTimeoutMs must be an integer in 1 .. 5000, got 5001'));
  });
});

describe('options the server refuses before it listens', () => {
  it('a misspelt limit, on the server or a client, instead of running on the default in silence', async () => {
    expect(() => resolveServerLimits({ maxPeerPerRoom: 2 } as Partial<SignalingServerLimits>)).toThrow(/^unknown signaling server limit "maxPeerPerRoom"; the signaling server limits are maxMessageBytes, .*maxPeersPerRoom/);
    expect(() => resolveClientLimits({ pingInterval: 5 } as Partial<SignalingClientLimits>)).toThrow(/^unknown signaling client limit "pingInterval"; the signaling client limits are pingIntervalMs/);
    await expect(startSignalingServer({ port: 0, limits: { bogus: 1 } as Partial<SignalingServerLimits> })).rejects.toThrow(/unknown signaling server limit "bogus"/);
  });

  it('a port that is not an integer from 0 to 65535 (ws would take a string for a socket path)', async () => {
    for (const port of ['abc', '8080', -1, 65_536, 1.5, Number.NaN, undefined]) {
      await expect(startSignalingServer({ port } as unknown as { port: number }), String(port)).rejects.toThrow(/^startSignalingServer: port must be an integer from 0 to 65535 \(0 picks a free one\), got /);
    }
  });
});
