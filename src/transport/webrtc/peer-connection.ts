// The only file that knows simple-peer (simple-peer-light@9.10.0: it bundles with Vite without
// polyfills and has no dependencies; ENVIRONMENT.md). It makes one RTCPeerConnection with four
// ordered, reliable data channels, all pre-negotiated (fixed stream ids, created on both sides, so
// neither side waits for the other to announce them):
//
//   control        (id 0): small frames (heartbeats, votes, acknowledgements) and the handshake
//   bulk           (id 1): frames that need more than one message (large appends, snapshot chunks)
//   engine control (id 2): the same two classes of frames, sent from the engine's worker when the
//   engine bulk    (id 3): transport handed these two channels to it (data-channel-hand-off.ts)
//
// Later pairs for the engine (ids 4 and 5, 6 and 7, ...) are created on the live connection when
// an engine's worker changes (`openEngineChannels`): negotiated channels need no renegotiation
// once the connection has its SCTP association, both sides just create the same ids.
//
// and reports when control and bulk are open, when the connection is gone, and ICE state changes.
// The engine channels are created with the others, in the same task, because Chromium transfers
// an RTCDataChannel to a worker only in the task that created it.
import SimplePeer, { type SimplePeerSignalData } from 'simple-peer-light';
import { fingerprintFromSdp } from '../../signaling/peer-authentication.ts';
import type { ConnectionSignal } from './connection-signal.ts';
import type { SendChannel } from './send-queue.ts';

/** An RTCPeerConnection implementation for runtimes without one (Node: node-datachannel/polyfill). */
export interface WebRtcImplementation {
  readonly RTCPeerConnection: unknown;
  readonly RTCSessionDescription: unknown;
  readonly RTCIceCandidate: unknown;
}

export interface PeerConnectionEvents {
  /** Something the other side must receive (through signaling). */
  readonly signal: (signal: ConnectionSignal) => void;
  /** ICE is connected and both data channels are open. */
  readonly open: () => void;
  /** The connection is gone for good (closed, failed, or a channel closed); fires once. */
  readonly close: (reason: string) => void;
  readonly iceState: (state: RTCIceConnectionState) => void;
  /** ICE gathering completed and this side has no local candidate: it connects only if the peer's candidates reach it. At most once. */
  readonly noLocalCandidates: () => void;
}

export interface PeerConnectionOptions {
  readonly initiator: boolean;
  readonly iceServers: readonly RTCIceServer[];
  readonly webrtc?: WebRtcImplementation;
  readonly events: PeerConnectionEvents;
}

/** What the transport uses of an RTCDataChannel (a fake one in Node tests). */
export interface DataChannelLike extends SendChannel {
  send(data: string | Uint8Array<ArrayBuffer>): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'bufferedamountlow', listener: () => void): void;
}

/** A data channel that may be transferred to a worker (the real RTCDataChannel, or a fake in Node tests). */
export interface EngineChannel extends DataChannelLike {
  readonly readyState: RTCDataChannelState;
  binaryType: BinaryType;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'bufferedamountlow' | 'open' | 'close', listener: () => void): void;
  close(): void;
}

/** The two channels of one generation, created together on both sides. */
export interface EnginePair {
  readonly control: EngineChannel;
  readonly bulk: EngineChannel;
}

export interface PeerConnection {
  readonly control: DataChannelLike;
  readonly bulk: DataChannelLike;
  /** Channels 2 and 3: Raft frames from an engine's worker (data-channel-hand-off.ts). */
  readonly engineControl: EngineChannel;
  readonly engineBulk: EngineChannel;
  /**
   * Creates generation `generation`'s pair (ids from `engineChannelIds`) on this connection, in
   * this task (so it can be transferred); throws once the connection is closed.
   */
  openEngineChannels(generation: number): EnginePair;
  applySignal(signal: ConnectionSignal): void;
  /** This side's SDP (as sent) and the remote SDP it applied; null until both exist. */
  descriptions(): { readonly local: string; readonly remote: string } | null;
  /** Starts an ICE restart (initiator only); false when this runtime cannot. */
  restartIce(): boolean;
  destroy(): void;
}

const controlChannelId = 0;
const bulkChannelId = 1;

/** Stream ids of generation `generation`'s engine pair (generation 0: channels 2 and 3). */
export function engineChannelIds(generation: number): { readonly control: number; readonly bulk: number } {
  return { control: 2 * generation + 2, bulk: 2 * generation + 3 };
}

function toConnectionSignal(data: SimplePeerSignalData): ConnectionSignal | null {
  if ((data.type === 'offer' || data.type === 'answer') && typeof data.sdp === 'string') {
    return { type: 'description', description: { type: data.type, sdp: data.sdp } };
  }
  if (data.type === 'candidate' && data.candidate !== undefined && typeof data.candidate.candidate === 'string') {
    const { candidate, sdpMid = null, sdpMLineIndex = null } = data.candidate;
    // The peer refuses a candidate without either (link-signal.ts): not worth sending.
    if (sdpMid === null && sdpMLineIndex === null) return null;
    return { type: 'candidate', candidate: { candidate, sdpMid, sdpMLineIndex } };
  }
  if (data.renegotiate === true) return { type: 'renegotiate' };
  return null; // transceiver requests: no media here
}

function toSimplePeerSignal(signal: ConnectionSignal): SimplePeerSignalData {
  switch (signal.type) {
    case 'description':
      return { type: signal.description.type, sdp: signal.description.sdp };
    case 'candidate':
      return { type: 'candidate', candidate: signal.candidate };
    case 'renegotiate':
      return { type: 'renegotiate', renegotiate: true };
    default:
      return signal satisfies never;
  }
}

/**
 * Adapts an RTCPeerConnection implementation to what simple-peer expects of a browser's:
 * - simple-peer names the answering side's pre-negotiated channel `null`; browsers turn that into
 *   the label "null", node-datachannel refuses it ("Data Channel Label expected"). Negotiated
 *   channels are matched by id, not label, so any label will do.
 * - simple-peer rewrites `sdp` on the description createOffer/createAnswer return; node-datachannel
 *   returns objects whose `sdp` is read-only. Plain copies are what browsers accept too.
 */
/** The part of RTCPeerConnection the adapter overrides (without the legacy callback overloads). */
interface AdaptablePeerConnection {
  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel;
  createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit>;
  createAnswer(options?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit>;
}

export function adaptImplementation(implementation: WebRtcImplementation): WebRtcImplementation {
  const Base = implementation.RTCPeerConnection as new (configuration?: RTCConfiguration) => AdaptablePeerConnection;
  class AdaptedPeerConnection extends Base {
    override createDataChannel(label: string | null, init?: RTCDataChannelInit): RTCDataChannel {
      return super.createDataChannel(label ?? 'raftmesh-control', init);
    }
    override async createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit> {
      const description = await super.createOffer(options);
      return { type: description.type, sdp: description.sdp ?? '' };
    }
    override async createAnswer(options?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit> {
      const description = await super.createAnswer(options);
      return { type: description.type, sdp: description.sdp ?? '' };
    }
  }
  return { ...implementation, RTCPeerConnection: AdaptedPeerConnection };
}

/** Opens a connection; the transport takes another through its `openConnection` option (tests). */
export type OpenConnection = (options: PeerConnectionOptions) => PeerConnection;

export const openPeerConnection: OpenConnection = (options) => {
  const { events } = options;
  const peer = new SimplePeer({
    initiator: options.initiator,
    channelConfig: { negotiated: true, id: controlChannelId, ordered: true },
    config: { iceServers: [...options.iceServers] },
    trickle: true,
    ...(options.webrtc === undefined ? {} : { wrtc: adaptImplementation(options.webrtc) }),
  });
  const connection = peer._pc;
  const control = peer._channel;
  if (connection === null || control === null) {
    peer.destroy();
    throw new Error('simple-peer could not create an RTCPeerConnection with a data channel');
  }
  const bulk = connection.createDataChannel('raftmesh-bulk', { negotiated: true, id: bulkChannelId, ordered: true });
  bulk.binaryType = 'arraybuffer';
  const engineChannels: RTCDataChannel[] = [];
  const openEnginePair = (generation: number): { control: RTCDataChannel; bulk: RTCDataChannel } => {
    const ids = engineChannelIds(generation);
    const pair = {
      control: connection.createDataChannel(`raftmesh-engine-control-${generation}`, { negotiated: true, id: ids.control, ordered: true }),
      bulk: connection.createDataChannel(`raftmesh-engine-bulk-${generation}`, { negotiated: true, id: ids.bulk, ordered: true }),
    };
    pair.control.binaryType = 'arraybuffer';
    pair.bulk.binaryType = 'arraybuffer';
    engineChannels.push(pair.control, pair.bulk);
    return pair;
  };
  const { control: engineControl, bulk: engineBulk } = openEnginePair(0);
  let localSdp: string | null = null;
  let remoteSdp: string | null = null;
  let connected = false;
  let closed = false;
  /** Local candidates trickled so far; those already in the local description are counted there. */
  let candidatesSignalled = 0;
  let reportedNoCandidates = false;

  const close = (reason: string): void => {
    if (closed) return;
    closed = true;
    peer.destroy();
    stopIceCompleteTimer(peer);
    for (const channel of [bulk, ...engineChannels]) {
      try {
        // A channel transferred to a worker is detached here: closing it is the worker's business
        // (it closes with the connection anyway).
        channel.close();
      } catch (_error) {
        // already closed with the connection, or transferred
      }
    }
    events.close(reason);
  };
  const maybeOpen = (): void => {
    if (!closed && connected && bulk.readyState === 'open') events.open();
  };

  peer.on('signal', (data) => {
    const signal = toConnectionSignal(data);
    if (signal === null) return;
    if (signal.type === 'candidate') candidatesSignalled += 1;
    // The first description this side sends carries the DTLS fingerprint it will present.
    if (signal.type === 'description' && localSdp === null) localSdp = signal.description.sdp;
    else if (signal.type === 'description' && !sameFingerprint(localSdp, signal.description.sdp)) return close('this side\'s DTLS fingerprint changed between descriptions');
    events.signal(signal);
  });
  peer.on('connect', () => {
    connected = true;
    maybeOpen();
  });
  bulk.addEventListener('open', maybeOpen);
  bulk.addEventListener('close', () => close('the bulk data channel closed'));
  peer.on('error', (error) => close(error.message));
  peer.on('close', () => close('the connection closed'));
  peer.on('iceStateChange', (state, gathering) => {
    if (closed) return;
    events.iceState(state);
    // Said here, where it shows: otherwise such a connection only times out, again and again,
    // and nothing says why (a newcomer's review, 2026-12-07: node-datachannel on a loopback-only
    // host without a bind address). The local description holds what was gathered (it may come
    // before the trickled signals of the same candidates).
    if (gathering !== 'complete' || reportedNoCandidates || candidatesSignalled > 0) return;
    const local = connection.localDescription;
    if (local === null || countCandidates(local.sdp) > 0) return;
    reportedNoCandidates = true;
    events.noLocalCandidates();
  });

  return {
    control,
    bulk,
    engineControl,
    engineBulk,
    openEngineChannels(generation) {
      if (closed) throw new Error('the connection is closed');
      return openEnginePair(generation);
    },
    applySignal(signal) {
      if (closed) return;
      const firstDescription = signal.type === 'description' && remoteSdp === null;
      // The peer handshake binds the fingerprints of the first descriptions (descriptions()): a
      // later one (an ICE restart's) presenting another certificate would let DTLS complete with a
      // party the handshake never saw. A browser keeps its certificate for the connection's life,
      // so only an intermediary (a signaling server in the middle) changes it: the connection ends.
      if (signal.type === 'description' && !firstDescription && !sameFingerprint(remoteSdp, signal.description.sdp)) return close('the remote DTLS fingerprint changed between descriptions');
      // May throw (the session counts the signal dropped); the first description counts as the
      // remote one only once simple-peer took it.
      peer.signal(toSimplePeerSignal(signal));
      if (firstDescription) remoteSdp = signal.description.sdp;
    },
    descriptions: () => (localSdp === null || remoteSdp === null ? null : { local: localSdp, remote: remoteSdp }),
    restartIce() {
      const current = peer._pc;
      if (closed || !peer.initiator || current === null || typeof current.restartIce !== 'function') return false;
      try {
        current.restartIce();
      } catch (_error) {
        // node-datachannel's restartIce throws "Not implemented". Thrown from here it reached the
        // signaling listener (an answerer's request) and ended a Node process as an unhandled
        // rejection; now the connection stays as it is, and if ICE does not recover the session
        // closes after iceRestartTimeoutMs and reconnects, as after any failed restart.
        return false;
      }
      peer.negotiate();
      return true;
    },
    destroy: () => close('closed by this side'),
  };
};

/**
 * simple-peer starts a 5 s timer at the first local ICE candidate (`_startIceCompleteTimeout`), and
 * its destroy() never clears it: a Node process lived 3-5 s past closing its transport or its edge
 * peer (a newcomer's review, 2026-12-07). Cleared now, and once more after destroy()'s own microtask
 * (queued before this one), which marks the peer destroyed: a candidate that arrives in between
 * still starts the timer, and none can after.
 */
function stopIceCompleteTimer(peer: SimplePeer): void {
  const clear = (): void => {
    if (peer._iceCompleteTimer === null || peer._iceCompleteTimer === undefined) return;
    clearTimeout(peer._iceCompleteTimer);
    peer._iceCompleteTimer = null;
  };
  clear();
  queueMicrotask(clear);
}

/** `a=candidate` lines in an SDP. */
function countCandidates(sdp: string): number {
  return sdp.split('\n').filter((line) => line.startsWith('a=candidate:')).length;
}

/** Whether two descriptions present the same DTLS fingerprints (both without any counts as the same). */
function sameFingerprint(first: string | null, next: string): boolean {
  const fingerprintOf = (sdp: string): string | null => {
    try {
      return fingerprintFromSdp(sdp);
    } catch {
      return null;
    }
  };
  return first === null || fingerprintOf(first) === fingerprintOf(next);
}
