// A WebSocket client by hand over raw TCP on 127.0.0.1, for what no WebSocket library sends: the
// upgrade request, then frames written byte for byte (masked with a zero key, so the payload is
// unchanged, or not masked at all), and no answer to the server's close frame, ever.
import { connect, type Socket } from 'node:net';

export interface RawTcp {
  readonly socket: Socket;
  /** Everything the server wrote, as latin1. */
  answered(): string;
  /** True once the server ended or destroyed the TCP connection. */
  ended(): boolean;
  /** One final frame: opcode 0x1 text, 0x2 binary, 0x9 ping…; payloads under 64 KiB. */
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
  socket.on('end', () => (isEnded = true));
  socket.on('close', () => (isEnded = true));
  socket.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'));
  for (let waited = 0; !text.includes('\r\n\r\n') && waited < 5_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!text.startsWith('HTTP/1.1 101')) throw new Error(`no upgrade: ${text.slice(0, 80)}`);
  return {
    socket,
    answered: () => text,
    ended: () => isEnded,
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

/** Polls `condition` every 10 ms: true once it holds, false after `timeoutMs` without. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
