// `startSignalingServer`: the `ws` server that introduces peers of a room to each other and
// relays their WebRTC offers, answers and candidates. It carries no Raft traffic; a peer that has
// its data channels needs the server only to reconnect.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { realClock, type Clock } from '../clock.ts';
import { resolveServerLimits, signalingProtocolLimits, type SignalingServerLimits } from '../limits.ts';
import { acceptSocket, type SocketTable } from './accept-socket.ts';
import type { SignalingServerEvent } from './events.ts';
import { createClosingSockets } from './closing-sockets.ts';
import { createHandshakeCounter } from './handshake-counter.ts';
import { boundPendingUpgrades } from './pending-upgrades.ts';
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
  /** Joins, leaves and refusals, one event each (the CLI logs them). An exception thrown here is ignored. */
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

/**
 * How long a socket the server closes (refused, failed, or at shutdown) has to finish the close
 * handshake before it is cut off (ws's closeTimeout; its default of 30 s let a client that never
 * answers hold its socket, outside every count, and a closing server, that long). ws arms its
 * timer only for a socket still OPEN, so closing-sockets.ts and close() keep their own, in real
 * time like ws's: under a test's virtual clock nobody would advance them.
 */
const closeGraceMs = 2_000;

function closedPromise(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === socket.CLOSED) resolve();
    else socket.once('close', () => resolve());
  });
}

/** A plain HTTP request (no upgrade) is answered 426, as ws's own HTTP server answers it. */
function upgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  const body = STATUS_CODES[426] ?? 'Upgrade Required';
  response.writeHead(426, { 'Content-Length': Buffer.byteLength(body), 'Content-Type': 'text/plain' });
  response.end(body);
}

/** Listens, with errors (a port in use) heard through ws, which passes the HTTP server's on. */
function listen(httpServer: Server, server: WebSocketServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = httpServer.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
    httpServer.listen(port, host);
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
    try {
      options.onEvent?.(event);
    } catch (_error) {
      // A logger's failure must not fail the join, signal or leave it reports: thrown here, it
      // left a joined peer unanswered and, from a socket's event handler, was an unhandled error.
    }
  };
  const sockets: SocketTable = { connections: new Map(), closing: createClosingSockets(limits.maxHandshakesPerAddress, closeGraceMs, realClock) };
  // `ws` itself drops frames beyond the protocol ceiling (with close code 1009) before buffering
  // them; frames between the configured limit and that ceiling get our explanatory error frame.
  const maxPayload = Math.max(limits.maxMessageBytes + 1, signalingProtocolLimits.maxMessageBytes);
  // Our own HTTP server, not ws's: its sockets must be bounded before they upgrade.
  const httpServer = createServer(upgradeRequired);
  const upgrading = boundPendingUpgrades(httpServer, limits, clock, report);
  // No automatic pongs: accept-socket.ts answers pings under the bound on what a client may leave
  // unread. closeTimeout is ws's (8.23); @types/ws does not list it yet.
  const serverOptions: ServerOptions & { readonly closeTimeout: number } = { server: httpServer, maxPayload, clientTracking: false, closeTimeout: closeGraceMs, autoPong: false };
  const server = new WebSocketServer(serverOptions);
  const port = await listen(httpServer, server, options.port, host);
  const handshakes = createHandshakeCounter(limits.maxHandshakesPerAddress);
  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    upgrading.upgraded(request.socket);
    acceptSocket(socket, request.socket.remoteAddress ?? null, { limits, clock, lookup, registry, report, sockets, handshakes, maxPayload });
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Stop listening first: a client admitted now would miss `server-closing` and, since the
      // listener's close waits for every socket, hold the shutdown open for as long as it stays.
      const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      server.close(); // no more upgrades (ws leaves an HTTP server it did not create to us)
      upgrading.destroyAll();
      sockets.closing.shutDown();
      const served = [...sockets.connections];
      const allClosed = Promise.all(served.map(([socket]) => closedPromise(socket)));
      for (const [, connection] of served) connection.fail('server-closing', 'the signaling server is shutting down');
      // A client that never answers the close handshake is cut off after the grace: failed, each
      // socket is in `closing`, which bounds it, but close() keeps its own deadline rather than
      // rest on that for every socket in every state (it is what lets the CLI exit on SIGTERM).
      const deadline = realClock.setTimeout(() => {
        for (const [socket] of served) socket.terminate();
      }, closeGraceMs);
      await allClosed;
      realClock.clearTimeout(deadline);
      await stopped;
    })();
    return closing;
  };

  return {
    port,
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stats: () => ({ connections: sockets.connections.size, rooms: registry.roomCount, peers: registry.memberCount, ...counters }),
    close,
  };
}
