// One connection attempt to one peer, from the offer to its close: the peer connection, the
// handshake, then the data path. A session never comes back once closed; the link (peer-link.ts)
// starts a new one. `from` on what it delivers is the peer the handshake authenticated. Channels
// 2 and 3 go to the engine's worker when one is attached, else stay here, receive only
// (data-channel-hand-off.ts).
import type { Clock } from '../../core/config.ts';
import type { NodeId } from '../../core/types.ts';
import type { ConnectionSignal } from './connection-signal.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import { engineChannelsAnnouncement, engineChannelsWithdrawal, type DataChannelHost } from './data-channel-hand-off.ts';
import { createDataPath, type DataPath } from './data-path.ts';
import { createHandshake, type Handshake } from './handshake.ts';
import type { WebRtcTransportLimits } from './limits.ts';
import type { OpenConnection, PeerConnection, WebRtcImplementation } from './peer-connection.ts';

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
  /** Where channels 2 and 3 go (an engine's worker), or null to keep them here. */
  readonly dataChannelHost: DataChannelHost | null;
  readonly sendSignal: (signal: ConnectionSignal) => void;
  /** The answerer cannot restart ICE itself: it asks the initiator through signaling. */
  readonly requestIceRestart: () => void;
  readonly deliver: (frame: Uint8Array) => void;
  /** Authenticated and ICE connected (true), or ICE disconnected for now (false). */
  readonly onReachable: (reachable: boolean) => void;
  readonly onClosed: (reason: string) => void;
  /** The peer said it listens on channels 2 and 3 (a connection may now be worth renewing). */
  readonly onPeerListens: () => void;
}

export type SessionState = 'connecting' | 'authenticating' | 'ready' | 'closed';

export interface Session {
  readonly id: string;
  readonly startedAtMs: number;
  readonly state: SessionState;
  /**
   * The host this session offered channels 2 and 3 to (null: none was attached), whether or not
   * they could be transferred: a new host means a new session.
   */
  readonly offeredTo: DataChannelHost | null;
  /**
   * Whether the peer ever said it listens on channels 2 and 3 in this session (a peer of 0.2
   * never does), even if it withdrew it since: a peer that can use them is worth a renewal.
   */
  readonly peerKnowsEngineChannels: boolean;
  /** The worker `host` took this session's channels (DataChannelService.receive). */
  channelsTaken(host: DataChannelHost): void;
  /** `host`'s worker is going away: if it took this session's channels, tell the peer to stop using them. */
  withdrawFrom(host: DataChannelHost): void;
  applySignal(signal: ConnectionSignal): void;
  /** False when not ready or the queue is full (the caller counts which). */
  send(frame: Uint8Array): boolean;
  restartIce(): void;
  close(reason: string): void;
}

/** Handshake messages a peer may send before this side has opened (they are tiny and few). */
const maxEarlyHandshakeMessages = 8;

export function startSession(options: SessionOptions): Session {
  const { clock, counters, limits } = options;
  let state: SessionState = 'connecting';
  let handshake: Handshake | null = null;
  let dataPath: DataPath | null = null;
  /** Channels 2 and 3 while this page keeps them: what the peer's worker sends arrives there. */
  let engineDataPath: DataPath | null = null;
  let engineHost: DataChannelHost | null = null;
  let peerListensOnEngineChannels = false;
  let peerAnnouncedEngineChannels = false;
  /** Whether channels 2 and 3 are read here or by a worker that said it took them. */
  let listeningOnEngineChannels = false;
  /** Whether this page kept channels 2 and 3 (no host, or it could not take them). */
  let engineChannelsKeptHere = false;
  let announced = false;
  let iceRestartTimer: unknown = null;
  const earlyMessages: string[] = [];
  counters.connectionAttempts++;
  const connection: PeerConnection = options.openConnection({
    initiator: options.initiator,
    iceServers: options.iceServers,
    ...(options.webrtc === undefined ? {} : { webrtc: options.webrtc }),
    events: {
      signal: (signal) => options.sendSignal(signal),
      open: () => beginHandshake(),
      close: (reason) => close(reason),
      iceState: (iceState) => onIceState(iceState),
    },
  });
  const connectTimer = clock.setTimeout(() => close(`not connected and authenticated within ${limits.connectTimeoutMs} ms`), limits.connectTimeoutMs);
  connection.control.addEventListener('message', (event) => onControlMessage(event.data));
  connection.bulk.addEventListener('message', (event) => onBinary('bulk', event.data));
  handOffEngineChannels();

  /** In this task: Chromium transfers a channel only in the task that created it. */
  function handOffEngineChannels(): void {
    const host = options.dataChannelHost;
    const { engineControl, engineBulk } = connection;
    if (host !== null) {
      try {
        host.post({ type: 'dataChannels', peer: options.peerId, session: options.id, control: engineControl, bulk: engineBulk, limits }, [engineControl, engineBulk] as unknown as Transferable[]);
        engineHost = host;
        counters.dataChannelsHandedOver++;
        return;
      } catch (_error) {
        // postMessage refused them (a runtime that cannot transfer channels): this page keeps them.
      }
    }
    engineControl.addEventListener('message', (event) => onBinary('engine-control', event.data));
    engineBulk.addEventListener('message', (event) => onBinary('engine-bulk', event.data));
    engineChannelsKeptHere = true;
    listeningOnEngineChannels = true;
  }

  /** After the handshake: a peer of 0.2 ignores text once its handshake ended, but would fail on it during. */
  function announceWhenListening(): void {
    if (state !== 'ready' || !listeningOnEngineChannels || announced) return;
    announced = true;
    sendText(engineChannelsAnnouncement);
  }

  /** What the worker may do with this session's channels; posted on every change. */
  let postedEngineState = { deliver: false, send: false };
  function postEngineState(): void {
    if (engineHost === null) return;
    const deliver = state === 'ready';
    const send = deliver && peerListensOnEngineChannels;
    if (deliver === postedEngineState.deliver && send === postedEngineState.send) return;
    postedEngineState = { deliver, send };
    engineHost.post({ type: 'dataChannelsState', peer: options.peerId, session: options.id, deliver, send }, []);
  }

  function onControlMessage(data: unknown): void {
    if (typeof data !== 'string') return onBinary('control', data);
    // Taken at any time (they only set what the worker may do once this side is ready too).
    if (data === engineChannelsAnnouncement) {
      peerListensOnEngineChannels = true;
      peerAnnouncedEngineChannels = true;
      postEngineState();
      return options.onPeerListens();
    }
    if (data === engineChannelsWithdrawal) {
      peerListensOnEngineChannels = false;
      return postEngineState();
    }
    if (handshake !== null) return handshake.receive(data);
    if (earlyMessages.length >= maxEarlyHandshakeMessages) return close('too many handshake messages before the channel opened');
    earlyMessages.push(data);
  }

  function onBinary(channel: 'control' | 'bulk' | 'engine-control' | 'engine-bulk', data: unknown): void {
    if (state === 'closed') return;
    // Frames count only once this side verified the peer; the peer waits for our acceptance,
    // so anything earlier is a protocol violation.
    if (dataPath === null || handshake?.peerVerified !== true) {
      counters.framesDroppedUnauthenticated++;
      return;
    }
    if (channel === 'engine-control') engineDataPath?.receive('control', data);
    else if (channel === 'engine-bulk') engineDataPath?.receive('bulk', data);
    else dataPath.receive(channel, data);
  }

  function beginHandshake(): void {
    if (state !== 'connecting') return;
    const descriptions = connection.descriptions();
    if (descriptions === null) return close('the channel opened without both session descriptions');
    state = 'authenticating';
    // The data path exists from here so frames of a peer that verified us early are not lost;
    // it sends only once we are ready (send() checks the state).
    const pathOptions = {
      limits,
      clock,
      counters,
      deliver: options.deliver,
      onSendFailure: (error: unknown) => close(`send failed: ${error instanceof Error ? error.message : String(error)}`),
    };
    dataPath = createDataPath({ ...pathOptions, control: connection.control, bulk: connection.bulk });
    // Kept here, receive only: this page sends everything on channels 0 and 1 (the peer listens
    // there in every version). Per peer this doubles the reassembly bound (two bulk channels).
    if (engineChannelsKeptHere) engineDataPath = createDataPath({ ...pathOptions, control: connection.engineControl, bulk: connection.engineBulk });
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
    options.onReachable(true);
    announceWhenListening();
    postEngineState();
  }

  function onIceState(iceState: RTCIceConnectionState): void {
    if (state !== 'ready') return;
    if (iceState === 'disconnected' && iceRestartTimer === null) {
      options.onReachable(false);
      counters.iceRestarts++;
      if (options.initiator) connection.restartIce();
      else options.requestIceRestart();
      iceRestartTimer = clock.setTimeout(() => close(`ICE did not recover within ${limits.iceRestartTimeoutMs} ms`), limits.iceRestartTimeoutMs);
    } else if ((iceState === 'connected' || iceState === 'completed') && iceRestartTimer !== null) {
      clock.clearTimeout(iceRestartTimer);
      iceRestartTimer = null;
      options.onReachable(true);
    }
  }

  function close(reason: string): void {
    if (state === 'closed') return;
    const wasReady = state === 'ready';
    state = 'closed';
    clock.clearTimeout(connectTimer);
    if (iceRestartTimer !== null) clock.clearTimeout(iceRestartTimer);
    counters.framesDroppedOnDisconnect += (dataPath?.close() ?? 0) + (engineDataPath?.close() ?? 0);
    engineHost?.post({ type: 'dataChannelsClosed', peer: options.peerId, session: options.id }, []);
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
    offeredTo: options.dataChannelHost,
    get peerKnowsEngineChannels() {
      return peerAnnouncedEngineChannels;
    },
    channelsTaken(host) {
      if (state === 'closed' || host !== engineHost) return;
      listeningOnEngineChannels = true;
      announceWhenListening();
    },
    withdrawFrom(host) {
      if (state === 'closed' || host !== engineHost) return;
      // The worker may outlive the word (an app's own worker): it lets go of the channels too.
      host.post({ type: 'dataChannelsClosed', peer: options.peerId, session: options.id }, []);
      engineHost = null;
      listeningOnEngineChannels = false;
      if (announced) sendText(engineChannelsWithdrawal);
    },
    applySignal: (signal) => connection.applySignal(signal),
    send: (frame) => state === 'ready' && dataPath !== null && dataPath.send(frame),
    restartIce() {
      // Both sides notice a disconnection: one restart at a time.
      if (state !== 'ready' || !options.initiator || iceRestartTimer !== null) return;
      if (connection.restartIce()) counters.iceRestarts++;
    },
    close,
  };
}
