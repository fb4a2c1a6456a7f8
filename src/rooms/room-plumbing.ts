// A room peer's plumbing for one node id: its signaling client, the transport over it, the room
// channel beside Raft's frames, presence (hellos) and the unreachable-peer watch; the contexts
// through which the client and the transport say why peers cannot be reached (signalingRetry,
// peerAuthenticationFailed); and closing the transport joinRoom opened, tolerant of a throw there
// (its storage: storage/close-storage.ts).
import type { Clock } from '../core/config.ts';
import { realClock } from '../driver/node-options.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import type { SignalingRetry } from '../signaling/websocket-client.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import type { PeerAuthenticationFailure } from '../transport/webrtc/webrtc-transport.ts';
import { createPeerAuthenticationReports } from './peer-authentication-reports.ts';
import { requireTransportSecret, type TransportContext } from './transport-context.ts';
import { heldPeersGraceMs, listedAcrossReconnects } from './discover-cluster.ts';
import { createRoomChannel, type RoomChannel } from './room-channel.ts';
import { createRoomPresence, type RoomPresence } from './room-presence.ts';
import { watchUnreachablePeers, type UnreachablePeers } from './unreachable-peers.ts';
import { documentVisibility, type VisibilitySource } from './visibility.ts';
import type { JoinRoomOptions } from './join-room-options.ts';
import { emitSafely, reasonOf } from './room-events.ts';
import type { NodeIdentity } from './room-identity.ts';

/** Closes a transport joinRoom had made, when it has a `close`; a throw there must not stop a leave or a rejoin. */
function closeTransport(transport: RaftTransport): void {
  try {
    transport.close?.();
  } catch {
    // A transport that fails to close is one nobody uses any more.
  }
}


/**
 * The application's transport over `signaling`, refused (both closed, and a TypeError thrown) when
 * it is a WebRTC transport that does not use the room secret (transport-context.ts).
 */
function createTransport<State, Command>(options: JoinRoomOptions<State, Command>, signaling: SignalingClient, context: TransportContext): RaftTransport {
  let transport: RaftTransport | null = null;
  try {
    transport = options.createTransport(signaling, context);
    requireTransportSecret(transport, options.secret);
    return transport;
  } catch (error) {
    // Nothing else holds them yet: the join fails here, and would otherwise leave both open.
    if (transport !== null) closeTransport(transport);
    signaling.close();
    throw error;
  }
}

/** The signaling context's `onRetry`: each failed attempt of the client, as a `signalingRetry` event. */
function reportRetries<State, Command>(options: JoinRoomOptions<State, Command>, clock: Clock, closed: () => boolean): (retry: SignalingRetry) => void {
  return (retry) => {
    if (closed()) return;
    emitSafely(options.onEvent, { type: 'signalingRetry', attempt: retry.attempt, delayMs: retry.delayMs, reason: retry.reason, at: clock.now() });
  };
}

/** The transport context's `onAuthenticationFailure`: a `peerAuthenticationFailed` event, bounded per peer (peer-authentication-reports.ts). */
function reportAuthenticationFailures<State, Command>(options: JoinRoomOptions<State, Command>, clock: Clock, closed: () => boolean): (failure: PeerAuthenticationFailure) => void {
  const reports = createPeerAuthenticationReports(clock);
  return (failure) => {
    if (closed()) return;
    const failures = reports.failed(failure.peer);
    if (failures === null) return;
    emitSafely(options.onEvent, { type: 'peerAuthenticationFailed', peer: failure.peer, reason: failure.reason, failures, at: clock.now() });
  };
}

export interface Plumbing {
  readonly signaling: SignalingClient;
  readonly channel: RoomChannel;
  readonly presence: RoomPresence;
  readonly visibility: VisibilitySource;
  readonly unreachable: UnreachablePeers;
  /** Whether the signaling client has stopped for good (its `closed` settled). */
  signalingStopped(): boolean;
  /** Why it stopped for good, when something else than our own close() stopped it (refused, or gave up). */
  signalingFailure(): Error | null;
  close(): void;
}

export function connect<State, Command>(options: JoinRoomOptions<State, Command>, identity: NodeIdentity, gossipIntervalMs: number, discoveryMs: number): Plumbing {
  const clock = options.raftConfig?.clock ?? realClock;
  const id = identity.id;
  let closedByUs = false;
  const secret = options.secret === undefined ? {} : { secret: options.secret };
  const signaling =
    typeof options.signaling === 'function'
      ? options.signaling({ roomId: options.room, nodeId: id, ...secret, ...(identity.claim === null ? {} : { claim: identity.claim }), onRetry: reportRetries(options, clock, () => closedByUs) })
      : options.signaling;
  const transport = createTransport(options, signaling, { ...secret, onAuthenticationFailure: reportAuthenticationFailures(options, clock, () => closedByUs) });
  const channel = createRoomChannel(transport);
  const visibility = options.visibility ?? documentVisibility();
  const presence = createRoomPresence({ channel, clock, visible: visibility.visible, gossipIntervalMs, neverLeads: options.raftConfig?.witness === true });
  // A client stopped for good (refused, or given up) lists nobody again: peers it listed
  // before are no longer held as if they might come back (discover-cluster.ts listedAcrossReconnects).
  let stopped = false;
  let failure: Error | null = null;
  const stoppedFor = (reason: Error | null): void => {
    stopped = true;
    failure = reason;
    if (reason === null || closedByUs) return;
    emitSafely(options.onEvent, { type: 'signalingStopped', reason: reasonOf(reason), at: clock.now() });
  };
  signaling.closed.then(stoppedFor, (error: unknown) => stoppedFor(error instanceof Error ? error : new Error(String(error))));
  const unreachable = watchUnreachablePeers({
    selfId: id,
    // The same list discovery counts: a signaling reconnect does not make the banner go blank.
    listed: listedAcrossReconnects({
      listed: () => signaling.peers.value,
      ready: () => signaling.ready?.value ?? true,
      clock,
      holdMs: heldPeersGraceMs + discoveryMs,
      closedForGood: () => stopped,
    }),
    reachable: channel.transport.peers,
    clock,
    // Forming a connection takes a moment: a peer counts once it is overdue by discovery's measure.
    graceMs: Math.max(discoveryMs, 2 * gossipIntervalMs),
    checkIntervalMs: Math.min(gossipIntervalMs, 250),
    report: (event) => options.onEvent?.(event),
  });
  /** Set once `gone` is subscribed to, below: declared first, since a source may announce at once. */
  let stopWatchingGone: (() => void) | undefined;
  const plumbing: Plumbing = {
    signaling,
    channel,
    presence,
    visibility,
    unreachable,
    signalingStopped: () => stopped,
    signalingFailure: () => failure,
    close() {
      // Once: a node that stopped closes its plumbing, and the leave that follows closes it again.
      if (closedByUs) return;
      closedByUs = true;
      stopWatchingGone?.();
      unreachable.close();
      presence.close();
      channel.close();
      // The transport too: the room channel only stops listening to it. A WebRTC transport left
      // open kept its connections, so the room's other pages saw a page that left, or an id this
      // page gave up, as reachable for as long as this page lived, and the policy never drops a
      // reachable member (found by npm run chaos:rooms).
      closeTransport(transport);
      signaling.close();
      if (options.visibility === undefined) visibility.close();
    },
  };
  // A page going away: its connections close now, so its peers see it leave at once instead of
  // a connected member gone silent until their links time out. The node dies with the page.
  const unsubscribeGone = visibility.gone?.subscribe(() => plumbing.close());
  // Closed already (a source that announced at once): nothing more to listen to.
  if (closedByUs) unsubscribeGone?.();
  else stopWatchingGone = unsubscribeGone;
  return plumbing;
}
