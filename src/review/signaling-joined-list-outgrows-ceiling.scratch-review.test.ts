// maxPeersPerRoom may be set up to 1024 (the protocol's maxPeersListed) and a node id may be 256
// characters, up to 768 bytes of UTF-8 each. The `joined` frame listing a full room's peers then
// outgrows the 256 KiB every client's parser accepts: a newcomer refuses its own `joined` as
// too-large, drops the connection and reconnects, for ever (with backoff), and never joins.
// ~340 members with long ids are enough, and in an open room anyone can be one of them.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeId } from '../core/types.ts';
import { signalingProtocolLimits } from '../signaling/limits.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { createWebSocketSignalingClient, type WebSocketConstructor, type WebSocketSignalingClient } from '../signaling/websocket-client.ts';
import { openRawTcp, waitFor, type RawTcp } from '../signaling/server/raw-frames.test-support.ts';

let server: SignalingServer | null = null;
const raws: RawTcp[] = [];
let newcomer: WebSocketSignalingClient | null = null;

afterEach(async () => {
  newcomer?.close();
  newcomer = null;
  for (const raw of raws.splice(0)) raw.destroy();
  await server?.close();
  server = null;
});

describe('a newcomer to a room the server lets grow to maxPeersPerRoom', () => {
  it('can read the `joined` frame the server sends it, and joins', async () => {
    server = await startSignalingServer({ port: 0, limits: { maxPeersPerRoom: signalingProtocolLimits.maxPeersListed, maxBufferedBytes: 512 * 1024 * 1024, maxConnections: 2_000 } });
    const members = 345;
    for (let index = 0; index < members; index++) {
      const raw = await openRawTcp(server.port);
      raws.push(raw);
      const id = `${index}`.padStart(4, '0') + '€'.repeat(signalingProtocolLimits.maxNodeIdLength - 4);
      raw.writeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'big', nodeId: id })));
      raw.socket.pause(); // a quiet member: it reads nothing more
    }
    expect(await waitFor(() => server?.stats().peers === members, 20_000)).toBe(true);
    newcomer = createWebSocketSignalingClient({ url: server.url, roomId: 'big', nodeId: nodeId('newcomer'), WebSocket: WebSocket as unknown as WebSocketConstructor });
    const joined = await waitFor(() => newcomer?.status.value === 'joined', 5_000);
    expect(joined).toBe(true);
    expect(newcomer.peers.value.size).toBe(members);
  }, 60_000);
});
