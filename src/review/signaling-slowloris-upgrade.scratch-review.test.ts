// Sockets that connect and never finish the HTTP upgrade are not a `connection` yet: neither
// handshakeTimeoutMs ("time from connect until joined") nor maxHandshakesPerAddress ("stops one
// host that opens sockets and says nothing") nor maxConnections applies to them. Only Node's
// http defaults end them (headersTimeout 60 s, checked every 30 s; a socket that sends no byte
// at all waits for requestTimeout / the headers check as well).
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { waitFor } from '../signaling/server/raw-frames.test-support.ts';

let server: SignalingServer | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = null;
});

async function slowSocket(port: number): Promise<{ socket: Socket; ended: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  let ended = false;
  socket.on('end', () => (ended = true));
  socket.on('close', () => (ended = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and never the rest of the headers
  return { socket, ended: () => ended };
}

describe('a socket that never finishes the HTTP upgrade (slowloris)', () => {
  it('is cut off after handshakeTimeoutMs like one that never says hello', async () => {
    server = await startSignalingServer({ port: 0, limits: { handshakeTimeoutMs: 200 } });
    const slow = await slowSocket(server.port);
    const cut = await waitFor(slow.ended, 4_000);
    expect(cut).toBe(true);
  }, 15_000);

  it('counts against maxHandshakesPerAddress: one address cannot hold more than the limit open', async () => {
    server = await startSignalingServer({ port: 0, limits: { maxHandshakesPerAddress: 2, maxConnections: 4 } });
    const slow = await Promise.all(Array.from({ length: 12 }, async () => slowSocket(server!.port)));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(slow.filter((entry) => !entry.ended()).length).toBeLessThanOrEqual(4);
  }, 15_000);
});
