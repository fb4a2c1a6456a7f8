// What the transport counts instead of throwing: every dropped frame has a reason, and connection
// churn is visible. Read a snapshot with `transport.counters`.
export interface WebRtcTransportCounters {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  /** Data channel messages (a bundle of small frames, or one chunk of a large frame). */
  messagesSent: number;
  messagesReceived: number;
  /** The peer's send queue was full (backpressure): Raft retransmits. */
  framesDroppedQueueFull: number;
  /** No authenticated connection to that peer right now. */
  framesDroppedUnreachable: number;
  /** Larger than `maxFrameBytes`. */
  framesDroppedOversized: number;
  /** Still queued when a connection closed. */
  framesDroppedOnDisconnect: number;
  /** Received chunk sequences that did not add up, or were too large to reassemble. */
  framesDroppedMalformed: number;
  /** Binary data a peer sent before the handshake finished (a protocol violation). */
  framesDroppedUnauthenticated: number;
  /**
   * Signaling payloads that did not parse, came for an abandoned session, went over a bound
   * (signals per attempt, ICE restarts per minute, links of ids signaling does not list), or that
   * the WebRTC implementation refused.
   */
  signalsDropped: number;
  connectionAttempts: number;
  connectionsEstablished: number;
  connectionsLost: number;
  authenticationFailures: number;
  iceRestarts: number;
  /**
   * Connections whose ICE gathering completed without a single local candidate: they connect only
   * if the peer's own candidates reach this host (never between two such peers). In Node, node-datachannel gathers none on a host whose only interface is loopback
   * unless told an address to bind (raftmesh/node's withBindAddress, startEdgePeer's
   * bindAddress, raftmesh-peer's --bind). The transport's onWarning says so once, in words.
   */
  connectionsWithoutLocalCandidates: number;
  /** Pairs of engine channels (channels 2 and 3, or a later pair) that went to an engine's worker (data-channel-hand-off.ts). */
  dataChannelsHandedOver: number;
  /** Pairs of engine channels opened on a live connection for an engine that (re)started (no reconnection). */
  engineChannelsReopened: number;
  /**
   * Pairs of engine channels an engine's worker lost while using them (a send failed, or a channel
   * closed under it) on a live session whose peer still listened on engine channels; each is
   * replaced by a fresh pair on the live connection, after a backoff, unless word of a deliberate
   * change comes first. Counted by the page, which tells those from a pair the peer's worker let
   * go (replaced, or withdrawn with its word first) or one that closed with a connection the page
   * already saw close: those are not counted.
   */
  engineChannelsLost: number;
}

export function createCounters(): WebRtcTransportCounters {
  return {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    framesDroppedQueueFull: 0,
    framesDroppedUnreachable: 0,
    framesDroppedOversized: 0,
    framesDroppedOnDisconnect: 0,
    framesDroppedMalformed: 0,
    framesDroppedUnauthenticated: 0,
    signalsDropped: 0,
    connectionAttempts: 0,
    connectionsEstablished: 0,
    connectionsLost: 0,
    authenticationFailures: 0,
    iceRestarts: 0,
    connectionsWithoutLocalCandidates: 0,
    dataChannelsHandedOver: 0,
    engineChannelsReopened: 0,
    engineChannelsLost: 0,
  };
}
