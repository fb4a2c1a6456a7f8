// The signaling protocol: JSON text frames over a WebSocket, one union on `type` per direction.
//
//   client                                   server
//   hello {protocol, roomId, nodeId, claim?} ──▶  (claim: required for a claimed id, node-claim.ts)
//                                      ◀──   challenge {nonce}          (only for rooms with a key)
//   challenge-response {proof}         ──▶
//                                      ◀──   joined {roomId, nodeId, peers}
//                                      ◀──   peer-joined / peer-left {nodeId}
//   signal {to, payload}               ──▶   signal {from, payload}    (to `to`, same room only)
//   ping / pong                        ◀─▶   ping / pong
//                                      ◀──   error {code, message}     (fatal ones close the socket)
//
// `from` exists only on the server's `signal`: the server sets it from the admitted identity of
// the socket, and the client parser refuses a `signal` carrying one, so it is never trusted.
// Payloads are opaque strings (the WebRTC transport serialises its offer/answer/candidate).
export const signalingProtocolVersion = 1;

export type ClientMessage =
  | { readonly type: 'hello'; readonly protocol: number; readonly roomId: string; readonly nodeId: string; readonly claim?: string }
  | { readonly type: 'challenge-response'; readonly proof: string }
  | { readonly type: 'signal'; readonly to: string; readonly payload: string }
  | { readonly type: 'ping' }
  | { readonly type: 'pong' };

export type ServerMessage =
  | { readonly type: 'challenge'; readonly nonce: string }
  | { readonly type: 'joined'; readonly roomId: string; readonly nodeId: string; readonly peers: readonly string[] }
  | { readonly type: 'peer-joined'; readonly nodeId: string }
  | { readonly type: 'peer-left'; readonly nodeId: string }
  | { readonly type: 'signal'; readonly from: string; readonly payload: string }
  | { readonly type: 'error'; readonly code: SignalingErrorCode; readonly message: string }
  | { readonly type: 'ping' }
  | { readonly type: 'pong' };

export type SignalingMessage = ClientMessage | ServerMessage;

/**
 * Why the server refused something. All are fatal (the socket closes after the frame) except
 * `unknown-peer`, which only reports a signal addressed to someone not in the room.
 */
export type SignalingErrorCode =
  | 'malformed' // not JSON, wrong field types, extra fields, binary frame
  | 'unknown-type'
  | 'too-large'
  | 'rate-limited'
  | 'protocol' // a valid message at the wrong moment (signal before joined, second hello)
  | 'unsupported-protocol'
  | 'room-unknown' // the server does not serve this room
  | 'admission-refused' // wrong or missing proof of the room secret
  | 'room-full'
  | 'server-full'
  | 'handshake-timeout'
  | 'idle-timeout'
  | 'not-reading' // more queued to the client than maxBufferedBytes: cut off without a frame (it would not read one)
  | 'replaced' // the same node id joined the room on another socket, and this one did not answer a ping
  | 'member-in-use' // another live socket holds this node id in the room (retried: it may leave)
  | 'claim-refused' // a claimed node id (peer-k…) without the claim that proves it
  | 'server-error' // the server failed on its side (a room resolver threw): retried
  | 'server-closing'
  | 'unknown-peer';

export const signalingErrorCodes: ReadonlySet<SignalingErrorCode> = new Set<SignalingErrorCode>([
  'malformed', 'unknown-type', 'too-large', 'rate-limited', 'protocol', 'unsupported-protocol',
  'room-unknown', 'admission-refused', 'room-full', 'server-full', 'handshake-timeout',
  'idle-timeout', 'not-reading', 'replaced', 'member-in-use', 'claim-refused', 'server-error', 'server-closing', 'unknown-peer',
]);

/**
 * Codes after which reconnecting cannot help (the client or its configuration is wrong): a client
 * stops and reports them instead of retrying. Not `replaced`: the server replaces only a socket
 * that answered no ping, so a client told so was slow or cut off, not superseded, and tries again
 * (a live holder of its id then refuses it with `member-in-use`, also retried).
 */
export const terminalErrorCodes: ReadonlySet<SignalingErrorCode> = new Set<SignalingErrorCode>([
  'malformed', 'unknown-type', 'too-large', 'protocol', 'unsupported-protocol', 'room-unknown',
  'admission-refused', 'claim-refused',
]);

export function encodeSignalingMessage(message: SignalingMessage): string {
  return JSON.stringify(message);
}
