// TCP sockets that have connected but not yet finished the HTTP request that upgrades them to a
// WebSocket. They are no `connection` yet, so none of the handshake bounds reached them: a client
// that sent half a request (slowloris), or nothing, kept its socket for Node's own HTTP timeouts
// (a minute and more, or for good), however many it opened. Each now has handshakeTimeoutMs to
// finish its upgrade, and they are bounded like sockets still joining: maxHandshakesPerAddress
// per remote address, maxConnections in all. A socket over a bound or out of time is destroyed
// (it speaks no WebSocket yet: no error frame can tell it why) and the refusal reported.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../clock.ts';
import type { SignalingServerLimits } from '../limits.ts';
import type { SignalingServerEvent } from './events.ts';
import { createHandshakeCounter } from './handshake-counter.ts';

export interface PendingUpgrades {
  /** The socket is a WebSocket now: the connection's own handshake bounds it from here. */
  upgraded(socket: Socket): void;
  /** Server shutdown: a socket halfway through its request would hold the listener's close. */
  destroyAll(): void;
}

export function boundPendingUpgrades(
  server: Server,
  limits: SignalingServerLimits,
  clock: Clock,
  report: (event: SignalingServerEvent) => void,
): PendingUpgrades {
  const pending = new Map<Socket, { readonly timer: unknown; readonly settle: () => void }>();
  const perAddress = createHandshakeCounter(limits.maxHandshakesPerAddress);
  const forget = (socket: Socket): void => {
    const entry = pending.get(socket);
    if (entry === undefined) return;
    pending.delete(socket);
    clock.clearTimeout(entry.timer);
    entry.settle();
  };
  server.on('connection', (socket: Socket) => {
    const remoteAddress = socket.remoteAddress ?? null;
    const refuse = (code: 'server-full' | 'rate-limited' | 'handshake-timeout', message: string): void => {
      forget(socket);
      report({ type: 'refused', code, message, roomId: null, nodeId: null, remoteAddress });
      socket.destroy();
    };
    if (pending.size >= limits.maxConnections) return refuse('server-full', `more than ${limits.maxConnections} connections are still upgrading to WebSocket`);
    const settle = perAddress.begin(remoteAddress);
    if (settle === null) return refuse('rate-limited', `more than ${limits.maxHandshakesPerAddress} connections from this address are still upgrading to WebSocket`);
    const timer = clock.setTimeout(() => refuse('handshake-timeout', `the WebSocket upgrade did not finish within ${limits.handshakeTimeoutMs} ms`), limits.handshakeTimeoutMs);
    pending.set(socket, { timer, settle });
    socket.once('close', () => forget(socket));
  });
  return {
    upgraded: forget,
    destroyAll() {
      for (const socket of [...pending.keys()]) {
        forget(socket);
        socket.destroy();
      }
    },
  };
}
