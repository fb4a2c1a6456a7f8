// Raw TCP WebSocket helpers for the signaling review tests: an upgrade by hand on 127.0.0.1, then
// frames written byte for byte (masked with a zero key, so the payload is unchanged), and a socket
// that never answers the server's close frame.
import { connect, type Socket } from 'node:net';

export interface RawTcp {
  readonly socket: Socket;
  /** Everything the server wrote, as latin1. */
  answered(): string;
  /** True once the server ended or destroyed the TCP connection. */
  ended(): boolean;
  readonly endedAt: Promise<number>;
  writeFrame(opcode: number, payload: Buffer, options?: { masked?: boolean }): void;
  destroy(): void;
}

export async function openRawTcp(port: number): Promise<RawTcp> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  let isEnded = false;
  socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
  const endedAt = new Promise<number>((resolve) => {
    const done = (): void => {
      if (!isEnded) {
        isEnded = true;
        resolve(Date.now());
      }
    };
    socket.on('end', done);
    socket.on('close', done);
  });
  socket.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'));
  for (let waited = 0; !text.includes('\r\n\r\n') && waited < 5_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!text.startsWith('HTTP/1.1 101')) throw new Error(`no upgrade: ${text.slice(0, 80)}`);
  return {
    socket,
    answered: () => text,
    ended: () => isEnded,
    endedAt,
    writeFrame(opcode, payload, { masked = true } = {}) {
      const header: number[] = [0x80 | opcode];
      const maskBit = masked ? 0x80 : 0;
      if (payload.length < 126) header.push(maskBit | payload.length);
      else if (payload.length < 65_536) header.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
      else throw new Error('payload too long for this helper');
      if (masked) header.push(0, 0, 0, 0);
      socket.write(Buffer.concat([Buffer.from(header), payload]));
    },
    destroy: () => socket.destroy(),
  };
}

export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
