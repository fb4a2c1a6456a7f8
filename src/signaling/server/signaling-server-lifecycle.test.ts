// startSignalingServer from the outside (the `raftmesh/signaling-server` entry and the package
// root): the port and url it reports, how close behaves, and refusing to start. Bare `ws`
// sockets stand in for clients, so nothing here leans on the library's own client.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startSignalingServer as startFromRoot } from '../../index.ts';
import { helloBare, type BareSocket } from './bare-socket.test-support.ts';
import { startSignalingServer, type SignalingServer } from './index.ts';

const servers: SignalingServer[] = [];
const sockets: WebSocket[] = [];

async function start(port = 0): Promise<SignalingServer> {
  const server = await startSignalingServer({ port });
  servers.push(server);
  return server;
}

/** Says hello to an open room on a bare socket. */
async function hello(url: string, roomId: string, nodeId: string): Promise<BareSocket> {
  const bare = await helloBare(url, roomId, nodeId);
  sockets.push(bare.socket);
  return bare;
}

function connectionRefused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.on('open', () => {
      socket.terminate();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const blocker = createServer();
    blocker.once('error', reject);
    blocker.listen(port, '127.0.0.1', () => resolve(blocker));
  });
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('startSignalingServer: address and lifecycle', () => {
  it('port 0 picks a free port and reports it, with a ws:// url on loopback that serves', async () => {
    const server = await start(0);
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    const peer = await hello(server.url, 'room', 'a');
    expect(await peer.next('joined')).toMatchObject({ type: 'joined', roomId: 'room', nodeId: 'a', peers: [] });
    expect(server.stats()).toMatchObject({ connections: 1, rooms: 1, peers: 1, joins: 1 });
  });

  it('the package root starts the same server', async () => {
    const server = await startFromRoot({ port: 0 });
    servers.push(server);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    await (await hello(server.url, 'room', 'a')).next('joined');
  });

  it('close tells clients, stops listening, frees the port, and is idempotent', async () => {
    const server = await start();
    const peer = await hello(server.url, 'room', 'a');
    await peer.next('joined');
    const first = server.close();
    const second = server.close();
    await Promise.all([first, second]);
    await server.close();
    expect(await peer.next('error')).toMatchObject({ code: 'server-closing' });
    expect(await peer.closed).toBe(1001);
    expect(server.stats()).toMatchObject({ connections: 0, rooms: 0, peers: 0 });
    expect(await connectionRefused(server.url)).toBe(true);
    // The port is free again: a new server can take it.
    const again = await start(server.port);
    expect(again.port).toBe(server.port);
  });

  it('admits no client while closing, and close still finishes', async () => {
    const server = await start();
    const slow = await hello(server.url, 'room', 'slow');
    await slow.next('joined');
    // `slow` stops reading, so the server waits (up to its grace period) for its close handshake.
    slow.socket.pause();
    const closing = server.close();
    let finished = false;
    void closing.then(() => (finished = true));
    // A client arriving meanwhile must not be admitted into a server that is going away.
    const late = await hello(server.url, 'room', 'late').catch(() => null);
    if (late !== null) {
      // Its first answer (or its socket closing) decides: it must not be `joined`.
      const first = await Promise.race([late.next('joined'), late.next('error'), late.closed.then(() => null)]);
      expect(first?.type).not.toBe('joined');
    }
    await closing;
    expect(finished).toBe(true);
    expect(server.stats()).toMatchObject({ connections: 0, peers: 0 });
  });

  it('refuses to start on a port in use, with the reason', async () => {
    const blocker = await listenOn(0);
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await expect(startSignalingServer({ port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('refuses a room table naming a room no client can join, or keyed with an empty secret', async () => {
    await expect(startSignalingServer({ port: 0, rooms: { '': {} } })).rejects.toThrow(/startSignalingServer rooms: the room id must be 1 \.\. 128 characters/);
    await expect(startSignalingServer({ port: 0, rooms: { ['r'.repeat(300)]: {} } })).rejects.toThrow(/the room id must be 1 \.\. 128 characters/);
    await expect(startSignalingServer({ port: 0, rooms: { board: { secret: '' } } })).rejects.toThrow(/room secret must be a non-empty string/);
  });

  it('refuses an invalid port', async () => {
    await expect(startSignalingServer({ port: -1 })).rejects.toThrow(/port/i);
    await expect(startSignalingServer({ port: 70_000 })).rejects.toThrow(/port/i);
  });

  it('refuses an empty host, which listen() would take for every interface rather than loopback', async () => {
    for (const host of ['', ' ']) {
      await expect(startSignalingServer({ port: 0, host })).rejects.toThrow(/^startSignalingServer: host must be a non-empty host name or address \(127\.0\.0\.1 by default, 0\.0\.0\.0 for every interface\), got "/);
    }
  });
});
