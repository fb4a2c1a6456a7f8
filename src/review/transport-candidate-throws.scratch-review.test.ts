// Review: link-signal.ts accepts a candidate with neither sdpMid nor sdpMLineIndex (both default
// to null), and peer-connection.ts passes it to simple-peer, whose _addIceCandidate constructs
// `new RTCIceCandidate(candidate)` synchronously. The WebRTC spec (and node-datachannel's
// polyfill, used by Node/edge peers) throws a TypeError for that init: the exception leaves
// session.applySignal -> peer-link receiveSignal -> the transport's signals listener, and the
// emitter re-raises it as an unhandled rejection (which ends a Node process by default; the
// comment on restartIce in peer-connection.ts names that very failure for another path).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEmitter } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import type { ReceivedSignal, SignalingClient } from '../signaling/signaling-client.ts';
import { createSignalingHub } from '../transport/webrtc/signaling-hub.test-support.ts';
import { createWebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

/** RTCIceCandidate as specified (webrtc-pc: both null -> TypeError) and as node-datachannel/polyfill implements it. */
class SpecIceCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly address: string | null = null;
  constructor(init: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null }) {
    if (init.sdpMid == null && init.sdpMLineIndex == null) throw new TypeError('At least one of sdpMLineIndex or sdpMid must be specified');
    this.candidate = init.candidate ?? '';
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
  }
}
const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA:BB:CC\r\n';
function stubChannel(label: string) {
  return { label, readyState: 'connecting', binaryType: 'blob', bufferedAmount: 0, bufferedAmountLowThreshold: 0, addEventListener() {}, removeEventListener() {}, send() {}, close() {} };
}
/** Just enough of an RTCPeerConnection for simple-peer to answer an offer (no network). */
class StubPeerConnection {
  remoteDescription: unknown = null;
  localDescription: unknown = null;
  iceConnectionState = 'new';
  iceGatheringState = 'new';
  signalingState = 'stable';
  connectionState = 'new';
  createDataChannel(label: string) {
    return stubChannel(label);
  }
  createOffer() {
    return Promise.resolve({ type: 'offer', sdp });
  }
  createAnswer() {
    return Promise.resolve({ type: 'answer', sdp });
  }
  setLocalDescription(description: unknown) {
    this.localDescription = description;
    return Promise.resolve();
  }
  setRemoteDescription(description: unknown) {
    this.remoteDescription = description;
    return Promise.resolve();
  }
  addIceCandidate() {
    return Promise.resolve();
  }
  getTransceivers() {
    return [];
  }
  close() {}
}
const webrtc = { RTCPeerConnection: StubPeerConnection, RTCSessionDescription: class { constructor(init: object) { Object.assign(this, init); } }, RTCIceCandidate: SpecIceCandidate };

describe('review: a candidate the WebRTC implementation refuses', () => {
  it('is dropped (or ends the session) inside the transport: nothing is thrown at the signaling client', async () => {
    const hub = createSignalingHub();
    const decoy = hub.client(nodeId('a'));
    const inner = hub.client(nodeId('b'));
    const thrown: unknown[] = [];
    // The signaling client as the transport sees it, recording what its listener throws.
    const signals = createEmitter<ReceivedSignal>();
    inner.signals.subscribe((signal) => signals.emit(signal));
    const signaling: SignalingClient = {
      ...inner,
      signals: {
        subscribe: (listener: (value: ReceivedSignal) => void) =>
          signals.subscribe((value) => {
            try {
              listener(value);
            } catch (error) {
              thrown.push(error);
            }
          }),
      } as SignalingClient['signals'],
    };
    const b = createWebRtcTransport({ signaling, secret: 'test secret', webrtc });
    cleanup.push(() => {
      b.close();
      inner.close();
      decoy.close();
    });
    const from: NodeId = nodeId('a');
    const session = 'session-from-a-0001';
    hub.inject(from, nodeId('b'), JSON.stringify({ type: 'connection', session, signal: { type: 'description', description: { type: 'offer', sdp } } }));
    await vi.waitFor(() => expect(b.counters.connectionAttempts).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the offer is applied
    hub.inject(from, nodeId('b'), JSON.stringify({ type: 'connection', session, signal: { type: 'candidate', candidate: { candidate: 'candidate:1 1 UDP 2122260223 192.0.2.1 54400 typ host' } } }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(thrown.map((error) => String(error))).toEqual([]);
  });
});
