// The signaling server against clients that lie, misbehave or just hold the wrong secret, and
// many rooms at once: each refusal is clear, counted, and touches nobody else. Black box: the
// `raftmesh/signaling-server` and `raftmesh/webrtc` entries and bare `ws` sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { nodeId } from '../../index.ts';
import { createWebSocketSignalingClient, SignalingRefusedError, signalingProtocolLimits, type WebSocketConstructor } from '../../webrtc.ts';
import { helloBare, openBare, type BareSocket } from './bare-socket.test-support.ts';
import { openRawTcp, waitFor, type RawTcp } from './raw-frames.test-support.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerEvent, type SignalingServerOptions } from './index.ts';

let server: SignalingServer | null = null;
const sockets: BareSocket[] = [];
const raws: RawTcp[] = [];

async function start(options: Partial<SignalingServerOptions> = {}): Promise<SignalingServer> {
  server = await startSignalingServer({ port: 0, ...options });
  return server;
}

async function joined(url: string, roomId: string, id: string): Promise<BareSocket> {
  const bare = await helloBare(url, roomId, id);
  sockets.push(bare);
  await bare.next('joined');
  return bare;
}

async function stillServes(bare: BareSocket): Promise<void> {
  bare.send({ type: 'ping' });
  await bare.next('pong');
}

/** A raw socket that has said hello to an open room and been told it joined. */
async function joinedRaw(port: number, roomId: string, id: string): Promise<RawTcp> {
  const raw = await openRawTcp(port);
  raws.push(raw);
  raw.writeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', protocol: 1, roomId, nodeId: id })));
  expect(await waitFor(() => raw.answered().includes('"joined"'), 5_000)).toBe(true);
  return raw;
}

afterEach(async () => {
  for (const bare of sockets.splice(0)) bare.socket.terminate();
  for (const raw of raws.splice(0)) raw.destroy();
  await server?.close();
  server = null;
});

describe('a wrong room secret', () => {
  it('is refused with a clear error through the public client, reported and counted, and not retried', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ rooms: { team: { secret: 'the right one' } }, onEvent: (event) => events.push(event) });
    const client = createWebSocketSignalingClient({ url, roomId: 'team', nodeId: nodeId('eve'), secret: 'a guess', WebSocket: WebSocket as unknown as WebSocketConstructor });
    const reason = await client.closed;
    expect(reason).toBeInstanceOf(SignalingRefusedError);
    expect(reason).toMatchObject({ code: 'admission-refused' });
    expect(String(reason)).toMatch(/secret does not match/);
    expect(server?.stats()).toMatchObject({ refusals: 1, joins: 0, peers: 0 });
    expect(events).toEqual([expect.objectContaining({ type: 'refused', code: 'admission-refused', roomId: 'team', nodeId: 'eve' })]);
    // The right secret still gets in afterwards.
    const good = createWebSocketSignalingClient({ url, roomId: 'team', nodeId: nodeId('ann'), secret: 'the right one', WebSocket: WebSocket as unknown as WebSocketConstructor });
    await new Promise<void>((resolve) => good.status.subscribe((status) => status === 'joined' && resolve()));
    good.close();
    expect(server?.stats().refusals).toBe(1);
  });

  it('cannot take over an admitted node id: the impostor is refused and the holder stays', async () => {
    const { url } = await start({ rooms: { team: { secret: 'the right one' } } });
    const holder = createWebSocketSignalingClient({ url, roomId: 'team', nodeId: nodeId('ann'), secret: 'the right one', WebSocket: WebSocket as unknown as WebSocketConstructor });
    await new Promise<void>((resolve) => holder.status.subscribe((status) => status === 'joined' && resolve()));
    const impostor = await helloBare(url, 'team', 'ann');
    sockets.push(impostor);
    await impostor.next('challenge');
    impostor.send({ type: 'challenge-response', proof: 'f'.repeat(64) });
    expect(await impostor.next('error')).toMatchObject({ code: 'admission-refused' });
    expect(server?.stats()).toMatchObject({ peers: 1, leaves: 0, refusals: 1 });
    expect(holder.status.value).toBe('joined');
    holder.close();
  });

  it('cannot take a live member\'s node id in an open room: the holder stays joined, the impostor is refused each time it retries', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ limits: { memberProbeTimeoutMs: 1_000 }, onEvent: (event) => events.push(event) });
    const holder = createWebSocketSignalingClient({ url, roomId: 'open', nodeId: nodeId('ann'), WebSocket: WebSocket as unknown as WebSocketConstructor });
    await new Promise<void>((resolve) => holder.status.subscribe((status) => status === 'joined' && resolve()));
    const statuses: string[] = [];
    holder.status.subscribe((status) => statuses.push(status));
    const impostor = createWebSocketSignalingClient({
      url,
      roomId: 'open',
      nodeId: nodeId('ann'),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      limits: { reconnectDelayMinMs: 10, reconnectDelayMaxMs: 20, reconnectAttemptsMax: 2 },
    });
    const reason = await impostor.closed;
    expect(reason?.name).toBe('SignalingUnreachableError');
    expect(reason?.message).toMatch(/member-in-use: node id "ann" is held by a live connection/);
    expect(events.filter((event) => event.type === 'refused').map((event) => event.type === 'refused' && event.code)).toEqual(['member-in-use', 'member-in-use', 'member-in-use']);
    expect(holder.status.value).toBe('joined');
    expect(statuses).toEqual([]); // no change since it joined
    expect(server?.stats()).toMatchObject({ peers: 1, leaves: 0 });
    holder.close();
  });

  it('room names that are Object.prototype keys are just unknown rooms', async () => {
    const { url } = await start({ rooms: { team: { secret: 's' } } });
    for (const roomId of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const bare = await helloBare(url, roomId, 'n');
      sockets.push(bare);
      expect(await bare.next('error')).toMatchObject({ code: 'room-unknown' });
      expect(await bare.closed).toBe(1008);
    }
    expect(server?.stats()).toMatchObject({ refusals: 4, peers: 0, rooms: 0 });
  });
});

describe('message sizes', () => {
  it('a frame above the configured limit gets too-large; one above the protocol ceiling is cut at the socket; both are counted refusals and leave others alone', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ limits: { maxMessageBytes: 8 * 1024 }, onEvent: (event) => events.push(event) });
    const bystander = await joined(url, 'calm', 'c');
    const big = await joined(url, 'room', 'big');
    big.send({ type: 'signal', to: 'c', payload: 'x'.repeat(16 * 1024) });
    expect(await big.next('error')).toMatchObject({ code: 'too-large' });
    expect(await big.closed).toBe(1009);
    const huge = await joined(url, 'room', 'huge');
    huge.send({ type: 'signal', to: 'c', payload: 'x'.repeat(1024 * 1024) });
    expect(await huge.closed).toBe(1009);
    await stillServes(bystander);
    expect(server?.stats()).toMatchObject({ connections: 1, peers: 1, refusals: 2 });
    // Before, the socket's own cut left no trace: no event, no count.
    expect(events.filter((event) => event.type === 'refused')).toEqual([
      expect.objectContaining({ code: 'too-large', roomId: 'room', nodeId: 'big' }),
      expect.objectContaining({ code: 'too-large', roomId: 'room', nodeId: 'huge', message: expect.stringMatching(/closed by the socket, code 1009/) }),
    ]);
  });

  it('a limit whose relayed signals could outgrow what clients read is refused; at the largest taken, a signal from the longest id reaches its addressee, who stays joined', async () => {
    // The relayed frame is larger than the one received ("from" and the sender's id where the
    // client wrote "to" and the addressee's): at 256 KiB the addressee's parser refused it and
    // the addressee dropped its connection, the signal lost, each time such a signal came.
    await expect(start({ limits: { maxMessageBytes: signalingProtocolLimits.maxMessageBytes } })).rejects.toThrow(
      'signaling limit maxMessageBytes must be an integer in 1024 .. 261120 (the 262144 bytes a client reads, less 1024 for the sender\'s id a relayed signal gains), got 262144',
    );
    const largest = signalingProtocolLimits.maxMessageBytes - 1024;
    const { url } = await start({ limits: { maxMessageBytes: largest } });
    const receiver = createWebSocketSignalingClient({ url, roomId: 'room', nodeId: nodeId('b'), WebSocket: WebSocket as unknown as WebSocketConstructor });
    const statuses: string[] = [];
    const received: Array<[string, number]> = [];
    receiver.signals.subscribe((signal) => received.push([signal.from, signal.payload.length]));
    await new Promise<void>((resolve) => receiver.status.subscribe((status) => status === 'joined' && resolve()));
    receiver.status.subscribe((status) => statuses.push(status));
    const senderId = '€'.repeat(signalingProtocolLimits.maxNodeIdLength); // 768 bytes of UTF-8
    const sender = await joined(url, 'room', senderId);
    const payload = 'p'.repeat(largest - Buffer.byteLength(JSON.stringify({ type: 'signal', to: 'b', payload: '' })));
    sender.send({ type: 'signal', to: 'b', payload });
    await stillServes(sender);
    for (let waited = 0; received.length === 0 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received).toEqual([[senderId, payload.length]]);
    expect(statuses).toEqual([]); // never back to connecting
    receiver.close();
  });

  it('a frame just under the configured limit is relayed whole', async () => {
    const { url } = await start({ limits: { maxMessageBytes: 8 * 1024 } });
    const a = await joined(url, 'room', 'a');
    const b = await joined(url, 'room', 'b');
    const payload = 'p'.repeat(8 * 1024 - 100);
    b.send({ type: 'signal', to: 'a', payload });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload });
  });
});

describe('hostile frames', () => {
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const cases: Array<[string, string | object]> = [
    ['JSON null', 'null'],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"hello"'],
    ['deeply nested arrays', deep],
    ['a prototype-polluting object', '{"__proto__":{"type":"ping"},"type":"hello","protocol":1,"roomId":"r","nodeId":"n"}'],
    ['a type named __proto__', { type: '__proto__' }],
    ['an empty room id', { type: 'hello', protocol: 1, roomId: '', nodeId: 'n' }],
    ['a numeric node id', { type: 'hello', protocol: 1, roomId: 'r', nodeId: 7 }],
    ['an extra field', { type: 'hello', protocol: 1, roomId: 'r', nodeId: 'n', admin: true }],
    ['an invalid UTF-8 text frame', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ];
  for (const [name, frame] of cases) {
    it(`refuses ${name} with an error frame, disconnects only that client, and keeps serving`, async () => {
      const { url } = await start();
      const a = await joined(url, 'room', 'a');
      const b = await joined(url, 'room', 'b');
      const hostile = await openBare(url);
      sockets.push(hostile);
      if (Buffer.isBuffer(frame)) hostile.socket.send(frame, { binary: false });
      else hostile.send(frame);
      const code = await hostile.closed;
      expect(code === 1008 || code === 1007 || code === 1009).toBe(true);
      if (!Buffer.isBuffer(frame)) expect(hostile.messages.map((message) => message.type)).toEqual(['error']);
      b.send({ type: 'signal', to: 'a', payload: 'fine' });
      expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: 'fine' });
      expect(server?.stats()).toMatchObject({ connections: 2, peers: 2, rooms: 1 });
    });
  }
});

describe('frames ws refuses itself, before the server reads them', () => {
  const cases: Array<[string, (raw: RawTcp) => void, RegExp]> = [
    ['a text frame that is not UTF-8', (raw) => raw.writeFrame(0x1, Buffer.from([0xff, 0xfe, 0x7b])), /invalid UTF-8 sequence/],
    ['an unmasked frame from a client', (raw) => raw.writeFrame(0x1, Buffer.from('{"type":"ping"}'), { masked: false }), /MASK must be set/],
    ['a reserved opcode', (raw) => raw.writeFrame(0x3, Buffer.from('x')), /invalid opcode 3/],
  ];
  for (const [name, write, reason] of cases) {
    it(`(${name}) from a joined client are a counted refusal, reported once, and the client leaves`, async () => {
      const events: SignalingServerEvent[] = [];
      const { port } = await start({ onEvent: (event) => events.push(event) });
      const raw = await joinedRaw(port, 'room', 'mallory');
      write(raw);
      expect(await waitFor(() => server?.stats().connections === 0, 5_000)).toBe(true);
      // Before, a plain leave ("disconnected"): no refusal in events or stats.
      expect(events.filter((event) => event.type !== 'joined')).toEqual([
        { type: 'refused', code: 'malformed', message: expect.stringMatching(reason), roomId: 'room', nodeId: 'mallory', remoteAddress: expect.stringMatching(/127\.0\.0\.1/) },
        { type: 'left', roomId: 'room', nodeId: 'mallory', reason: 'malformed', peers: 0 },
      ]);
      expect(server?.stats()).toMatchObject({ refusals: 1, leaves: 1 });
    });
  }

  it('(a text frame that is not UTF-8) before any hello is a counted refusal too', async () => {
    const events: SignalingServerEvent[] = [];
    const { port } = await start({ onEvent: (event) => events.push(event) });
    const raw = await openRawTcp(port);
    raws.push(raw);
    raw.writeFrame(0x1, Buffer.from([0xc3, 0x28]));
    expect(await waitFor(() => server?.stats().connections === 0, 5_000)).toBe(true);
    expect(events).toEqual([expect.objectContaining({ type: 'refused', code: 'malformed', roomId: null, nodeId: null })]);
    expect(server?.stats().refusals).toBe(1);
  });
});

describe('a socket failed after it was admitted, whose client never answers the close frame', () => {
  it('does not hold close() for ws\'s 30 s close timeout: close() cuts it off at once', async () => {
    const { port } = await start();
    const raw = await openRawTcp(port);
    raws.push(raw);
    raw.writeFrame(0x1, Buffer.from('{"type":'));
    expect(await waitFor(() => raw.answered().includes('malformed'), 5_000)).toBe(true);
    const closed = server?.close().then(() => 'closed');
    server = null;
    const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still closing'), 1_900))]);
    expect(outcome).toBe('closed');
    expect(await waitFor(() => raw.ended(), 5_000)).toBe(true);
  });

  it('counts against maxConnections until it closes, and is cut off after the close grace (2 s)', async () => {
    const events: SignalingServerEvent[] = [];
    const { port, url } = await start({ limits: { maxConnections: 2 }, onEvent: (event) => events.push(event) });
    const failed = await Promise.all([1, 2].map(async () => {
      const raw = await openRawTcp(port);
      raws.push(raw);
      raw.writeFrame(0x1, Buffer.from('not json'));
      expect(await waitFor(() => raw.answered().includes('malformed'), 5_000)).toBe(true);
      return raw;
    }));
    expect(server?.stats().connections).toBe(0); // no longer served...
    // ...but still open, so a third is refused: before, it was admitted, with 30 s sockets beside it.
    const third = await openRawTcp(port);
    raws.push(third);
    expect(await waitFor(() => third.answered().includes('server-full'), 5_000)).toBe(true);
    third.destroy();
    expect(await waitFor(() => failed.every((raw) => raw.ended()), 5_000)).toBe(true);
    await joined(url, 'room', 'a');
    expect(events.filter((event) => event.type === 'refused').map((event) => event.type === 'refused' && event.code)).toEqual(['malformed', 'malformed', 'server-full']);
  });
});

describe('too many connections', () => {
  it('a connection beyond maxConnections is refused with server-full, reported as a refusal and counted; the others keep working', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ limits: { maxConnections: 2 }, onEvent: (event) => events.push(event) });
    const a = await joined(url, 'room', 'a');
    const b = await joined(url, 'room', 'b');
    const extra = await openBare(url);
    sockets.push(extra);
    expect(await extra.next('error')).toMatchObject({ code: 'server-full' });
    expect(await extra.closed).toBe(1013);
    expect(server?.stats()).toMatchObject({ connections: 2, refusals: 1 });
    // Every refusal the stats count is also an event (the CLI's log line).
    expect(events.filter((event) => event.type === 'refused')).toEqual([expect.objectContaining({ type: 'refused', code: 'server-full', roomId: null, nodeId: null })]);
    b.send({ type: 'signal', to: 'a', payload: 'fine' });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: 'b', payload: 'fine' });
  });
});

describe('a socket refused at the door', () => {
  for (const [code, limits] of [['server-full', { maxConnections: 1 }], ['rate-limited', { maxHandshakesPerAddress: 1 }]] as const) {
    it(`(${code}) that then sends a bad frame and never answers the close does not take the server down, nor hold its close for long`, async () => {
      const { url, port } = await start({ limits });
      const holder = await openBare(url); // holds the one place
      sockets.push(holder);
      // A raw socket: the upgrade, then at once an unmasked frame, which ws reads as an error.
      const raw = connect(port, '127.0.0.1');
      raw.on('error', () => undefined);
      await new Promise((resolve) => raw.once('connect', resolve));
      let answered = '';
      raw.on('data', (data: Buffer) => (answered += data.toString('latin1')));
      raw.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'));
      raw.write(Buffer.from([0x81, 0x01, 0x41]));
      for (let waited = 0; !answered.includes(code) && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(answered).toContain(code);
      await stillServes(holder);
      // The raw socket never answers the close frame: close() cuts it off instead of waiting on ws's 30 s.
      const closing = Date.now();
      await server?.close();
      server = null;
      expect(Date.now() - closing).toBeLessThan(15_000);
      raw.destroy();
    });
  }
});

describe('half-open handshakes from one address', () => {
  it('beyond maxHandshakesPerAddress are refused with rate-limited; joined sockets and closed ones no longer count', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ limits: { maxHandshakesPerAddress: 3 }, onEvent: (event) => events.push(event) });
    const silent = await Promise.all([1, 2, 3].map(async () => {
      const bare = await openBare(url);
      sockets.push(bare);
      return bare;
    }));
    const fourth = await openBare(url);
    sockets.push(fourth);
    expect(await fourth.next('error')).toMatchObject({ code: 'rate-limited', message: expect.stringMatching(/more than 3 connections from this address are still joining/) });
    expect(await fourth.closed).toBe(1008);
    expect(events.filter((event) => event.type === 'refused')).toEqual([expect.objectContaining({ code: 'rate-limited', roomId: null, nodeId: null, remoteAddress: expect.stringMatching(/127\.0\.0\.1/) })]);
    // One of the three joins: its place frees up.
    silent[0]!.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'a' });
    await silent[0]!.next('joined');
    const fifth = await joined(url, 'room', 'b');
    // One closes: its place frees up too.
    silent[1]!.socket.close();
    await silent[1]!.closed;
    // The server sees the close once its connection count drops (no fixed wait: CI is loaded).
    for (let waited = 0; (server?.stats().connections ?? 0) > 3 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const sixth = await joined(url, 'room', 'c');
    await stillServes(fifth);
    await stillServes(sixth);
    expect(server?.stats()).toMatchObject({ peers: 3, refusals: 1 });
  });
});

describe('sockets that never finish the HTTP upgrade (slowloris)', () => {
  interface SlowSocket {
    /** True once the server has closed it. */
    ended(): boolean;
    destroy(): void;
  }
  const slowSockets: SlowSocket[] = [];
  afterEach(() => {
    for (const slow of slowSockets.splice(0)) slow.destroy();
  });
  /** A TCP socket that sends `request` (half of one, or nothing) and never the rest. */
  async function slowSocket(port: number, request: string): Promise<SlowSocket> {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let ended = false;
    socket.on('close', () => (ended = true));
    await new Promise((resolve) => socket.once('connect', resolve));
    if (request !== '') socket.write(request);
    const slow = { ended: () => ended, destroy: () => socket.destroy() };
    slowSockets.push(slow);
    return slow;
  }
  const halfRequest = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n';

  it('are cut off after handshakeTimeoutMs, half a request or no byte at all, and reported (Node\'s own timeouts took a minute or more)', async () => {
    const events: SignalingServerEvent[] = [];
    const { port } = await start({ limits: { handshakeTimeoutMs: 200 }, onEvent: (event) => events.push(event) });
    const half = await slowSocket(port, halfRequest);
    const silent = await slowSocket(port, '');
    expect(await waitFor(() => half.ended() && silent.ended(), 4_000)).toBe(true);
    expect(events).toEqual([1, 2].map(() => ({ type: 'refused', code: 'handshake-timeout', message: 'the WebSocket upgrade did not finish within 200 ms', roomId: null, nodeId: null, remoteAddress: expect.stringMatching(/127\.0\.0\.1/) })));
    expect(server?.stats()).toMatchObject({ connections: 0, refusals: 2 });
  });

  it('count against maxHandshakesPerAddress and maxConnections: more are cut off at once, and a place frees up when one goes', async () => {
    const events: SignalingServerEvent[] = [];
    const { port, url } = await start({ limits: { maxHandshakesPerAddress: 2 }, onEvent: (event) => events.push(event) });
    const slow: SlowSocket[] = [];
    for (let index = 0; index < 6; index++) slow.push(await slowSocket(port, halfRequest));
    expect(await waitFor(() => slow.filter((socket) => socket.ended()).length === 4, 4_000)).toBe(true);
    expect(slow.map((socket) => socket.ended())).toEqual([false, false, true, true, true, true]);
    expect(events).toEqual([3, 4, 5, 6].map(() => expect.objectContaining({ type: 'refused', code: 'rate-limited', message: 'more than 2 connections from this address are still upgrading to WebSocket' })));
    slow[0]?.destroy();
    // Its place frees up once the server has seen it close (until then a newcomer is cut off too).
    for (let attempt = 0; ; attempt++) {
      const admitted = await joined(url, 'room', 'a').then(() => true, () => false);
      if (admitted) break;
      expect(attempt).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await joined(url, 'room', 'b'); // a upgraded: it no longer counts
    await server?.close();
    // In all, beyond maxConnections (here under the per-address bound).
    events.splice(0);
    const { port: secondPort } = await start({ limits: { maxConnections: 2, maxHandshakesPerAddress: 10 }, onEvent: (event) => events.push(event) });
    const crowd: SlowSocket[] = [];
    for (let index = 0; index < 3; index++) crowd.push(await slowSocket(secondPort, halfRequest));
    expect(await waitFor(() => crowd[2]?.ended() === true, 4_000)).toBe(true);
    expect(crowd.map((socket) => socket.ended())).toEqual([false, false, true]);
    expect(events).toEqual([expect.objectContaining({ type: 'refused', code: 'server-full', message: 'more than 2 connections are still upgrading to WebSocket' })]);
  });
});

describe('many rooms', () => {
  it('keep the same node ids apart: peer lists, signals and leaves stay in their room', async () => {
    const { url } = await start();
    const roomCount = 25;
    const rooms = await Promise.all(
      Array.from({ length: roomCount }, async (_, index) => {
        const a = await joined(url, `room-${index}`, 'a');
        const b = await joined(url, `room-${index}`, 'b');
        return { a, b };
      }),
    );
    expect(server?.stats()).toMatchObject({ rooms: roomCount, peers: 2 * roomCount });
    rooms.forEach(({ a }, index) => a.send({ type: 'signal', to: 'b', payload: `for room ${index}` }));
    for (const [index, { a, b }] of rooms.entries()) {
      expect(await b.next('signal')).toEqual({ type: 'signal', from: 'a', payload: `for room ${index}` });
      expect(b.messages.find((message) => message.type === 'joined')?.peers).toEqual(['a']);
      expect(a.messages.filter((message) => message.type === 'peer-joined')).toEqual([{ type: 'peer-joined', nodeId: 'b' }]);
    }
    // One b leaves: only its own room hears of it.
    const leaving = rooms[0]?.b;
    leaving?.socket.close();
    await rooms[0]?.a.next('peer-left');
    for (const { a, b } of rooms.slice(1)) {
      await stillServes(a);
      expect(a.messages.some((message) => message.type === 'peer-left')).toBe(false);
      expect(b.messages.filter((message) => message.type === 'signal')).toHaveLength(1);
    }
    expect(server?.stats()).toMatchObject({ rooms: roomCount, peers: 2 * roomCount - 1 });
  });
});
