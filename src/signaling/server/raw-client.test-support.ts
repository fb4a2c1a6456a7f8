// A bare protocol client for server tests: sends exactly what a test writes (including garbage)
// and lets it wait for the server's next message of a type, or for the socket to close.
import { WebSocket } from 'ws';
import { computeAdmissionProof, deriveAdmissionKey, importAdmissionKey } from '../admission.ts';
import type { ServerMessage } from '../messages.ts';

export interface RawClient {
  readonly socket: WebSocket;
  send(message: object | string | Buffer): void;
  /** Resolves with the first unconsumed message of `type` (removing it), waiting if needed. */
  next<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>>;
  readonly received: ServerMessage[];
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function connectRaw(url: string): Promise<RawClient> {
  const socket = new WebSocket(url);
  const received: ServerMessage[] = [];
  let unconsumed: ServerMessage[] = [];
  let waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    received.push(message);
    unconsumed.push(message);
    const current = waiters;
    waiters = [];
    for (const wake of current) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const next = async <T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> => {
    for (;;) {
      const found = unconsumed.find((message) => message.type === type);
      if (found !== undefined) {
        unconsumed = unconsumed.filter((message) => message !== found);
        return found as Extract<ServerMessage, { type: T }>;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    socket,
    send: (message) => socket.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message)),
    next,
    received,
    closed,
    close: () => socket.close(),
  };
}

/** Connects and joins an open room; resolves once `joined` arrives. */
export async function joinOpen(url: string, roomId: string, nodeId: string): Promise<RawClient> {
  const client = await connectRaw(url);
  client.send({ type: 'hello', protocol: 1, roomId, nodeId });
  await client.next('joined');
  return client;
}

/** Connects and answers the admission challenge with `secret` (right or wrong). */
export async function joinWithSecret(url: string, roomId: string, nodeId: string, secret: string): Promise<RawClient> {
  const client = await connectRaw(url);
  client.send({ type: 'hello', protocol: 1, roomId, nodeId });
  const { nonce } = await client.next('challenge');
  const key = await importAdmissionKey(await deriveAdmissionKey(secret, roomId));
  client.send({ type: 'challenge-response', proof: await computeAdmissionProof(key, { roomId, nodeId, nonce }) });
  return client;
}
