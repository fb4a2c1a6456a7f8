// A connection the server refuses AFTER admitting the socket (a bad frame, a wrong secret, an idle
// timeout...) is dropped from `connections` at once, but its socket stays open for ws's default
// 30 s close timeout when the client never answers the close frame: it holds server.close() for
// those 30 s and is not counted against maxConnections meanwhile.
import { afterEach, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { openRawTcp, waitFor, type RawTcp } from './signaling-raw-frames.test-support.ts';

let server: SignalingServer | null = null;
const raws: RawTcp[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await server?.close();
  server = null;
});

describe('a socket failed after admission whose client never answers the close frame', () => {
  it('does not hold server.close() beyond the close grace (the refused-at-the-door sockets get 2 s)', async () => {
    server = await startSignalingServer({ port: 0 });
    const raw = await openRawTcp(server.port);
    raws.push(raw);
    raw.writeFrame(0x1, Buffer.from('{"type":'));
    expect(await waitFor(() => raw.answered().includes('malformed'), 5_000)).toBe(true);
    expect(server.stats().connections).toBe(0); // already forgotten by the server...
    const closing = Date.now();
    const closed = server.close().then(() => Date.now() - closing);
    const tookMs = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 8_000))]);
    // ...yet its socket holds the shutdown for ws's 30 s close timeout.
    expect(tookMs).toBeLessThan(8_000);
  }, 20_000);

  it('is cut off within a few seconds, not left open for 30 s outside the maxConnections count', async () => {
    server = await startSignalingServer({ port: 0, limits: { maxConnections: 2 } });
    const lingering: RawTcp[] = [];
    for (let index = 0; index < 4; index++) {
      const raw = await openRawTcp(server.port);
      raws.push(raw);
      raw.writeFrame(0x1, Buffer.from('not json'));
      expect(await waitFor(() => raw.answered().includes('malformed') || raw.answered().includes('server-full'), 5_000)).toBe(true);
      if (raw.answered().includes('malformed')) lingering.push(raw);
    }
    // Four sockets admitted one after another under maxConnections 2: each was forgotten at its error.
    expect(lingering).toHaveLength(4);
    const cut = await waitFor(() => lingering.every((raw) => raw.ended()), 6_000);
    expect(lingering.filter((raw) => !raw.ended())).toHaveLength(0);
    expect(cut).toBe(true);
  }, 20_000);
});
