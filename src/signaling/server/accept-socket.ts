// One upgraded socket, from `ws`'s `connection` event until it closes: refused at the door when
// the server is full or its address has too many sockets still joining, otherwise bound to a
// Connection (connection.ts). What only the socket sees becomes a refusal too, reported and
// counted like the connection's own: a frame `ws` refuses before we read it, and a client that
// stops reading what the server sends it.
import type { RawData, WebSocket } from 'ws';
import type { ClosingSockets } from './closing-sockets.ts';
import { createConnection, type Connection, type ConnectionContext } from './connection.ts';
import type { HandshakeCounter } from './handshake-counter.ts';

export interface SocketTable {
  /** Sockets being served: in the handshake or joined (`stats().connections`). */
  readonly connections: Map<WebSocket, Connection>;
  /**
   * Sockets the server is done with (refused at the door, or failed after) until they close:
   * they count against maxConnections, each for the close grace at most, and an address's no
   * more than its maxHandshakesPerAddress (closing-sockets.ts).
   */
  readonly closing: ClosingSockets;
}

export interface AcceptContext extends Omit<ConnectionContext, 'remoteAddress' | 'joined' | 'finished'> {
  readonly sockets: SocketTable;
  readonly handshakes: HandshakeCounter;
  /** `ws`'s maxPayload: a frame beyond it is cut at the socket (1009). */
  readonly maxPayload: number;
}

function toText(data: RawData, isBinary: boolean): { text: string | null; byteLength: number } {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { text: isBinary ? null : buffer.toString('utf8'), byteLength: buffer.byteLength };
}

export function acceptSocket(socket: WebSocket, remoteAddress: string | null, context: AcceptContext): void {
  const { connections, closing } = context.sockets;
  const refuse = (code: 'server-full' | 'rate-limited', message: string): void => {
    // A refused socket still reads: a bad frame on it is an 'error' event, which without a
    // listener was an uncaught exception that took the whole server down.
    socket.on('error', () => undefined);
    context.report({ type: 'refused', code, message, roomId: null, nodeId: null, remoteAddress });
    socket.send(JSON.stringify({ type: 'error', code, message }));
    socket.close(code === 'server-full' ? 1013 : 1008, code);
    // After both frames: it may be cut off at once (its address has enough sockets closing).
    closing.add(socket, remoteAddress);
  };
  if (connections.size + closing.size >= context.limits.maxConnections) return refuse('server-full', 'too many connections');
  const settleHandshake = context.handshakes.begin(remoteAddress);
  if (settleHandshake === null) return refuse('rate-limited', `more than ${context.limits.maxHandshakesPerAddress} connections from this address are still joining`);
  bind(socket, remoteAddress, settleHandshake, context);
}

function bind(socket: WebSocket, remoteAddress: string | null, settleHandshake: () => void, context: AcceptContext): void {
  const { limits } = context;
  const { connections, closing } = context.sockets;
  let stalled = false;
  /**
   * Writes unless the client has stopped reading, for which ws would buffer without end: it is
   * cut off instead. The refusal is reported once the socket has closed, not here: the cut may
   * come in the middle of another client's relay or of a broadcast to the room, and reporting it
   * takes this client out of the room, which must not happen halfway through either.
   */
  const unlessStalled = (write: () => void): void => {
    if (socket.bufferedAmount <= limits.maxBufferedBytes) return write();
    stalled = true;
    socket.terminate();
  };
  const connection = createConnection(
    { send: (text) => unlessStalled(() => socket.send(text)), close: (code, reason) => socket.close(code, reason) },
    {
      ...context,
      remoteAddress,
      joined: settleHandshake,
      finished: () => {
        settleHandshake();
        connections.delete(socket);
        // Failed, and waiting for the client's half of the close handshake (closed already, it
        // is not taken in).
        closing.add(socket, remoteAddress);
      },
    },
  );
  connections.set(socket, connection);
  socket.on('message', (data, isBinary) => {
    const { text, byteLength } = toText(data, isBinary);
    connection.receive(text, byteLength);
  });
  // ws's own pongs are off (signaling-server.ts): answered here, under the bound every other
  // frame to this client has, so a ping flood whose pongs go unread is a client that stopped reading.
  socket.on('ping', (data: Buffer) => {
    if (socket.readyState === socket.OPEN) unlessStalled(() => socket.pong(data));
  });
  socket.on('close', () => {
    if (stalled) connection.refusedBySocket('not-reading', `more than ${limits.maxBufferedBytes} bytes queued to a client that does not read them`);
    else connection.socketClosed();
  });
  // A socket error is followed by `close`; handling it here keeps one bad client from becoming an
  // uncaught exception that would take the whole server down. ws refuses some frames itself and
  // closes before we read them (a WS_ERR_ code: over maxPayload, not UTF-8, unmasked, a reserved
  // opcode…): a refusal like any other, in events and stats. Other errors (a reset) are a disconnect.
  socket.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || error.code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') {
      connection.refusedBySocket('too-large', `a message over ${context.maxPayload} bytes (closed by the socket, code 1009)`);
    } else if (error.code?.startsWith('WS_ERR_') === true) {
      connection.refusedBySocket('malformed', `${error.message.slice(0, 200)} (closed by the socket)`);
    }
  });
}
