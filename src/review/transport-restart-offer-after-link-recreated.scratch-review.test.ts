// Review of the WebRTC transport fixes (fix49-transport): the answerer remembers the sessions it
// closed only in the link (peer-link.ts closedSessions), and the link goes whenever the peer is
// absent from signaling's list while unconnected (webrtc-transport.ts onRoomPeers: a signaling
// reconnect lists nobody until it has joined again). The initiator's serving session, whose ICE
// drops while its newer attempt still connects, now restarts ICE instead of closing; its restart
// offer names the session the answerer closed, and the answerer's fresh link takes it for a new
// session, superseding the newer attempt: the very thing rememberClosed was added to prevent.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { samePeerSet } from '../signaling/signaling-client.ts';
import { FakeConnectionNetwork } from '../transport/webrtc/fake-connection.test-support.ts';
import { parseLinkSignal } from '../transport/webrtc/link-signal.ts';
import { createSignalingHub } from '../transport/webrtc/signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';

const wait = { timeout: 20_000, interval: 5 };
const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, iceRestartTimeoutMs: 200, connectTimeoutMs: 5_000 };
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

describe('transport review: an ICE restart offer for a session the answerer closed, after its link was made afresh', () => {
  it('is dropped, and the newer attempt takes over (no third session at the answerer)', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const signalingA = hub.client(nodeId('a'));
    const signalingB = hub.client(nodeId('b'));
    // b's list as its signaling client reports it: the hub's, except while b reconnects (nobody).
    const listedB = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
    signalingB.peers.subscribe((peers) => listedB.set(peers));
    const a = createWebRtcTransport({ signaling: signalingA, secret: 'test secret', openConnection: network.openConnection, limits });
    const b = createWebRtcTransport({ signaling: { ...signalingB, peers: listedB }, secret: 'test secret', openConnection: network.openConnection, limits });
    cleanup.push(() => {
      a.close();
      b.close();
      signalingA.close();
      signalingB.close();
    });
    await vi.waitFor(() => expect([a.peers.value.size, b.peers.value.size]).toEqual([1, 1]), wait);
    const offerer = network.connections.find((connection) => !connection.closed && connection.options.initiator);
    const answerer = network.connections.find((connection) => !connection.closed && !connection.options.initiator);
    const first = parseLinkSignal(hub.relayed.find(({ from }) => from === nodeId('a'))?.payload ?? '')?.session;
    network.failRestarts = true;
    // b loses the connection and a does not notice (as in webrtc-transport.test.ts) ...
    if (answerer !== undefined) answerer.peer = null;
    answerer?.dropLocally('network changed');
    // ... and b's signaling client reconnects: it lists nobody, then the room again.
    listedB.set(new Set());
    listedB.set(new Set([nodeId('a')]));
    // As a's newer attempt offers, ICE on the old path drops at a too.
    let dropped = false;
    hub.tamper = ({ from, payload }) => {
      const signal = parseLinkSignal(payload);
      if (from === nodeId('a') && signal?.type === 'connection' && signal.session !== first && !dropped) {
        dropped = true;
        offerer?.setIceState('disconnected');
      }
      return payload;
    };
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    const restartOffers = hub.relayed.filter(({ from, payload }) => from === nodeId('a') && parseLinkSignal(payload)?.session === first).length - 1;
    expect(restartOffers).toBe(1);
    // b made sessions for the first connection and for a's newer attempt: the restart's offer for the
    // session b closed is no new session.
    expect({ attempts: [a.counters.connectionAttempts, b.counters.connectionAttempts], droppedB: b.counters.signalsDropped }).toEqual({ attempts: [2, 2], droppedB: 1 });
  }, 30_000);
});
