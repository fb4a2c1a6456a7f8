// `startSignalingServer`: the `ws` server that introduces peers of a room to each other and
// relays their WebRTC offers, answers and candidates. It carries no Raft traffic; a peer that has
// its data channels needs the server only to reconnect.
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { realClock, type Clock } from '../clock.ts';
import { resolveServerLimits, signalingProtocolLimits, type SignalingServerLimits } from '../limits.ts';
import { createConnection, type Connection } from './connection.ts';
import type { SignalingServerEvent } from './events.ts';
import { createRoomRegistry } from './room-registry.ts';
import { createRoomLookup, type RoomResolver, type RoomTable } from './room-policy.ts';

export interface SignalingServerOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Default 127.0.0.1: exposing the server is a decision (`0.0.0.0`), not an accident. */
  readonly host?: string;
  /** Absent: every room is open. See room-policy.ts. */
  readonly rooms?: RoomTable | RoomResolver;
  /** With a room table: whether rooms not listed are served (open). Default false. */
  readonly allowUnlistedRooms?: boolean;
  readonly limits?: Partial<SignalingServerLimits>;
  /** Joins, leaves and refusals, one event each (the CLI logs them). */
  readonly onEvent?: (event: SignalingServerEvent) => void;
  /** Time source for idle and handshake timeouts and the rate limit (tests pass a virtual clock). */
  readonly clock?: Clock;
}

export interface SignalingServerStats {
  readonly connections: number;
  readonly rooms: number;
  readonly peers: number;
  readonly joins: number;
  readonly leaves: number;
  readonly refusals: number;
}

export interface SignalingServer {
  readonly port: number;
  /** `ws://host:port`, ready for `createWebSocketSignalingClient`. */
  readonly url: string;
  stats(): SignalingServerStats;
  /** Tells every client the server is closing, closes their sockets and stops listening. Idempotent. */
  close(): Promise<void>;
}

function toText(data: RawData, isBinary: boolean): { text: string | null; byteLength: number } {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { text: isBinary ? null : buffer.toString('utf8'), byteLength: buffer.byteLength };
}

/** How long a closing server waits for clients to finish the close handshake. */
const closeGraceMs = 2_000;

function closedPromise(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === socket.CLOSED) resolve();
    else socket.once('close', () => resolve());
  });
}

function listen(server: WebSocketServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

export async function startSignalingServer(options: SignalingServerOptions): Promise<SignalingServer> {
  // ws takes a port that is not a number for a pipe or socket path: 'abc' listened on a Unix
  // socket named abc in the working directory, and reported ws://127.0.0.1:0.
  if (!Number.isSafeInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new RangeError(`startSignalingServer: port must be an integer from 0 to 65535 (0 picks a free one), got ${typeof options.port === 'string' ? JSON.stringify(options.port) : String(options.port)}`);
  }
  // listen() reads an empty host as "every interface": the opposite of the loopback default.
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host.trim() === '')) {
    throw new RangeError(`startSignalingServer: host must be a non-empty host name or address (127.0.0.1 by default, 0.0.0.0 for every interface), got ${JSON.stringify(options.host)}`);
  }
  const limits = resolveServerLimits(options.limits);
  const clock = options.clock ?? realClock;
  const host = options.host ?? '127.0.0.1';
  const lookup = await createRoomLookup(options.rooms, options.allowUnlistedRooms ?? false);
  const registry = createRoomRegistry(limits);
  const counters = { joins: 0, leaves: 0, refusals: 0 };
  const report = (event: SignalingServerEvent): void => {
    if (event.type === 'joined') counters.joins++;
    else if (event.type === 'left') counters.leaves++;
    else counters.refusals++;
    options.onEvent?.(event);
  };
  const connections = new Map<WebSocket, Connection>();
  // `ws` itself drops frames beyond the protocol ceiling (with close code 1009) before buffering
  // them; frames between the configured limit and that ceiling get our explanatory error frame.
  const maxPayload = Math.max(limits.maxMessageBytes + 1, signalingProtocolLimits.maxMessageBytes);
  const server = new WebSocketServer({ port: options.port, host, maxPayload, clientTracking: false });
  const port = await listen(server);

  const handshakes = createHandshakeCounter(limits.maxHandshakesPerAddress);
  /** Sockets refused at the door, until they close: cut off at once by close(). */
  const refused = new Set<WebSocket>();

  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const remoteAddress = request.socket.remoteAddress ?? null;
    const refuse = (code: 'server-full' | 'rate-limited', message: string): void => {
      // A refused socket still reads: a bad frame on it is an 'error' event, which without a
      // listener was an uncaught exception that took the whole server down.
      socket.on('error', () => undefined);
      refused.add(socket);
      // It gets the close handshake's grace, not ws's 30 s: it was never admitted.
      const cutOff = globalThis.setTimeout(() => socket.terminate(), closeGraceMs);
      socket.on('close', () => {
        refused.delete(socket);
        globalThis.clearTimeout(cutOff);
      });
      report({ type: 'refused', code, message, roomId: null, nodeId: null, remoteAddress });
      socket.send(JSON.stringify({ type: 'error', code, message }));
      socket.close(code === 'server-full' ? 1013 : 1008, code);
    };
    if (connections.size >= limits.maxConnections) return refuse('server-full', 'too many connections');
    const settleHandshake = handshakes.begin(remoteAddress);
    if (settleHandshake === null) return refuse('rate-limited', `more than ${limits.maxHandshakesPerAddress} connections from this address are still joining`);
    const connection = createConnection(
      {
        // A client that stops reading would make ws buffer without end: cut it off instead.
        send: (text) => (socket.bufferedAmount > limits.maxBufferedBytes ? socket.terminate() : socket.send(text)),
        close: (code, reason) => socket.close(code, reason),
      },
      {
        limits,
        clock,
        lookup,
        registry,
        report,
        remoteAddress,
        joined: settleHandshake,
        finished: () => {
          settleHandshake();
          connections.delete(socket);
        },
      },
    );
    connections.set(socket, connection);
    socket.on('message', (data, isBinary) => {
      const { text, byteLength } = toText(data, isBinary);
      connection.receive(text, byteLength);
    });
    socket.on('close', () => connection.socketClosed());
    // A socket error is followed by `close`; handling it here keeps one bad client from becoming
    // an uncaught exception that would take the whole server down. A frame over maxPayload is one
    // (ws closes with 1009 before reading it): a refusal like any other, in events and stats.
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.frameRefusedBySocket(maxPayload);
    });
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Stop listening first: a client admitted now would miss `server-closing` and, since the
      // listener's close waits for every socket, hold the shutdown open for as long as it stays.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of refused) socket.terminate();
      const sockets = [...connections.keys()];
      const allClosed = Promise.all(sockets.map(closedPromise));
      for (const [, connection] of [...connections]) connection.fail('server-closing', 'the signaling server is shutting down');
      // A client that never answers the close handshake must not hold the shutdown hostage.
      const deadline = globalThis.setTimeout(() => sockets.forEach((socket) => socket.terminate()), closeGraceMs);
      await allClosed;
      globalThis.clearTimeout(deadline);
      await stopped;
    })();
    return closing;
  };

  return {
    port,
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stats: () => ({ connections: connections.size, rooms: registry.roomCount, peers: registry.memberCount, ...counters }),
    close,
  };
}

/**
 * Sockets per remote address still in the handshake. `begin` returns the call that ends this
 * socket's handshake (joined, or gone; a second call does nothing), or null when the address is
 * at the limit. Sockets without an address (a closed one) are not counted.
 */
function createHandshakeCounter(limit: number): { begin(address: string | null): (() => void) | null } {
  const pending = new Map<string, number>();
  return {
    begin(address) {
      if (address === null) return () => undefined;
      const count = pending.get(address) ?? 0;
      if (count >= limit) return null;
      pending.set(address, count + 1);
      let settled = false;
      return () => {
        if (settled) return;
        settled = true;
        const left = (pending.get(address) ?? 1) - 1;
        if (left === 0) pending.delete(address);
        else pending.set(address, left);
      };
    },
  };
}
