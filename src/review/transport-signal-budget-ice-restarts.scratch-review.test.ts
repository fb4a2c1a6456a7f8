// Review: peer-link.ts bounds signals per session (limits.maxSignalsPerAttempt), counted over the
// session's whole life and never reset. Every ICE restart (restartIce(), or the transport's own on
// ICE 'disconnected') takes an offer, an answer and candidates from that budget, so a long-lived
// connection that restarted ICE enough times has its next restart's signals dropped: the restart
// cannot complete, the peer is unreachable for iceRestartTimeoutMs, and the connection is torn down
// and rebuilt. The limit's doc says the attempt is *reset* at the bound; nothing resets it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId } from '../core/types.ts';
import { FakeConnectionNetwork } from '../transport/webrtc/fake-connection.test-support.ts';
import { createSignalingHub } from '../transport/webrtc/signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});
const wait = { timeout: 20_000, interval: 5 };

describe('review: signal budget over ICE restarts', () => {
  it('a connection keeps recovering from ICE disconnections by restarting ICE, however many times it did before', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, iceRestartTimeoutMs: 200, connectTimeoutMs: 5_000, maxSignalsPerAttempt: 8 };
    const [a, b] = ['a', 'b'].map((id) => {
      const signaling = hub.client(nodeId(id));
      const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits });
      cleanup.push(() => {
        transport.close();
        signaling.close();
      });
      return transport;
    }) as [WebRtcTransport, WebRtcTransport];
    const meshed = () => vi.waitFor(() => expect([a.peers.value.size, b.peers.value.size]).toEqual([1, 1]), wait);
    await meshed();
    const offerer = network.connections.find((connection) => connection.options.initiator && !connection.closed);
    for (let restart = 0; restart < 12; restart++) {
      offerer?.setIceState('disconnected');
      offerer?.peer?.setIceState('disconnected');
      await meshed();
    }
    expect({ restarts: offerer?.restarts, lost: [a.counters.connectionsLost, b.counters.connectionsLost], attempts: a.counters.connectionAttempts }).toEqual({ restarts: 12, lost: [0, 0], attempts: 1 });
  });
});
