// WebRtcTransport: RaftTransport over WebRTC data channels between the peers of one signaling
// room. Peers come from the signaling client's `peers`; each gets a link (peer-link.ts) that keeps
// one authenticated connection to it. `peers` here is who is reachable now: authenticated, ICE
// connected. `send` never throws: a frame that cannot go (no connection, full queue, too large)
// is dropped and counted in `counters`.
import { requireOptionalSecret } from '../../signaling/room-settings.ts';
import type { Clock } from '../../core/config.ts';
import { createEmitter, createWatchable } from '../../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../../core/types.ts';
import { realClock } from '../../signaling/clock.ts';
import { samePeerSet, type SignalingClient } from '../../signaling/signaling-client.ts';
import type { RaftTransport } from '../raft-transport.ts';
import { createCounters, type WebRtcTransportCounters } from './counters.ts';
import { noLocalCandidatesWarning, warnOncePerType, type WebRtcTransportWarning } from './transport-warnings.ts';
import type { DataChannelHost, DataChannelService } from './data-channel-hand-off.ts';
import { wholeFrameCapacity } from './framing.ts';
import { resolveWebRtcTransportLimits, type WebRtcTransportLimits } from './limits.ts';
import { openPeerConnection, type OpenConnection, type WebRtcImplementation } from './peer-connection.ts';
import { createPeerLink, type PeerLink } from './peer-link.ts';

export interface WebRtcTransportOptions {
  /** Who is in the room and how to reach them; its `selfId` is this transport's id. */
  readonly signaling: SignalingClient;
  /**
   * The room secret. Peers prove it to each other over every new connection, bound to both DTLS
   * fingerprints, so a signaling server cannot impersonate a peer or sit in the middle. Without
   * it, identities rest on the signaling server alone.
   */
  readonly secret?: string | undefined;
  /** STUN/TURN servers. Default `[]`: host candidates only (same network), no third party contacted. */
  readonly iceServers?: readonly RTCIceServer[];
  /** RTCPeerConnection and friends for runtimes without them (Node: `node-datachannel/polyfill`). */
  readonly webrtc?: WebRtcImplementation;
  /** Makes each peer connection; default: simple-peer (peer-connection.ts). A seam for tests and other WebRTC stacks. */
  readonly openConnection?: OpenConnection;
  readonly limits?: Partial<WebRtcTransportLimits>;
  readonly clock?: Clock;
  /** Jitter for reconnect backoff. */
  readonly random?: () => number;
  /**
   * Trouble the transport can name but not fix, said once per kind, in words (transport-warnings.ts):
   * `noLocalCandidates`, ICE found no address to connect from (in Node: a bind address is missing).
   * Log it. The counters count every occurrence. An exception thrown here is ignored.
   */
  readonly onWarning?: (warning: WebRtcTransportWarning) => void;
  /**
   * Called each time a connection to a peer fails the room-secret handshake (each is counted in
   * `counters.authenticationFailures`): the peer does not know this transport's secret, knows
   * another one, or has none while this side has one (or the other way round). At most once per
   * connection attempt, which the reconnect backoff spaces out; a peer that is forged (anyone who
   * can signal may offer under a member's id) may cause more, so a listener that reports these
   * should keep its own bound (joinRoom's context hands in one that does). An exception thrown
   * here is ignored.
   */
  readonly onAuthenticationFailure?: (failure: PeerAuthenticationFailure) => void;
}

/** A connection that failed the room-secret handshake (`onAuthenticationFailure`). */
export interface PeerAuthenticationFailure {
  /** The id the connection was signaled under: the peer, or someone signaling in its name. */
  readonly peer: NodeId;
  /** How the handshake failed, in words (a wrong proof, or a secret on one side only). */
  readonly reason: string;
}

export interface WebRtcTransport extends RaftTransport {
  readonly maxPayloadBytes: number;
  /** A snapshot of what was sent, received, dropped (and why) and how connections fared. */
  readonly counters: Readonly<WebRtcTransportCounters>;
  /** Closes the current connection to `peer` (if any); it reconnects as after any loss. */
  disconnect(peer: NodeId): void;
  /**
   * Restarts ICE with `peer` without dropping the connection, e.g. after the device changed
   * networks (`online` event). The transport also does this by itself when ICE disconnects. At
   * most `limits.maxIceRestartsPerMinute` per connection; beyond that a request does nothing.
   */
  restartIce(peer: NodeId): void;
  /** Closes every connection and stops reconnecting; idempotent. Does not close `signaling`. */
  close(): void;
  /**
   * Whether this transport authenticates peers with exactly `secret` (undefined: with no secret),
   * so a caller can check it was given the room's secret without the transport exposing it:
   * joinRoom refuses a room secret the transport it is handed does not use. A wrapper that
   * passes this through is checked too.
   */
  usesSecret(secret: string | undefined): boolean;
  /**
   * Hands channels 2 and 3 of every connection opened from now on to `host` (an engine's worker,
   * which then sends and receives Raft frames without this page), and a fresh pair of channels on
   * each connection opened before (data-channel-hand-off.ts). One host at a time: a new one
   * replaces the last.
   */
  serveDataChannelsTo(host: DataChannelHost): DataChannelService;
}

/** Links kept at once (the signaling protocol lists at most 1024 peers). */
const maxLinks = 1024;
/**
 * Links kept for ids signaling does not list: a signal may come before the presence that names
 * its sender, and a peer that left may still be connected. Anyone who can signal can make up ids,
 * so such links never crowd out those of peers in the room: beyond this, the oldest unconnected
 * one goes first.
 */
const maxUnlistedLinks = 16;

/** A worker's report, field by field: only the known counters, only counts. */
function validCounters(reported: unknown): WebRtcTransportCounters {
  const counters = createCounters();
  if (typeof reported !== 'object' || reported === null) return counters;
  for (const key of Object.keys(counters) as (keyof WebRtcTransportCounters)[]) {
    const value = (reported as Partial<Record<keyof WebRtcTransportCounters, unknown>>)[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) counters[key] = value;
  }
  return counters;
}

/** Every transport made here, so `instanceof WebRtcTransport` holds for them and no other object. */
const madeHere = new WeakSet<WebRtcTransport>();

export function createWebRtcTransport(options: WebRtcTransportOptions): WebRtcTransport {
  const { signaling } = options;
  requireOptionalSecret(options.secret, 'createWebRtcTransport');
  if (typeof signaling?.selfId !== 'string' || typeof signaling.signal !== 'function') {
    throw new TypeError('createWebRtcTransport: `signaling` must be a signaling client (createWebSocketSignalingClient, createBroadcastChannelSignalingClient, or combineSignalingClients of them)');
  }
  // Without one, every connection attempt failed quietly and the peer never connected (Node).
  if (options.openConnection === undefined && options.webrtc === undefined && typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection !== 'function') {
    throw new TypeError('createWebRtcTransport: this runtime has no RTCPeerConnection; pass `webrtc` (in Node: `webrtc: await import("node-datachannel/polyfill")`, from the node-datachannel package)');
  }
  // Both were taken as given, and failed later, connection by connection, far from the mistake.
  if (options.webrtc !== undefined && typeof (options.webrtc as { RTCPeerConnection?: unknown } | null)?.RTCPeerConnection !== 'function') {
    throw new TypeError('createWebRtcTransport: `webrtc` must be a WebRTC implementation whose RTCPeerConnection is a constructor (in Node: `await import("node-datachannel/polyfill")`)');
  }
  if (options.iceServers !== undefined && !Array.isArray(options.iceServers)) {
    throw new TypeError(`createWebRtcTransport: \`iceServers\` must be an array of RTCIceServer ({ urls }), or [] for none, got ${typeof options.iceServers === 'string' ? JSON.stringify(options.iceServers) : typeof options.iceServers}`);
  }
  const selfId = signaling.selfId;
  const limits = resolveWebRtcTransportLimits(options.limits);
  const clock = options.clock ?? realClock;
  const counters = createCounters();
  const warn = warnOncePerType(options.onWarning);
  const reportAuthenticationFailure = (failure: PeerAuthenticationFailure): void => {
    if (closed) return;
    try {
      options.onAuthenticationFailure?.(failure);
    } catch (_error) {
      // Called from inside a connection's handshake: a listener's failure must not reach it (as onWarning's).
    }
  };
  const incoming = createEmitter<RaftEnvelope>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
  const links = new Map<NodeId, PeerLink>();
  let closed = false;
  let dataChannelHost: DataChannelHost | null = null;
  /** What workers sent and received on channels 2 and 3: the last report of each host served now, and the sum of those stopped. */
  const hostCounters = new Map<DataChannelHost, WebRtcTransportCounters>();
  const stoppedHostCounters = createCounters();
  const addCounters = (total: WebRtcTransportCounters, more: WebRtcTransportCounters): void => {
    for (const key of Object.keys(total) as (keyof WebRtcTransportCounters)[]) total[key] += more[key];
  };

  const publishPeers = (): void => {
    if (!closed) peers.set(new Set([...links].filter(([, link]) => link.reachable).map(([id]) => id)));
  };

  /** Links of ids signaling does not list now, oldest first. */
  const unlisted = new Set<NodeId>();

  /** Closes and forgets the link of `peerId`. */
  function forget(peerId: NodeId): void {
    links.get(peerId)?.close();
    links.delete(peerId);
    unlisted.delete(peerId);
  }

  /**
   * Whether one more link fits, once the oldest unconnected link of an unlisted id is forgotten if
   * need be: for an unlisted id when the table or its unlisted share is full, for a listed one
   * when the table is.
   */
  function makeRoom(listed: boolean): boolean {
    if (links.size < maxLinks && (listed || unlisted.size < maxUnlistedLinks)) return true;
    for (const peerId of unlisted) {
      if (links.get(peerId)?.reachable === true) continue;
      forget(peerId);
      return true;
    }
    return false;
  }

  /** The link of a peer signaling lists now: created if need be, and told it is present. */
  function listedLinkFor(peerId: NodeId): PeerLink | null {
    unlisted.delete(peerId);
    const link = links.get(peerId) ?? createLink(peerId, true);
    link?.setPresent(true);
    return link;
  }

  /** The link a signal from `peerId` goes to (null: refused, counted by the caller). */
  function linkForSignal(peerId: NodeId): PeerLink | null {
    const existing = links.get(peerId);
    if (existing !== undefined) return existing;
    // Listed already (its presence found the table full, say): it connects as a present peer.
    if (signaling.peers.value.has(peerId)) return listedLinkFor(peerId);
    return createLink(peerId, false);
  }

  function createLink(peerId: NodeId, listed: boolean): PeerLink | null {
    if (closed || peerId === selfId || !makeRoom(listed)) return null;
    const link = createPeerLink({
      selfId,
      peerId,
      roomId: signaling.roomId,
      secret: options.secret,
      limits,
      clock,
      random: options.random ?? Math.random,
      iceServers: options.iceServers ?? [],
      webrtc: options.webrtc,
      openConnection: options.openConnection ?? openPeerConnection,
      counters,
      dataChannelHost: () => dataChannelHost,
      signal: (payload) => signaling.signal(peerId, payload),
      // `from` is the peer this link's handshake authenticated, never anything in the bytes.
      deliver: (bytes) => incoming.emit({ from: peerId, bytes }),
      onReachable: publishPeers,
      onNoLocalCandidates: () => warn(noLocalCandidatesWarning(peerId)),
      onAuthenticationFailed: (reason) => reportAuthenticationFailure({ peer: peerId, reason }),
    });
    links.set(peerId, link);
    if (!listed) unlisted.add(peerId);
    return link;
  }

  function onRoomPeers(present: ReadonlySet<NodeId>): void {
    // Absent ones first: a full table then has room for the peers present now.
    for (const [peerId, link] of links) {
      if (present.has(peerId)) continue;
      link.setPresent(false);
      // A peer that left and has no connection left costs nothing to forget.
      if (link.reachable) unlisted.add(peerId);
      else forget(peerId);
    }
    for (const peerId of present) listedLinkFor(peerId);
  }

  const unsubscribePeers = signaling.peers.subscribe(onRoomPeers);
  const unsubscribeSignals = signaling.signals.subscribe(({ from, payload }) => {
    const link = linkForSignal(from);
    if (link === null) counters.signalsDropped++;
    else link.receiveSignal(payload);
  });
  onRoomPeers(signaling.peers.value);

  const transport: WebRtcTransport = {
    selfId,
    peers,
    incoming,
    maxPayloadBytes: limits.maxFrameBytes,
    // Frames that fit one message travel on the control channel, in order; larger ones stream on
    // the bulk channel and may be overtaken (data-path.ts).
    orderedFrameBytes: wholeFrameCapacity(limits.chunkBytes),
    get counters() {
      const total = { ...counters };
      addCounters(total, stoppedHostCounters);
      for (const reported of hostCounters.values()) addCounters(total, reported);
      return total;
    },
    send(to, bytes) {
      if (closed) return;
      if (bytes.length > limits.maxFrameBytes) {
        counters.framesDroppedOversized++;
        return;
      }
      const outcome = links.get(to)?.send(bytes) ?? 'unreachable';
      if (outcome === 'unreachable') counters.framesDroppedUnreachable++;
      else if (outcome === 'queue-full') counters.framesDroppedQueueFull++;
    },
    disconnect(peer) {
      links.get(peer)?.disconnect();
    },
    restartIce(peer) {
      links.get(peer)?.restartIce();
    },
    usesSecret: (secret) => secret === options.secret,
    serveDataChannelsTo(host) {
      dataChannelHost = closed ? null : host;
      for (const link of links.values()) link.renew();
      let stopped = false;
      return {
        receive(message) {
          if (stopped || closed) return;
          if (message.type === 'dataChannelsTaken') links.get(message.peer)?.channelsTaken(host, message.session);
          else if (message.type === 'dataChannelsLost') links.get(message.peer)?.channelsLost(host, message.session);
          else if (message.type === 'dataChannelCounters') hostCounters.set(host, validCounters(message.counters));
        },
        stop() {
          if (stopped) return;
          stopped = true;
          if (dataChannelHost === host) dataChannelHost = null;
          for (const link of links.values()) link.withdrawFrom(host);
          const last = hostCounters.get(host);
          if (last !== undefined) addCounters(stoppedHostCounters, last);
          hostCounters.delete(host);
        },
      };
    },
    close() {
      if (closed) return;
      closed = true;
      dataChannelHost = null;
      unsubscribePeers();
      unsubscribeSignals();
      for (const link of links.values()) link.close();
      links.clear();
      unlisted.clear();
      peers.set(new Set());
    },
  };
  madeHere.add(transport);
  return transport;
}

/** `WebRtcTransport` as a value: what `new WebRtcTransport(options)` and `WebRtcTransport(options)` build. */
export interface WebRtcTransportConstructor {
  new (options: WebRtcTransportOptions): WebRtcTransport;
  (options: WebRtcTransportOptions): WebRtcTransport;
  /** Whether the value is a transport this module made. */
  [Symbol.hasInstance](value: unknown): boolean;
}

/**
 * API.md names the transport `WebRtcTransport` (raftmesh/webrtc), the name an application reaches
 * for first: with or without `new`, it is `createWebRtcTransport(options)`. A constructor function
 * that returns an object yields that object, so the transport stays the plain object the factory
 * makes (its methods close over their state and may be passed around unbound).
 *
 * Marked pure: the package root re-exports this module, and a bundler keeps a top-level call it
 * cannot prove harmless, and with it the whole transport and signaling client, in the bundle of an
 * application that uses neither (+40 kB minified under Vite; webrtc-transport-bundle.test.ts).
 */
export const WebRtcTransport = /* @__PURE__ */ Object.defineProperty(
  function WebRtcTransport(options: WebRtcTransportOptions): WebRtcTransport {
    return createWebRtcTransport(options);
  },
  Symbol.hasInstance,
  { value: (value: unknown): boolean => typeof value === 'object' && value !== null && madeHere.has(value as WebRtcTransport) },
) as unknown as WebRtcTransportConstructor;
