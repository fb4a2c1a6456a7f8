// raftmesh/node: the pieces that run only in Node (edge peers, always-on members).
export { FileRaftStorage } from './storage/file/file-storage.ts';
export type { FileStorageOptions } from './storage/file/file-storage.ts';
export { startEdgePeer } from './edge/edge-peer.ts';
export type { EdgePeer, EdgePeerMode, EdgePeerOptions } from './edge/edge-peer.ts';
export { opaqueStoreOptions, witnessStoreOptions } from './edge/opaque-store.ts';
// node-datachannel gathers no loopback candidate unless bound: for createWebRtcTransport's `webrtc` in Node.
export { withBindAddress } from './edge/bind-address.ts';
