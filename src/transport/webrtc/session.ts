// One connection attempt to one peer, from the offer to its close: the peer connection, the
// handshake, then the data path. A session never comes back once closed; the link (peer-link.ts)
// starts a new one. `from` on what it delivers is the peer the handshake authenticated. Channels
// 2 and 3, and the pairs that replace them, go to the engine's worker when one is attached, else
// stay here, receive only (engine-channels.ts, data-channel-hand-off.ts).
import type { Clock } from '../../core/config.ts';
import type { NodeId } from '../../core/types.ts';
import type { ConnectionSignal } from './connection-signal.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import { parseEngineChannelText, type DataChannelHost } from './data-channel-hand-off.ts';
import { createDataPath, type DataPath } from './data-path.ts';
import { createEngineChannels, type EngineChannels, type EngineChannelsRenewal } from './engine-channels.ts';
import { createHandshake, type Handshake } from './handshake.ts';
import type { WebRtcTransportLimits } from './limits.ts';
import { restartMarksAnnouncement } from './link-signal.ts';
import type { EnginePair, OpenConnection, PeerConnection, WebRtcImplementation } from './peer-connection.ts';
import { createSignalBudget } from './signal-budget.ts';

export interface SessionOptions {
  readonly id: string;
  readonly selfId: NodeId;
  readonly peerId: NodeId;
  readonly roomId: string;
  readonly secret: string | undefined;
  readonly initiator: boolean;
  readonly limits: WebRtcTransportLimits;
  readonly clock: Clock;
  readonly iceServers: readonly RTCIceServer[];
  readonly webrtc: WebRtcImplementation | undefined;
  readonly openConnection: OpenConnection;
  readonly counters: WebRtcTransportCounters;
  /** Where engine channels go (an engine's worker), or null to keep them here; read when a pair is created. */
  readonly dataChannelHost: () => DataChannelHost | null;
  /**
   * `restart`: an offer after the connection's first (an ICE restart's), to a peer that said it
   * reads the mark (link-signal.ts); false for any other signal, and for a peer that did not say.
   */
  readonly sendSignal: (signal: ConnectionSignal, restart: boolean) => void;
  /** The answerer cannot restart ICE itself: it asks the initiator through signaling. */
  readonly requestIceRestart: () => void;
  readonly deliver: (frame: Uint8Array) => void;
  /** Authenticated and ICE connected (true), or ICE disconnected for now (false). */
  readonly onReachable: (reachable: boolean) => void;
  readonly onClosed: (reason: string) => void;
  /** This side gathered no local ICE candidate (counted here already): the transport says what it means once. */
  readonly onNoLocalCandidates: () => void;
  /** The peer failed the handshake (counted here already in authenticationFailures); `reason` says how. */
  readonly onAuthenticationFailed: (reason: string) => void;
  /** The peer said it listens on engine channels (a pair may now be worth renewing). */
  readonly onPeerListens: () => void;
}

export type SessionState = 'connecting' | 'authenticating' | 'ready' | 'closed';

/**
 * What restartIce() did: started one; had nothing to do now (not ready, not the offerer, one
 * under way, or this runtime cannot restart ICE); or refused it, over maxIceRestartsPerMinute.
 */
export type IceRestartOutcome = 'restarting' | 'not-now' | 'refused';

export interface Session {
  readonly id: string;
  readonly startedAtMs: number;
  readonly state: SessionState;
  /**
   * The host this session's current engine channels were offered to (null: none was attached, or
   * it withdrew), whether or not they could be transferred: a new host needs a new pair.
   */
  readonly offeredTo: DataChannelHost | null;
  /**
   * Whether the peer ever said it listens on engine channels in this session (a peer of 0.2
   * never does), even if it withdrew it since: a peer that can use them is worth a renewal.
   */
  readonly peerKnowsEngineChannels: boolean;
  /** The worker `host` took the engine channels named `name` (DataChannelService.receive). */
  channelsTaken(host: DataChannelHost, name: string): void;
  /** The worker `host` lost the engine channels named `name` in use: a fresh pair follows. */
  channelsLost(host: DataChannelHost, name: string): void;
  /**
   * A ready session gets a fresh pair of engine channels for the host attached now, on this
   * connection; 'not-ready' before (or after) that, 'out-of-generations' when only a new
   * connection can (engine-channels.ts).
   */
  renewEngineChannels(): EngineChannelsRenewal;
  /** `host`'s worker is going away: if it took this session's channels, tell the peer to stop using them. */
  withdrawFrom(host: DataChannelHost): void;
  /** A signal from the peer, within this attempt's budget (signal-budget.ts); what it cannot take is dropped and counted. */
  applySignal(signal: ConnectionSignal): void;
  /** False when not ready or the queue is full (the caller counts which). */
  send(frame: Uint8Array): boolean;
  /** The offerer restarts ICE (asked by the peer or the application). */
  restartIce(): IceRestartOutcome;
  /** `superseded`: a newer session authenticated and takes over, so this is no lost connection. */
  close(reason: string, superseded?: boolean): void;
}

/** Handshake messages a peer may send before this side has opened (they are tiny and few). */
const maxEarlyHandshakeMessages = 8;

export function startSession(options: SessionOptions): Session {
  const { clock, counters, limits } = options;
  let state: SessionState = 'connecting';
  let handshake: Handshake | null = null;
  let dataPath: DataPath | null = null;
  let iceRestartTimer: unknown = null;
  const earlyMessages: string[] = [];
  /** Whether this side offered on this connection already (its next offer is a restart's). */
  let offered = false;
  /** Whether the peer said it reads `restart` on offers (the initiator's; restartMarksAnnouncement). */
  let peerReadsRestartMarks = false;
  const signalBudget = createSignalBudget(limits, clock);
  counters.connectionAttempts++;
  const connection: PeerConnection = options.openConnection({
    initiator: options.initiator,
    iceServers: options.iceServers,
    ...(options.webrtc === undefined ? {} : { webrtc: options.webrtc }),
    events: {
      signal: (signal) => sendSignal(signal),
      open: () => beginHandshake(),
      close: (reason) => close(reason),
      iceState: (iceState) => onIceState(iceState),
      noLocalCandidates: () => {
        counters.connectionsWithoutLocalCandidates++;
        options.onNoLocalCandidates();
      },
    },
  });
  const connectTimer = clock.setTimeout(() => close(`not connected and authenticated within ${limits.connectTimeoutMs} ms`), limits.connectTimeoutMs);
  const pathOptions = {
    limits,
    clock,
    counters,
    deliver: options.deliver,
    onSendFailure: (error: unknown) => close(`send failed: ${error instanceof Error ? error.message : String(error)}`),
  };
  connection.control.addEventListener('message', (event) => onControlMessage(event.data));
  connection.bulk.addEventListener('message', (event) => onBinary(event.data, (data) => dataPath?.receive('bulk', data)));
  // In this task: Chromium transfers a channel only in the task that created it.
  const engineChannels: EngineChannels = createEngineChannels(
    {
      peerId: options.peerId,
      sessionId: options.id,
      initiator: options.initiator,
      limits,
      counters,
      clock,
      host: options.dataChannelHost,
      openPair: (generation) => connection.openEngineChannels(generation),
      keep: keepEnginePair,
      sendText,
      onPeerListens: options.onPeerListens,
      onFailure: (reason) => close(reason),
    },
    { control: connection.engineControl, bulk: connection.engineBulk },
  );

  function sendSignal(signal: ConnectionSignal): void {
    const isOffer = signal.type === 'description' && signal.description.type === 'offer';
    const restart = isOffer && offered && peerReadsRestartMarks;
    if (isOffer) offered = true;
    options.sendSignal(signal, restart);
  }

  /**
   * Engine channels kept here, receive only: this page sends everything on channels 0 and 1 (the
   * peer listens there in every version). Per peer this doubles the reassembly bound.
   */
  function keepEnginePair(pair: EnginePair): () => number {
    const path = createDataPath({ ...pathOptions, control: pair.control, bulk: pair.bulk });
    let stopped = false;
    pair.control.addEventListener('message', (event) => onBinary(event.data, (data) => !stopped && path.receive('control', data)));
    pair.bulk.addEventListener('message', (event) => onBinary(event.data, (data) => !stopped && path.receive('bulk', data)));
    return () => {
      if (stopped) return 0;
      stopped = true;
      for (const channel of [pair.control, pair.bulk]) {
        try {
          channel.close();
        } catch (_error) {
          // already closed with the connection
        }
      }
      return path.close();
    };
  }

  function onControlMessage(data: unknown): void {
    if (typeof data !== 'string') return onBinary(data, (bytes) => dataPath?.receive('control', bytes));
    // It only lets this side mark its restart offers, so it is taken at any time.
    if (data === restartMarksAnnouncement) {
      peerReadsRestartMarks = true;
      return;
    }
    // Announcements and withdrawals are taken at any time (they only set what the worker may do
    // once this side is ready too); "open" and "request" only once ready (engine-channels.ts).
    const engineChannelText = parseEngineChannelText(data);
    if (engineChannelText !== null) return engineChannels.receiveText(engineChannelText);
    if (handshake !== null) return handshake.receive(data);
    if (earlyMessages.length >= maxEarlyHandshakeMessages) return close('too many handshake messages before the channel opened');
    earlyMessages.push(data);
  }

  function onBinary(data: unknown, receive: (data: unknown) => void): void {
    if (state === 'closed') return;
    // Frames count only once this side verified the peer; the peer waits for our acceptance,
    // so anything earlier is a protocol violation.
    if (dataPath === null || handshake?.peerVerified !== true) {
      counters.framesDroppedUnauthenticated++;
      return;
    }
    receive(data);
  }

  function beginHandshake(): void {
    if (state !== 'connecting') return;
    const descriptions = connection.descriptions();
    if (descriptions === null) return close('the channel opened without both session descriptions');
    state = 'authenticating';
    // The data path exists from here so frames of a peer that verified us early are not lost;
    // it sends only once we are ready (send() checks the state).
    dataPath = createDataPath({ ...pathOptions, control: connection.control, bulk: connection.bulk });
    handshake = createHandshake({
      roomId: options.roomId,
      secret: options.secret,
      localNodeId: options.selfId,
      remoteNodeId: options.peerId,
      localSdp: descriptions.local,
      remoteSdp: descriptions.remote,
      send: (text) => sendText(text),
      onAuthenticated: () => becomeReady(),
      onFailed: (reason) => {
        counters.authenticationFailures++;
        close(`peer authentication failed: ${reason}`);
        options.onAuthenticationFailed(reason);
      },
    });
    handshake.start();
    for (const message of earlyMessages.splice(0)) handshake.receive(message);
  }

  function sendText(text: string): void {
    if (state === 'closed') return;
    try {
      connection.control.send(text);
    } catch (error) {
      close(`handshake send failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  function becomeReady(): void {
    if (state !== 'authenticating') return;
    state = 'ready';
    clock.clearTimeout(connectTimer);
    counters.connectionsEstablished++;
    // Engine channels first: the link renews them on hearing the session is reachable (for a host
    // attached while it connected, once the peer announced, which it may have done already), and
    // a renewal asked of channels not yet ready was once taken for generations running out.
    engineChannels.becomeReady();
    // The peer verified us before it accepted us, and our acceptance precedes this on the ordered
    // channel: it arrives after the peer's handshake ended, where an earlier version ignores text.
    if (!options.initiator) sendText(restartMarksAnnouncement);
    // The announcement may have failed to send, which closes the session.
    if (isClosed()) return;
    options.onReachable(true);
  }

  function onIceState(iceState: RTCIceConnectionState): void {
    if (state !== 'ready') return;
    if (iceState === 'disconnected' && iceRestartTimer === null) {
      options.onReachable(false);
      // The link may close this session on hearing that (a newer attempt is already the repair).
      if (isClosed()) return;
      if (options.initiator) startIceRestart();
      else {
        counters.iceRestarts++;
        options.requestIceRestart();
      }
      // Restarted or not (refused, or a runtime that cannot), ICE has this long to recover.
      iceRestartTimer = clock.setTimeout(() => close(`ICE did not recover within ${limits.iceRestartTimeoutMs} ms`), limits.iceRestartTimeoutMs);
    } else if ((iceState === 'connected' || iceState === 'completed') && iceRestartTimer !== null) {
      clock.clearTimeout(iceRestartTimer);
      iceRestartTimer = null;
      options.onReachable(true);
    }
  }

  /** The offerer restarts ICE on this connection, within the bound on restarts (signal-budget.ts). */
  function startIceRestart(): IceRestartOutcome {
    if (!signalBudget.startRestart()) return 'refused';
    if (!connection.restartIce()) return 'not-now';
    counters.iceRestarts++;
    return 'restarting';
  }

  /** Read through a call so the compiler does not narrow `state` across a callback. */
  function isClosed(): boolean {
    return state === 'closed';
  }

  function close(reason: string, superseded = false): void {
    if (state === 'closed') return;
    const wasReady = state === 'ready' && !superseded;
    state = 'closed';
    clock.clearTimeout(connectTimer);
    if (iceRestartTimer !== null) clock.clearTimeout(iceRestartTimer);
    counters.framesDroppedOnDisconnect += (dataPath?.close() ?? 0) + engineChannels.close();
    if (wasReady) counters.connectionsLost++;
    connection.destroy();
    options.onClosed(reason);
  }

  const startedAtMs = clock.now();
  return {
    id: options.id,
    startedAtMs,
    get state() {
      return state;
    },
    get offeredTo() {
      return engineChannels.offeredTo;
    },
    get peerKnowsEngineChannels() {
      return engineChannels.peerAnnounced;
    },
    channelsTaken: (host, name) => engineChannels.taken(host, name),
    channelsLost: (host, name) => engineChannels.lost(host, name),
    withdrawFrom: (host) => engineChannels.withdrawFrom(host),
    renewEngineChannels: () => (state === 'ready' ? engineChannels.renew() : 'not-ready'),
    applySignal(signal) {
      // An offer on a ready connection is the offerer's ICE restart: a fresh share of signals,
      // within the bound on restarts.
      const restart = state === 'ready' && !options.initiator && signal.type === 'description' && signal.description.type === 'offer';
      if ((restart && !signalBudget.startRestart()) || !signalBudget.take()) {
        counters.signalsDropped++;
        return;
      }
      try {
        connection.applySignal(signal);
      } catch (_error) {
        // The WebRTC implementation refused it as it came (simple-peer applies some of a signal
        // synchronously, and RTCIceCandidate's constructor throws on input it rejects). Thrown
        // from here it reached the signaling listener and, in Node, ended the process; dropped
        // and counted, the session goes on as if it never came (it changed nothing).
        counters.signalsDropped++;
      }
    },
    send: (frame) => state === 'ready' && dataPath !== null && dataPath.send(frame),
    restartIce() {
      // Both sides notice a disconnection: one restart at a time.
      if (state !== 'ready' || !options.initiator || iceRestartTimer !== null) return 'not-now';
      return startIceRestart();
    },
    close,
  };
}
