// Every bound of the signaling module, in one place and validated together (DESIGN.md "put a
// bound on everything"). Protocol caps are fixed: the parser enforces them whoever runs it, so a
// client and a server agree on what is well formed. Server and client limits are tunable within
// those caps, so an operator can tighten them but never make the parser accept unbounded input.

export const signalingProtocolLimits = {
  /** Ceiling on one JSON message in bytes (UTF-8); a typical SDP offer is 2–6 KiB. */
  maxMessageBytes: 256 * 1024,
  /** Room ids are short names, not data. */
  maxRoomIdLength: 128,
  /** Same bound as core's `maxIdLength`, so every id admitted here is a valid NodeId. */
  maxNodeIdLength: 256,
  /** Peers listed in one `joined` message; also the ceiling of `maxPeersPerRoom`. */
  maxPeersListed: 1024,
  /** Error messages are for humans; a long one is a bug or an attack. */
  maxErrorMessageLength: 1024,
} as const;

/**
 * What a relayed signal may outgrow the one the server received by. The server writes `"from":`
 * and the sender's id (up to 770 bytes of JSON: 256 characters of 3 UTF-8 bytes, and quotes)
 * where the client wrote `"to":` and the addressee's id (at least `"to":"x"`, 8 bytes): 769 bytes
 * at most (the payload is written back no longer than it came). A client message is therefore
 * bounded by the protocol's ceiling less this, or its relayed form could be more than every
 * client reads, and the addressee would drop its connection over it.
 */
export const relayHeadroomBytes = 1024;

export interface SignalingServerLimits {
  /**
   * Largest message a client may send, in bytes; larger gets `too-large` and a disconnect. At
   * most 255 KiB: the protocol's 256 KiB less the relay's headroom (`relayHeadroomBytes`).
   */
  readonly maxMessageBytes: number;
  /** Token bucket: sustained messages per second per client. */
  readonly messagesPerSecond: number;
  /** Token bucket: burst a client may send at once (ICE trickles a handful of candidates). */
  readonly messageBurst: number;
  /**
   * Up to `maxPeersListed`; a join whose `joined` list would not fit in the 256 KiB a client reads
   * (long ids) is refused `room-full` below it.
   */
  readonly maxPeersPerRoom: number;
  readonly maxRooms: number;
  /**
   * Open sockets: joined, in the handshake, or refused or failed and not closed yet (the 2 s close
   * grace): bounds memory before admission. Sockets still upgrading (the HTTP request) are held
   * to as many again.
   */
  readonly maxConnections: number;
  /**
   * Sockets from one remote address still in the handshake (connected, not yet joined); beyond it
   * a socket is refused with `rate-limited` (clients retry). It stops one host that opens sockets
   * and says nothing from filling `maxConnections` for everyone, but only where clients reach the
   * server directly: behind a reverse proxy (every `wss://` deployment, since the server speaks
   * no TLS) every client has the proxy's address, and a limit would let 64 silent sockets lock
   * everyone out. So it is off by default (as many as `maxConnections`); set it on a server that
   * clients reach directly, and bound silent sockets at the proxy otherwise. Sockets still
   * upgrading (the HTTP request) are held to as many again per address, destroyed beyond; so are
   * those the server is done with and waiting to close (refused or failed), cut off at once
   * beyond (after their error frame) instead of being given the close grace.
   */
  readonly maxHandshakesPerAddress: number;
  /**
   * Bytes queued to one client that is not reading (messages, and pongs to its WebSocket pings);
   * beyond it the socket is cut, refused `not-reading` (no unbounded buffers).
   */
  readonly maxBufferedBytes: number;
  /** A client that sends nothing (not even a ping) for this long is disconnected. */
  readonly idleTimeoutMs: number;
  /**
   * Time to finish the HTTP upgrade once connected, and then from the upgrade until joined
   * (hello, challenge, response).
   */
  readonly handshakeTimeoutMs: number;
  /**
   * A hello for a node id another connection holds: that connection is pinged, and only if it
   * answers nothing within this long is it replaced (a half-open socket after a network change);
   * if it answers, the newcomer is refused with `member-in-use`. At most half of
   * `handshakeTimeoutMs`, which also bounds the newcomer's hello and probe together; by default
   * 5 s, or half of `handshakeTimeoutMs` when that is shorter.
   */
  readonly memberProbeTimeoutMs: number;
}

export const defaultSignalingServerLimits: SignalingServerLimits = {
  maxMessageBytes: 64 * 1024,
  messagesPerSecond: 20,
  messageBurst: 60,
  maxPeersPerRoom: 64,
  maxRooms: 10_000,
  maxConnections: 20_000,
  maxHandshakesPerAddress: 20_000,
  maxBufferedBytes: 1024 * 1024,
  idleTimeoutMs: 60_000,
  handshakeTimeoutMs: 10_000,
  memberProbeTimeoutMs: 5_000,
};

export interface SignalingClientLimits {
  /** A client pings this often so the server's idle timeout never fires on a live client. */
  readonly pingIntervalMs: number;
  /** Nothing heard from the server for this long: the connection is dead, reconnect. */
  readonly serverSilenceTimeoutMs: number;
  /** Reconnect backoff: first delay, doubled per failed attempt up to the maximum (full jitter). */
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  /** Consecutive failed attempts before giving up; Infinity keeps trying (capped delay). */
  readonly reconnectAttemptsMax: number;
  /** BroadcastChannel: presence heartbeat period, and silence after which a peer is gone. */
  readonly heartbeatIntervalMs: number;
  readonly peerExpiryMs: number;
  /** BroadcastChannel: peers remembered at once (each costs a replay counter and a timer). */
  readonly maxPeers: number;
}

export const defaultSignalingClientLimits: SignalingClientLimits = {
  pingIntervalMs: 20_000,
  serverSilenceTimeoutMs: 45_000,
  reconnectDelayMinMs: 250,
  reconnectDelayMaxMs: 30_000,
  reconnectAttemptsMax: Infinity,
  heartbeatIntervalMs: 2_000,
  peerExpiryMs: 7_000,
  maxPeers: 256,
};

/** `why`: what sets the bounds, said with the error when it is not plain. */
function requireRange(name: string, value: number, min: number, max: number, integer = true, why = ''): void {
  const valid = typeof value === 'number' && !Number.isNaN(value) && value >= min && value <= max;
  if (!valid || (integer && Number.isFinite(value) && !Number.isInteger(value))) {
    throw new RangeError(`signaling limit ${name} must be ${integer ? 'an integer ' : ''}in ${min} .. ${max}${why === '' ? '' : ` (${why})`}, got ${value}`);
  }
}

const hourMs = 3_600_000;

/** A misspelt limit (`maxPeerPerRoom`) would otherwise be ignored in silence, its default in force. */
function requireKnownLimits(kind: string, overrides: object, defaults: object): void {
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(defaults, key)) throw new RangeError(`unknown ${kind} limit ${JSON.stringify(key)}; the ${kind} limits are ${Object.keys(defaults).join(', ')}`);
  }
}

export function resolveServerLimits(overrides: Partial<SignalingServerLimits> = {}): SignalingServerLimits {
  requireKnownLimits('signaling server', overrides, defaultSignalingServerLimits);
  const handshakeTimeoutMs = overrides.handshakeTimeoutMs ?? defaultSignalingServerLimits.handshakeTimeoutMs;
  const memberProbeTimeoutMs = Math.min(defaultSignalingServerLimits.memberProbeTimeoutMs, Math.floor(handshakeTimeoutMs / 2));
  // Off unless set: as many per address as the server takes in all.
  const maxHandshakesPerAddress = overrides.maxConnections ?? defaultSignalingServerLimits.maxConnections;
  const limits: SignalingServerLimits = { ...defaultSignalingServerLimits, memberProbeTimeoutMs, maxHandshakesPerAddress, ...overrides };
  requireRange('maxMessageBytes', limits.maxMessageBytes, 1024, signalingProtocolLimits.maxMessageBytes - relayHeadroomBytes, true, `the ${signalingProtocolLimits.maxMessageBytes} bytes a client reads, less ${relayHeadroomBytes} for the sender's id a relayed signal gains`);
  requireRange('messagesPerSecond', limits.messagesPerSecond, 0.01, 100_000, false);
  requireRange('messageBurst', limits.messageBurst, 1, 100_000);
  requireRange('maxPeersPerRoom', limits.maxPeersPerRoom, 1, signalingProtocolLimits.maxPeersListed);
  requireRange('maxRooms', limits.maxRooms, 1, 10_000_000);
  requireRange('maxConnections', limits.maxConnections, 1, 10_000_000);
  requireRange('maxHandshakesPerAddress', limits.maxHandshakesPerAddress, 1, 10_000_000);
  requireRange('maxBufferedBytes', limits.maxBufferedBytes, limits.maxMessageBytes, 1024 * 1024 * 1024);
  requireRange('idleTimeoutMs', limits.idleTimeoutMs, 10, 24 * hourMs);
  requireRange('handshakeTimeoutMs', limits.handshakeTimeoutMs, 10, hourMs);
  requireRange('memberProbeTimeoutMs', limits.memberProbeTimeoutMs, 1, Math.floor(limits.handshakeTimeoutMs / 2));
  return limits;
}

export function resolveClientLimits(overrides: Partial<SignalingClientLimits> = {}): SignalingClientLimits {
  requireKnownLimits('signaling client', overrides, defaultSignalingClientLimits);
  const limits: SignalingClientLimits = { ...defaultSignalingClientLimits, ...overrides };
  requireRange('pingIntervalMs', limits.pingIntervalMs, 10, hourMs);
  requireRange('serverSilenceTimeoutMs', limits.serverSilenceTimeoutMs, limits.pingIntervalMs + 1, 2 * hourMs);
  requireRange('reconnectDelayMinMs', limits.reconnectDelayMinMs, 1, hourMs);
  requireRange('reconnectDelayMaxMs', limits.reconnectDelayMaxMs, limits.reconnectDelayMinMs, hourMs);
  requireRange('reconnectAttemptsMax', limits.reconnectAttemptsMax, 0, Infinity);
  requireRange('heartbeatIntervalMs', limits.heartbeatIntervalMs, 10, hourMs);
  requireRange('peerExpiryMs', limits.peerExpiryMs, limits.heartbeatIntervalMs + 1, 2 * hourMs);
  requireRange('maxPeers', limits.maxPeers, 1, signalingProtocolLimits.maxPeersListed);
  return limits;
}
