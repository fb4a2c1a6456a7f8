// Sockets the server is done with (refused at the door, or failed after it admitted them) that
// have not closed yet. They still hold a file descriptor and buffers, so they count against
// maxConnections; two bounds keep that from becoming a way to lock everyone out:
// - time: each is cut off (terminate) after the close grace unless it closes first. ws's own
//   closeTimeout is not enough: ws arms it only when close() is called on an OPEN socket, and a
//   client that sent a TCP FIN without a close frame, reading nothing, is CLOSING already, so
//   its socket stayed, counted, for good;
// - per remote address: at most `perAddressLimit` (maxHandshakesPerAddress) at once. Beyond it a
//   socket is cut off at once, after the error and close frames it was sent, instead of getting
//   the grace: otherwise one address past its handshake bound, whose refused sockets answer no
//   close frame, filled maxConnections for every other address.
import type { WebSocket } from 'ws';
import type { Clock } from '../clock.ts';
import { createHandshakeCounter } from './handshake-counter.ts';

export interface ClosingSockets {
  /** How many are waiting to close (they count against maxConnections). */
  readonly size: number;
  /**
   * The server is done with `socket`, and has sent it whatever it had to say (an error frame,
   * its close frame). It has the grace to close, or is cut off at once when its address already
   * has as many closing as its bound. A socket closed already, or taken in already, is left be.
   */
  add(socket: WebSocket, remoteAddress: string | null): void;
  /**
   * Server shutdown: cuts off every socket waiting now. Sockets added afterwards (the served
   * ones, told `server-closing`) each get the grace whatever their address: the bound protects
   * other addresses' place in a server that is going away, and the clients would lose the close.
   */
  shutDown(): void;
}

export function createClosingSockets(perAddressLimit: number, graceMs: number, clock: Clock): ClosingSockets {
  // Counted per address as sockets in their handshake are: the same bound, kept the same way.
  const perAddress = createHandshakeCounter(perAddressLimit);
  const waiting = new Map<WebSocket, { readonly timer: unknown; readonly done: () => void }>();
  let shuttingDown = false;

  const forget = (socket: WebSocket): void => {
    const entry = waiting.get(socket);
    if (entry === undefined) return;
    clock.clearTimeout(entry.timer);
    waiting.delete(socket);
    entry.done();
  };

  return {
    get size() {
      return waiting.size;
    },
    add(socket, remoteAddress) {
      if (socket.readyState === socket.CLOSED || waiting.has(socket)) return;
      // Past the bound while the server shuts down: given the grace all the same, uncounted.
      const done = perAddress.begin(remoteAddress) ?? (shuttingDown ? () => undefined : null);
      if (done === null) return socket.terminate();
      // Forgotten when the timer cuts it off, not at its close event: its place is free after the
      // grace even if the close event were never to come.
      const timer = clock.setTimeout(() => {
        forget(socket);
        socket.terminate();
      }, graceMs);
      waiting.set(socket, { timer, done });
      socket.once('close', () => forget(socket));
    },
    shutDown() {
      shuttingDown = true;
      for (const socket of waiting.keys()) socket.terminate();
    },
  };
}
