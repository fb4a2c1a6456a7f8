// Everything about one remote peer over time: which side offers, the current session, and
// reconnecting. The node with the smaller id always initiates, so two peers never offer to each
// other at once (no glare) and there is exactly one connection per pair.
//
// Reconnect: when a session closes (channel closed, ICE failed, handshake failed or timed out),
// the initiator offers again after a capped exponential backoff with full jitter; the answerer,
// which cannot offer, asks for an offer (`connect-request`) on the same schedule, so a peer that
// restarted, or noticed the loss first, brings the other back. ICE trouble on a live session is
// tried first with an ICE restart (session.ts). Retries pause while the peer is absent from
// signaling (nothing can reach it) and start at once when it reappears.
//
// An offer or a connect-request proves nothing: anyone who can signal under the peer's id (a
// member id taken over in an open room, a hostile server) can send one. So a ready session is
// not closed for a newer attempt; it keeps carrying frames until that attempt authenticates, and
// carries on alone if the attempt fails. ICE trouble on it meanwhile gets its own ICE restart,
// unless the newer attempt's connection opened already (newerAttemptRepairs). The newcomer stays
// on this page's channels meanwhile, so the engine's worker keeps the pair it uses.
import type { Clock } from '../../core/config.ts';
import type { NodeId } from '../../core/types.ts';
import { reconnectDelayMs } from '../../signaling/backoff.ts';
import { randomNonce } from '../../signaling/hmac.ts';
import type { DataChannelHost } from './data-channel-hand-off.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import type { WebRtcTransportLimits } from './limits.ts';
import { encodeLinkSignal, parseLinkSignal, type LinkSignal } from './link-signal.ts';
import type { OpenConnection, WebRtcImplementation } from './peer-connection.ts';
import { startSession, type Session } from './session.ts';

export interface PeerLinkOptions {
  readonly selfId: NodeId;
  readonly peerId: NodeId;
  readonly roomId: string;
  readonly secret: string | undefined;
  readonly limits: WebRtcTransportLimits;
  readonly clock: Clock;
  readonly random: () => number;
  readonly iceServers: readonly RTCIceServer[];
  readonly webrtc: WebRtcImplementation | undefined;
  readonly openConnection: OpenConnection;
  readonly counters: WebRtcTransportCounters;
  /** Where a session's engine channels go (data-channel-hand-off.ts), read whenever a pair is created. */
  readonly dataChannelHost: () => DataChannelHost | null;
  /** Sends a payload to this peer through signaling (best effort). */
  readonly signal: (payload: string) => void;
  readonly deliver: (frame: Uint8Array) => void;
  readonly onReachable: (reachable: boolean) => void;
  /** A session to this peer gathered no local ICE candidate (session.ts). */
  readonly onNoLocalCandidates: () => void;
  /** A session to this peer failed the handshake (session.ts; counted in authenticationFailures). */
  readonly onAuthenticationFailed: (reason: string) => void;
}

export type LinkSendOutcome = 'sent' | 'unreachable' | 'queue-full';

export interface PeerLink {
  readonly reachable: boolean;
  setPresent(present: boolean): void;
  receiveSignal(payload: string): void;
  send(frame: Uint8Array): LinkSendOutcome;
  /** Drops the current session (if any) and reconnects as after a loss. */
  disconnect(): void;
  /** Restarts ICE on the current session (the answerer asks the initiator to). */
  restartIce(): void;
  /**
   * Gets the current session's engine channels to the host attached now, if it offered them to
   * another: a fresh pair on the live connection once it is ready, or (out of generations) a new
   * connection. Nothing while the peer never said it listens on them (0.2).
   */
  renew(): void;
  /** The worker `host` took the engine channels named `name`. */
  channelsTaken(host: DataChannelHost, name: string): void;
  /** The worker `host` lost the engine channels named `name` in use (a fresh pair follows). */
  channelsLost(host: DataChannelHost, name: string): void;
  /** `host`'s worker is going away: the peer must stop sending on channels it took. */
  withdrawFrom(host: DataChannelHost): void;
  close(): void;
}

/** An answerer's connect-request does not interrupt an offer younger than this (it may be in flight). */
const offerInFlightGraceMs = 2_000;

export function createPeerLink(options: PeerLinkOptions): PeerLink {
  const { clock, limits, counters } = options;
  const initiator = options.selfId < options.peerId;
  /** The newest attempt: where new signals go, and what serves once it is ready. */
  let session: Session | null = null;
  /** A ready session kept serving while `session`, newer and not ready yet, authenticates. */
  let serving: Session | null = null;
  let present = false;
  let reachable = false;
  let failures = 0;
  let retryTimer: unknown = null;
  let closed = false;

  const send = (signal: LinkSignal): void => options.signal(encodeLinkSignal(signal));
  const setReachable = (value: boolean): void => {
    if (reachable === value) return;
    reachable = value;
    options.onReachable(value);
  };
  const cancelRetry = (): void => {
    if (retryTimer !== null) clock.clearTimeout(retryTimer);
    retryTimer = null;
  };
  /** The session frames go through: the one kept serving, else the newest. */
  const active = (): Session | null => serving ?? session;

  function scheduleRetry(delayMs = reconnectDelayMs(failures, limits.reconnectDelayMinMs, limits.reconnectDelayMaxMs, options.random)): void {
    cancelRetry();
    if (closed || !present) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = null;
      retry();
    }, delayMs);
  }

  function retry(): void {
    if (closed || !present || session !== null) return;
    if (initiator) return connect();
    send({ type: 'connect-request', session: '' });
    failures++;
    scheduleRetry();
  }

  /**
   * A newer attempt could not even start, or failed: the session kept serving carries on, and
   * gets a pair to a host attached meanwhile (renew() waited for the newer attempt).
   */
  function fallBackToServing(): boolean {
    if (serving === null) return false;
    session = serving;
    serving = null;
    renew();
    return true;
  }

  function open(id: string): Session {
    cancelRetry();
    const previous = session;
    session = null; // so the superseded attempt's close is not taken for a loss
    if (previous?.state === 'ready') serving = previous;
    else previous?.close('superseded by a new session');
    if (serving === null) setReachable(false);
    // On probation while a ready session serves: its first engine channels stay on this page
    // (a worker holds one pair per peer, and would drop the serving session's for them).
    let onProbation = serving !== null;
    // Assigned once startSession returns; its callbacks run only later.
    let current: Session;
    try {
      current = startSession({
        ...options,
        id,
        initiator,
        dataChannelHost: () => (onProbation ? null : options.dataChannelHost()),
        sendSignal: (signal, restart) => send({ type: 'connection', session: id, signal, ...(restart ? { restart: true } : {}) }),
        requestIceRestart: () => send({ type: 'ice-restart', session: id }),
        onReachable: (value) => {
          if (current === serving) {
            if (!value && newerAttemptRepairs()) return current.close('ICE disconnected while a newer connection is being made');
            // The newest attempt is not ready (it would have replaced this one), so this one speaks;
            // and restarts ICE on its own (session.ts) when the newer attempt proves nothing yet.
            setReachable(value);
            return;
          }
          if (session !== current) return;
          if (value) {
            failures = 0;
            onProbation = false;
            const superseded = serving;
            serving = null;
            superseded?.close('superseded by a newer authenticated session', true);
          }
          setReachable(value);
          // A host attached while this session was connecting (or on probation): it gets a pair
          // now that it can (once the peer announced engine channels, which onPeerListens hears).
          if (value) renew();
        },
        onPeerListens: () => {
          if (session === current) renew();
        },
        onClosed: () => {
          if (current === serving) {
            // The newer attempt carries on; its own close schedules any retry.
            serving = null;
            setReachable(false);
            return;
          }
          if (session !== current) return;
          // The newer attempt failed (unproven, or not answered in time): nothing was lost.
          if (fallBackToServing()) return;
          session = null;
          setReachable(false);
          failures++;
          scheduleRetry();
        },
      });
    } catch (error) {
      // No WebRTC in this runtime, or the browser refused a new connection: the session kept
      // serving, if any, carries on, and the caller decides about a retry.
      fallBackToServing();
      throw error;
    }
    session = current;
    return current;
  }

  /**
   * Whether the newer attempt is the repair when ICE on the serving session's path fails, so the
   * serving session closes instead of restarting ICE. An ICE restart's offer would reach a peer
   * that may have lost the serving session already, which (in an earlier version; this one drops
   * it, see onAnswererSignal) would take it for a new session and close the newer attempt for it.
   * But an offer or a connect-request proves nothing, and closing for one let anyone who signals
   * under the peer's id turn a brief ICE drop into a lost connection. Past 'connecting', the newer
   * attempt's connection opened: a peer answered its offer (or offered it) with a real connection
   * over a path that works now, and it authenticates within moments. Not 'ready': a ready newer
   * attempt has replaced the serving session already.
   */
  function newerAttemptRepairs(): boolean {
    return serving !== null && session !== null && session.state === 'authenticating';
  }

  /**
   * Gets the current session's engine channels to the host attached now: a fresh pair on its
   * connection (engine-channels.ts), once the session is ready and the peer said it listens on
   * engine channels (becoming ready and that word both call this again). A connection that has
   * used up its generations is closed instead, and the new session takes its channels to the
   * host attached then, as after any loss.
   */
  function renew(): void {
    const current = session;
    // While a newer attempt is pending, it takes the host's pair once it authenticates, or the
    // session serving now does once that attempt fails (fallBackToServing).
    if (serving !== null) return;
    if (closed || !present || current === null || current.offeredTo === options.dataChannelHost()) return;
    if (current.state !== 'ready' || !current.peerKnowsEngineChannels) return;
    // Only generations running out closes the connection; 'not-ready' is no reason to (the session
    // renews when it becomes ready, and this is called again then).
    if (current.renewEngineChannels() === 'out-of-generations') current.close('no generation of engine channels left: a new connection for the new worker');
  }

  function connect(): void {
    if (closed || !present) return;
    try {
      open(randomNonce().slice(0, 32));
    } catch (_error) {
      // open() left the session that was serving, if any, in place: retry only without one.
      if (session !== null) return;
      failures++;
      scheduleRetry();
    }
  }

  /** The session a signal names: the newest attempt, or the one kept serving (its ICE restarts). */
  function named(id: string): Session | null {
    if (session?.id === id) return session;
    return serving?.id === id ? serving : null;
  }

  function onInitiatorSignal(signal: LinkSignal): void {
    if (signal.type === 'connect-request') {
      const current = session;
      const offerMayBeInFlight = current !== null && current.state === 'connecting' && clock.now() - current.startedAtMs < offerInFlightGraceMs;
      if (!offerMayBeInFlight) connect();
      return;
    }
    const target = named(signal.session);
    if (target === null) return void counters.signalsDropped++;
    // Restarts are bounded per minute, a peer's requests included (signal-budget.ts).
    if (signal.type === 'ice-restart') {
      if (target.restartIce() === 'refused') counters.signalsDropped++;
      return;
    }
    // The session bounds what it takes per attempt (signal-budget.ts).
    if (signal.type === 'connection') target.applySignal(signal.signal);
  }

  /**
   * An offer for a session this side does not hold starts one, unless it is marked a restart's:
   * an ICE restart of a connection this side no longer has (lost, closed, or held by a link this
   * transport forgot, or by the page before a reload). Its answer, from another connection with
   * another certificate, could never complete the restart, and taken for a new session it would
   * supersede the attempt in progress. The mark, not a memory of closed sessions, tells: a link
   * made afresh remembers nothing.
   */
  function onAnswererSignal(signal: LinkSignal): void {
    if (signal.type !== 'connection') return void counters.signalsDropped++;
    let target = named(signal.session);
    if (target === null) {
      const isOffer = signal.signal.type === 'description' && signal.signal.description.type === 'offer';
      if (!isOffer || signal.restart === true) return void counters.signalsDropped++;
      try {
        target = open(signal.session);
      } catch (_error) {
        return void counters.signalsDropped++;
      }
    }
    target.applySignal(signal.signal);
  }

  return {
    get reachable() {
      return reachable;
    },
    setPresent(value) {
      if (closed || present === value) return;
      present = value;
      if (!value) return cancelRetry();
      failures = 0;
      // The initiator offers at once; the answerer first gives that offer time to arrive.
      if (session === null) scheduleRetry(initiator ? 0 : limits.reconnectDelayMinMs);
    },
    receiveSignal(payload) {
      if (closed) return;
      const signal = parseLinkSignal(payload);
      if (signal === null) return void counters.signalsDropped++;
      if (initiator) onInitiatorSignal(signal);
      else onAnswererSignal(signal);
    },
    send(frame) {
      const current = active();
      if (current === null || current.state !== 'ready') return 'unreachable';
      return current.send(frame) ? 'sent' : 'queue-full';
    },
    disconnect() {
      // The one kept serving first, so the newer attempt's close is taken for the loss.
      serving?.close('disconnected on request');
      session?.close('disconnected on request');
    },
    renew,
    // Channel names carry their session's id, so each session takes only what is its own.
    channelsTaken(host, name) {
      serving?.channelsTaken(host, name);
      session?.channelsTaken(host, name);
    },
    channelsLost(host, name) {
      serving?.channelsLost(host, name);
      session?.channelsLost(host, name);
    },
    withdrawFrom(host) {
      serving?.withdrawFrom(host);
      session?.withdrawFrom(host);
    },
    restartIce() {
      const current = active();
      if (current === null || current.state !== 'ready') return;
      if (initiator) current.restartIce();
      else send({ type: 'ice-restart', session: current.id });
    },
    close() {
      if (closed) return;
      closed = true;
      cancelRetry();
      serving?.close('transport closed');
      session?.close('transport closed');
      serving = null;
      session = null;
      setReachable(false);
    },
  };
}
