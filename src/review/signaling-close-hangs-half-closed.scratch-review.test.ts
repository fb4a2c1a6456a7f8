// Review (second pass over the signaling fixes): close() no longer has its own deadline; it relies
// on ws's closeTimeout, which ws arms only when close() is called on an OPEN socket. A served
// client that half-closed its TCP connection (a FIN, no close frame) while reading nothing is
// CLOSING already: no timer is armed, its socket never closes, and close() never resolves (the
// CLI's SIGTERM never exits). Before the fixes, close() cut every socket off after 2 s.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { openBare, type BareSocket } from '../signaling/server/bare-socket.test-support.ts';
import { openRawTcp, waitFor, type RawTcp } from '../signaling/server/raw-frames.test-support.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/signaling-server.ts';

let server: SignalingServer | null = null;
const bares: BareSocket[] = [];
const raws: RawTcp[] = [];
/** A close() the test started: it finishes once the clients are gone, whatever the outcome. */
let closing: Promise<unknown> | null = null;

afterEach(async () => {
  for (const bare of bares.splice(0)) bare.socket.terminate();
  for (const raw of raws.splice(0)) raw.destroy();
  await closing;
  closing = null;
  await server?.close();
  server = null;
});

describe('server.close() with a joined client that half-closed its TCP connection and reads nothing', () => {
  it('resolves within a few seconds (the close grace), cutting the client off', async () => {
    server = await startSignalingServer({
      port: 0,
      clock: new VirtualClock(),
      limits: { maxBufferedBytes: 256 * 1024 * 1024, maxMessageBytes: 200 * 1024, messagesPerSecond: 100_000, messageBurst: 100_000 },
    });
    const { port, url } = server;
    const victim = await openRawTcp(port);
    raws.push(victim);
    victim.writeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'victim' })));
    expect(await waitFor(() => victim.answered().includes('"joined"'), 5_000)).toBe(true);
    victim.socket.pause(); // reads nothing more
    const sender = await openBare(url);
    bares.push(sender);
    sender.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'sender' });
    await sender.next('joined');
    const payload = 'x'.repeat(190 * 1024);
    for (let round = 0; round < 8; round++) {
      for (let index = 0; index < 20; index++) sender.send({ type: 'signal', to: 'victim', payload });
      sender.send({ type: 'ping' });
      await sender.next('pong');
    }
    victim.socket.end(); // a FIN, no close frame
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.stats().peers).toBe(2); // still served (no close event yet)
    closing = server.close().then(() => 'closed');
    server = null;
    const outcome = await Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still closing after 6 s'), 6_000))]);
    expect(outcome).toBe('closed');
  });
});
