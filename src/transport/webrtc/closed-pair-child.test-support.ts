// Run as a child process (node --import tsx) by peer-connection-close.network.test.ts: connects two
// WebRTC transports in Node (node-datachannel bound to 127.0.0.1) through a signaling server,
// closes everything, prints `closed`, and returns from its module: the process must then exit on
// its own, with nothing of the closed connections keeping it alive.
import * as polyfill from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { nodeId } from '../../core/types.ts';
import { withBindAddress } from '../../edge/bind-address.ts';
import { startSignalingServer } from '../../signaling/server/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcImplementation, type WebSocketConstructor } from '../../webrtc.ts';

const server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
const webrtc = withBindAddress(polyfill as unknown as WebRtcImplementation, '127.0.0.1');
const peers = ['close-a', 'close-b'].map((name) => {
  const signaling = createWebSocketSignalingClient({ url: server.url, roomId: 'closed-pair', nodeId: nodeId(name), WebSocket: WebSocket as unknown as WebSocketConstructor });
  return { signaling, transport: createWebRtcTransport({ signaling, webrtc, iceServers: [] }) };
});
const connectBoundMs = 30_000;
const connectStartedAt = Date.now();
await new Promise<void>((resolve, reject) => {
  const check = (): void => {
    if (peers.every((peer) => peer.transport.peers.value.size === 1)) resolve();
    else if (Date.now() - connectStartedAt > connectBoundMs) reject(new Error(`the pair did not connect within ${connectBoundMs} ms`));
    else setTimeout(check, 10);
  };
  check();
});
process.stdout.write('connected\n');
for (const peer of peers) {
  peer.transport.close();
  peer.signaling.close();
}
await server.close();
process.stdout.write('closed\n');
