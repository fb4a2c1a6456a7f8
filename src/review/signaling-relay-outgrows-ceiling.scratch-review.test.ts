// maxMessageBytes may be set up to the protocol ceiling (256 KiB), which is also the size every
// client's parser accepts. The relayed `signal` is larger than the one received: `"from"` is two
// bytes longer than `"to"`, and the sender's id replaces the addressee's. So a signal the server
// accepted at (or near) its limit reaches the addressee above the ceiling: its parser refuses it
// and the client drops its connection and reconnects, the signal lost. A peer with a long id can
// do this to any member of the room, each time it rejoins.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeId } from '../core/types.ts';
import { signalingProtocolLimits } from '../signaling/limits.ts';
import { joinOpen, type RawClient } from '../signaling/server/raw-client.test-support.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import type { ReceivedSignal } from '../signaling/signaling-client.ts';
import { createWebSocketSignalingClient, type WebSocketConstructor, type WebSocketSignalingClient, type SignalingClientStatus } from '../signaling/websocket-client.ts';

let server: SignalingServer | null = null;
const raws: RawClient[] = [];
let receiver: WebSocketSignalingClient | null = null;

afterEach(async () => {
  receiver?.close();
  receiver = null;
  for (const raw of raws.splice(0)) raw.socket.terminate();
  await server?.close();
  server = null;
});

describe('a signal the server accepted at its (maximum) configured size', () => {
  it('reaches the addressee, which stays joined', async () => {
    const ceiling = signalingProtocolLimits.maxMessageBytes;
    server = await startSignalingServer({ port: 0, limits: { maxMessageBytes: ceiling } });
    receiver = createWebSocketSignalingClient({ url: server.url, roomId: 'room', nodeId: nodeId('b'), WebSocket: WebSocket as unknown as WebSocketConstructor });
    const statuses: SignalingClientStatus[] = [];
    receiver.status.subscribe((status) => statuses.push(status));
    const received: ReceivedSignal[] = [];
    receiver.signals.subscribe((signal) => received.push(signal));
    await new Promise<void>((resolve) => receiver?.status.subscribe((status) => status === 'joined' && resolve()));
    const senderId = 's'.repeat(signalingProtocolLimits.maxNodeIdLength);
    const sender = await joinOpen(server.url, 'room', senderId);
    raws.push(sender);
    const empty = JSON.stringify({ type: 'signal', to: 'b', payload: '' });
    const payload = 'p'.repeat(ceiling - Buffer.byteLength(empty));
    const frame = JSON.stringify({ type: 'signal', to: 'b', payload });
    expect(Buffer.byteLength(frame)).toBe(ceiling); // within the server's limit: relayed, not refused
    sender.send(frame);
    for (let waited = 0; received.length === 0 && waited < 3_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received.map((signal) => [signal.from, signal.payload.length])).toEqual([[senderId, payload.length]]);
    expect(statuses).not.toContain('connecting');
  });
});
