// Review (second pass over the signaling fixes): a socket the server failed after its client
// half-closed TCP (a FIN, no close frame) gets no close grace. ws's close() on a CLOSING socket
// arms no timer, and accept-socket.ts keeps the socket in `closing` (counted against
// maxConnections) until it closes, which, when the client reads nothing, is never.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { SignalingServerEvent } from '../signaling/server/events.ts';
import { openBare, type BareSocket } from '../signaling/server/bare-socket.test-support.ts';
import { openRawTcp, waitFor, type RawTcp } from '../signaling/server/raw-frames.test-support.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/signaling-server.ts';

let server: SignalingServer | null = null;
const bares: BareSocket[] = [];
const raws: RawTcp[] = [];

afterEach(async () => {
  for (const bare of bares.splice(0)) bare.socket.terminate();
  for (const raw of raws.splice(0)) raw.destroy();
  await server?.close();
  server = null;
});

describe('a joined client that stops reading and half-closes its TCP connection', () => {
  it('once failed, is cut off after the close grace and no longer counts against maxConnections', async () => {
    const clock = new VirtualClock();
    const events: SignalingServerEvent[] = [];
    server = await startSignalingServer({
      port: 0,
      clock,
      onEvent: (event) => events.push(event),
      limits: { maxConnections: 2, maxBufferedBytes: 256 * 1024 * 1024, maxMessageBytes: 200 * 1024, messagesPerSecond: 100_000, messageBurst: 100_000 },
    });
    const { port, url } = server;
    // The victim: joined on a raw socket, then reads nothing more.
    const victim = await openRawTcp(port);
    raws.push(victim);
    victim.writeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'victim' })));
    expect(await waitFor(() => victim.answered().includes('"joined"'), 5_000)).toBe(true);
    victim.socket.pause();
    const sender = await openBare(url);
    bares.push(sender);
    sender.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'sender' });
    await sender.next('joined');
    // Enough to fill the kernel's buffers on both sides of the loopback connection.
    const payload = 'x'.repeat(190 * 1024);
    for (let round = 0; round < 8; round++) {
      for (let index = 0; index < 20; index++) sender.send({ type: 'signal', to: 'victim', payload });
      sender.send({ type: 'ping' });
      await sender.next('pong');
    }
    // The victim half-closes: a FIN, no close frame (ws: CLOSING, no close timer).
    victim.socket.end();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Idle: the server fails it (idle-timeout). The sender keeps itself alive meanwhile.
    for (let step = 0; step < 7 && !events.some((event) => event.type === 'left'); step++) {
      sender.send({ type: 'ping' });
      await sender.next('pong');
      await clock.advance(10_000);
    }
    expect(events.filter((event) => event.type !== 'joined')).toEqual([
      expect.objectContaining({ type: 'refused', code: 'idle-timeout', nodeId: 'victim' }),
      expect.objectContaining({ type: 'left', nodeId: 'victim' }),
    ]);
    expect(server.stats().connections).toBe(1);
    // Well past the close grace (2 s): the failed socket should be gone, and its place free.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const newcomer = await openBare(url);
    bares.push(newcomer);
    newcomer.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'newcomer' });
    const answer = await Promise.race([newcomer.next('joined'), newcomer.next('error')]);
    expect(answer).toEqual(expect.objectContaining({ type: 'joined' }));
  });

  it('one address cannot fill maxConnections with such sockets, past maxHandshakesPerAddress, for good', async () => {
    // Not even joined: a socket that floods pings while reading no pong (so the server's writes
    // cannot drain), half-closes, and is failed by the handshake timeout. Each stays in `closing`
    // after its per-address count is settled, so the address's bound (1) does not stop the next.
    const clock = new VirtualClock();
    server = await startSignalingServer({
      port: 0,
      clock,
      limits: { maxConnections: 2, maxHandshakesPerAddress: 1, maxBufferedBytes: 256 * 1024 * 1024 },
    });
    const { port, url } = server;
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
    const newcomer = await openBare(url);
    bares.push(newcomer);
    newcomer.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'newcomer' });
    const answer = await Promise.race([newcomer.next('joined'), newcomer.next('error')]);
    expect(answer).toEqual(expect.objectContaining({ type: 'joined' }));
  });
});
