// Client-side signaling (browsers, workers, Node): the entry the `raftmesh/webrtc` subpath
// re-exports next to the WebRTC transport. The server lives in ./server (raftmesh/signaling-server).
export type { ReceivedSignal, SignalingClient } from './signaling-client.ts';
export { SignalingRefusedError, SignalingUnreachableError } from './signaling-client.ts';
export { createWebSocketSignalingClient } from './websocket-client.ts';
export type {
  SignalingClientStatus,
  SignalingRetry,
  WebSocketConstructor,
  WebSocketLike,
  WebSocketSignalingClient,
  WebSocketSignalingClientOptions,
} from './websocket-client.ts';
export { broadcastChannelName, createBroadcastChannelSignalingClient } from './broadcast-channel-client.ts';
export type { BroadcastChannelLike, BroadcastChannelSignalingClientOptions } from './broadcast-channel-client.ts';
export {
  createPeerAuthentication,
  fingerprintFromSdp,
  parsePeerAuthenticationMessage,
  peerTranscript,
} from './peer-authentication.ts';
export type {
  PeerAuthentication,
  PeerAuthenticationMessage,
  PeerAuthenticationOptions,
  PeerAuthenticationState,
} from './peer-authentication.ts';
export { deriveAdmissionKey, derivePeerKey } from './admission.ts';
export { encodeSignalingMessage, signalingProtocolVersion, terminalErrorCodes } from './messages.ts';
export type { ClientMessage, ServerMessage, SignalingErrorCode, SignalingMessage } from './messages.ts';
export { parseSignalingMessage } from './parse-message.ts';
export type { ParseResult } from './parse-message.ts';
export { defaultSignalingClientLimits, signalingProtocolLimits } from './limits.ts';
export type { SignalingClientLimits } from './limits.ts';
export { combineSignalingClients } from './combined-client.ts';
export { isClaimedNodeId } from './node-claim.ts';
export { isWebSocketUrl, requireOptionalSecret, requireRoomId } from './room-settings.ts';
