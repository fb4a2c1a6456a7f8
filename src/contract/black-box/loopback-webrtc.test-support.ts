// WebRTC and WebSocket for Node, as the README's "Requirements" paragraph has a user pass them:
// node-datachannel's polyfill, bound to 127.0.0.1 (it gathers no loopback candidate by itself,
// README "Edge peers"), and `ws` (Node 20 has no global WebSocket; the signaling README lists the
// `WebSocket?` option). Only *.network.test.ts files import this: node-datachannel loaded in two
// worker threads of one process aborts it, and the `network` project runs each file in a fork.
import * as polyfill from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
import type { createWebRtcTransport } from '../../webrtc.ts';

class LoopbackPeerConnection extends polyfill.RTCPeerConnection {
  constructor(config?: RTCConfiguration) { super({ ...(config ?? {}), bindAddress: '127.0.0.1' } as RTCConfiguration); }
}

export const webrtc = { ...polyfill, RTCPeerConnection: LoopbackPeerConnection } as unknown as NonNullable<Parameters<typeof createWebRtcTransport>[0]['webrtc']>;
export const WS = WebSocket as unknown as typeof globalThis.WebSocket;
