// The `raftmesh/webrtc` entry (API.md "Subpath entries"): the WebRTC transport and the signaling
// clients that introduce its peers. Runs in browsers, and in Node given an RTCPeerConnection
// implementation (the transport's `webrtc` option).
export * from './signaling/index.ts';
// `WebRtcTransport` is both the transport's type and a constructor (createWebRtcTransport with `new`).
export { createWebRtcTransport, WebRtcTransport } from './transport/webrtc/webrtc-transport.ts';
export type { PeerAuthenticationFailure, WebRtcTransportConstructor, WebRtcTransportOptions } from './transport/webrtc/webrtc-transport.ts';
export type { WebRtcTransportCounters } from './transport/webrtc/counters.ts';
export type { WebRtcTransportWarning } from './transport/webrtc/transport-warnings.ts';
export { defaultWebRtcTransportLimits, resolveWebRtcTransportLimits } from './transport/webrtc/limits.ts';
export type { WebRtcTransportLimits } from './transport/webrtc/limits.ts';
export type { WebRtcImplementation } from './transport/webrtc/peer-connection.ts';
