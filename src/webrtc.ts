// The `raftmesh/webrtc` entry (API.md "Subpath entries"): the WebRTC transport and the signaling
// clients that introduce its peers. Runs in browsers, and in Node given an RTCPeerConnection
// implementation (the transport's `webrtc` option).
export * from './signaling/index.ts';
