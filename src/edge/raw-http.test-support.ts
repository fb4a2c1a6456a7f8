// One raw HTTP exchange, for tests of what an edge peer's HTTP port does with requests a client
// library would never send (unparseable targets, bytes that are not HTTP).
import { connect } from 'node:net';

/** Writes `bytes` on a fresh socket to `base`'s host and port; resolves to the status line (or '' if closed without one). */
export function rawRequest(base: string, bytes: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.write(bytes);
  });
}
