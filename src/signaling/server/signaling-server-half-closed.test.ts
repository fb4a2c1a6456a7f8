// Clients that half-close their TCP connection (a FIN, no close frame) while reading nothing.
// ws then has the socket CLOSING already, and arms its close timeout only for a socket it closes
// while OPEN: without timers of the server's own, such a socket never closed, holding close()
// (the CLI's SIGTERM never exited) and a maxConnections place for good. Raw frames over TCP on
// 127.0.0.1; the server's clock is virtual, the close grace (2 s) real, as ws's is.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { openBare, type BareSocket } from './bare-socket.test-support.ts';
import { openRawTcp, waitFor, type RawTcp } from './raw-frames.test-support.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerEvent, type SignalingServerOptions } from './index.ts';

let server: SignalingServer | null = null;
const bares: BareSocket[] = [];
const raws: RawTcp[] = [];
/** A close() a test started: awaited after the clients are gone, whatever its outcome. */
let closing: Promise<unknown> | null = null;

afterEach(async () => {
  for (const bare of bares.splice(0)) bare.socket.terminate();
  for (const raw of raws.splice(0)) raw.destroy();
  await closing;
  closing = null;
  await server?.close();
  server = null;
});

/** Large relayed signals, many, and a rate limit that lets them through. */
const roomyLimits = { maxBufferedBytes: 256 * 1024 * 1024, maxMessageBytes: 200 * 1024, messagesPerSecond: 100_000, messageBurst: 100_000 };

async function start(options: Partial<SignalingServerOptions>): Promise<SignalingServer> {
  server = await startSignalingServer({ port: 0, clock: new VirtualClock(), ...options });
  return server;
}

async function joinedBare(url: string, id: string): Promise<BareSocket> {
  const bare = await openBare(url);
  bares.push(bare);
  bare.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: id });
  await bare.next('joined');
  return bare;
}

/**
 * A raw client joined as `victim` that stops reading, is sent enough to fill the kernel's buffers
 * on both sides of the loopback connection (the server's writes can no longer drain), and then
 * half-closes. Returns the sender, still joined.
 */
async function stuckHalfClosedVictim(port: number, url: string): Promise<BareSocket> {
  const victim = await openRawTcp(port);
  raws.push(victim);
  victim.writeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'victim' })));
  expect(await waitFor(() => victim.answered().includes('"joined"'), 5_000)).toBe(true);
  victim.socket.pause();
  const sender = await joinedBare(url, 'sender');
  const payload = 'x'.repeat(190 * 1024);
  for (let round = 0; round < 8; round++) {
    for (let index = 0; index < 20; index++) sender.send({ type: 'signal', to: 'victim', payload });
    sender.send({ type: 'ping' });
    await sender.next('pong');
  }
  victim.socket.end(); // a FIN, no close frame
  await new Promise((resolve) => setTimeout(resolve, 200));
  return sender;
}

/** Whether a newcomer is admitted, or refused (server-full) because the places are taken. */
async function newcomerJoins(url: string): Promise<boolean> {
  const newcomer = await openBare(url);
  bares.push(newcomer);
  newcomer.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'newcomer' });
  const answer = await Promise.race([newcomer.next('joined'), newcomer.next('error')]);
  return answer.type === 'joined';
}

describe('a joined client that stops reading and half-closes its TCP connection', () => {
  it('does not hold server.close(): it is cut off after the close grace', async () => {
    const { port, url } = await start({ limits: roomyLimits });
    await stuckHalfClosedVictim(port, url);
    expect(server?.stats().peers).toBe(2); // still served: no close event came
    closing = server!.close().then(() => 'closed');
    server = null;
    const outcome = await Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still closing after 6 s'), 6_000))]);
    expect(outcome).toBe('closed');
  });

  it('once failed, is cut off after the close grace and no longer holds a maxConnections place', async () => {
    const clock = new VirtualClock();
    const events: SignalingServerEvent[] = [];
    const { port, url } = await start({ clock, onEvent: (event) => events.push(event), limits: { ...roomyLimits, maxConnections: 2 } });
    const sender = await stuckHalfClosedVictim(port, url);
    // Idle: the server fails the victim (idle-timeout) while the sender keeps itself alive.
    for (let step = 0; step < 7 && !events.some((event) => event.type === 'left'); step++) {
      sender.send({ type: 'ping' });
      await sender.next('pong');
      await clock.advance(10_000);
    }
    expect(events.filter((event) => event.type !== 'joined')).toEqual([
      expect.objectContaining({ type: 'refused', code: 'idle-timeout', nodeId: 'victim' }),
      expect.objectContaining({ type: 'left', nodeId: 'victim' }),
    ]);
    expect(server?.stats().connections).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // well past the close grace
    expect(await newcomerJoins(url)).toBe(true);
  });
});

describe('sockets failed in the handshake, half-closed and reading nothing', () => {
  it('do not fill maxConnections for good once their address count is settled', async () => {
    // Not even joined: each floods pings and reads no pong (so the server's writes cannot drain),
    // half-closes, and is failed by the handshake timeout, which settles its address's count
    // (maxHandshakesPerAddress 1 does not stop the next).
    const clock = new VirtualClock();
    const { port, url } = await start({ clock, limits: { maxConnections: 2, maxHandshakesPerAddress: 1, maxBufferedBytes: 256 * 1024 * 1024 } });
    for (let index = 0; index < 2; index++) {
      const stuck = await openRawTcp(port);
      raws.push(stuck);
      stuck.socket.pause();
      const ping = Buffer.alloc(125, 0x70);
      for (let round = 0; round < 40; round++) {
        for (let count = 0; count < 2_000; count++) stuck.writeFrame(0x9, ping);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      stuck.socket.end(); // a FIN, no close frame
      await new Promise((resolve) => setTimeout(resolve, 200));
      await clock.advance(10_000); // handshake-timeout
      expect(await waitFor(() => server?.stats().connections === 0, 5_000)).toBe(true);
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // well past the close grace
    expect(await newcomerJoins(url)).toBe(true);
  });
});
