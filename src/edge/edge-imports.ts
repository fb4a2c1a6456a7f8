// What the edge peer uses of the library: the public entries only, like any application.
export { FileRaftStorage } from '../storage/file/file-storage.ts';
export { makeDirectory } from '../storage/file/make-directory.ts';
export { acquireDirectoryLock, type DirectoryLock } from '../storage/file/directory-lock.ts';
export { removeStorageDirectory } from '../storage/file/remove-storage-directory.ts';
export { joinRoom, loadNodeClaim, loadOrMintNodeIdentity } from '../index.ts';
export type { KeyValueStore, NodeId, RaftConfig, ReplicatedStoreOptions, Room, RoomEvent } from '../index.ts';
export { createWebRtcTransport, createWebSocketSignalingClient, isClaimedNodeId, isWebSocketUrl, requireOptionalSecret, requireRoomId } from '../webrtc.ts';
export type { SignalingRetry, WebRtcImplementation, WebRtcTransport, WebSocketConstructor } from '../webrtc.ts';
