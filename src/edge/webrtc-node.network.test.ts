// The transport contract over real WebRTC in Node (node-datachannel), introduced by the WebSocket
// signaling server with a room secret. Runs only inside the loopback-only namespace (vitest
// project 'network', started by npm test through scripts/browser-env.mjs loopbackOnly).
import * as polyfill from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { afterAll, beforeAll } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { describeTransportConformance } from '../transport/transport-conformance.ts';
import { withBindAddress } from './bind-address.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebSocketConstructor } from './edge-imports.ts';

let server: SignalingServer;
let rooms = 0;
beforeAll(async () => {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});

describeTransportConformance('WebRTC (Node, node-datachannel, WebSocket signaling)', async (ids) => {
  const roomId = `node-conformance-${(rooms += 1)}`;
  const secret = `secret-${rooms}`;
  const signalings = ids.map((nodeId) => createWebSocketSignalingClient({ url: server.url, roomId, nodeId, secret, WebSocket: WebSocket as unknown as WebSocketConstructor }));
  const webrtc = withBindAddress(polyfill as never, '127.0.0.1');
  const transports = signalings.map((signaling) => createWebRtcTransport({ signaling, secret, webrtc, iceServers: [] }));
  return {
    transports,
    dispose: () => {
      for (const signaling of signalings) signaling.close();
    },
  };
});
