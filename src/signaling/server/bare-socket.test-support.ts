// A bare `ws` socket speaking the signaling protocol by hand, for black-box server tests: it
// sends exactly what a test writes (garbage included) and records every answer. Unlike
// raw-client.test-support.ts it uses nothing of the library.
import { WebSocket } from 'ws';

export interface ServerAnswer {
  readonly type: string;
  readonly code?: string;
  readonly message?: string;
  readonly from?: string;
  readonly nodeId?: string;
  readonly payload?: string;
  readonly peers?: readonly string[];
}

export interface BareSocket {
  readonly socket: WebSocket;
  /** Every message received, in order. */
  readonly messages: ServerAnswer[];
  /** The close code, once closed. */
  readonly closed: Promise<number>;
  send(frame: string | Buffer | object): void;
  /** The first message of `type` not yet taken by `next` (waiting for it if needed), taken. */
  next(type: string): Promise<ServerAnswer>;
}

/** Opens a socket (rejects if the connection fails). */
export async function openBare(url: string): Promise<BareSocket> {
  const socket = new WebSocket(url);
  const messages: ServerAnswer[] = [];
  const taken = new Set<ServerAnswer>();
  let waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as ServerAnswer);
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    closed,
    send: (frame) => socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    async next(type) {
      for (;;) {
        const found = messages.find((message) => message.type === type && !taken.has(message));
        if (found !== undefined) {
          taken.add(found);
          return found;
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** Opens a socket and says hello to `roomId` as `nodeId` (does not wait for the answer). */
export async function helloBare(url: string, roomId: string, nodeId: string): Promise<BareSocket> {
  const bare = await openBare(url);
  bare.send({ type: 'hello', protocol: 1, roomId, nodeId });
  return bare;
}
