// An ICE restart between Node peers: node-datachannel's RTCPeerConnection has a restartIce that
// throws "Not implemented". The transport called it when ICE went `disconnected` on the initiator
// and when the answerer asked for a restart (an `ice-restart` signal): the throw went up through
// the signaling client's listener, came out as an unhandled rejection, and Node ended the edge
// peer's process (room-chaos seed 3 with an edge peer: the peer, frozen 15 s, died on SIGCONT when
// a tab's request arrived). A runtime that cannot restart ICE now leaves the connection as it is;
// if ICE does not recover, the session closes after iceRestartTimeoutMs and reconnects, as for any
// restart that fails. Runs only inside the loopback-only namespace (vitest project 'network').
import * as polyfill from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../index.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { withBindAddress } from './bind-address.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport, type WebSocketConstructor } from './edge-imports.ts';
import { until } from './until.test-support.ts';

let server: SignalingServer;
beforeAll(async () => {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});

describe('ICE restart on node-datachannel, which cannot restart ICE', () => {
  it('neither throws nor crashes the process, whichever side asks, and the link keeps carrying frames', async () => {
    const roomId = 'ice-restart';
    const [a, b] = [nodeId('peer-a'), nodeId('peer-b')] as [NodeId, NodeId]; // a < b: a initiates
    const signalings = [a, b].map((id) => createWebSocketSignalingClient({ url: server.url, roomId, nodeId: id, WebSocket: WebSocket as unknown as WebSocketConstructor }));
    const webrtc = withBindAddress(polyfill as never, '127.0.0.1');
    const [initiator, answerer] = signalings.map((signaling) => createWebRtcTransport({ signaling, webrtc, iceServers: [] })) as [WebRtcTransport, WebRtcTransport];
    const received: string[] = [];
    initiator.incoming.subscribe(({ bytes }) => received.push(`a got ${new TextDecoder().decode(bytes)}`));
    answerer.incoming.subscribe(({ bytes }) => received.push(`b got ${new TextDecoder().decode(bytes)}`));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await until(() => initiator.peers.value.has(b) && answerer.peers.value.has(a), 'connected');
      // The answerer asks the initiator over signaling; the initiator is asked directly.
      answerer.restartIce(a);
      expect(() => initiator.restartIce(b)).not.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(unhandled).toEqual([]);
      initiator.send(b, new TextEncoder().encode('after'));
      answerer.send(a, new TextEncoder().encode('after'));
      await until(() => received.length === 2, 'frames after the restart requests');
      expect(received.sort()).toEqual(['a got after', 'b got after']);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      initiator.close();
      answerer.close();
      for (const signaling of signalings) signaling.close();
    }
  });
});
