// Review: webrtc-transport.ts keeps at most 1024 links, creates one for the `from` of ANY signal
// (present in the room or not), and forgets links of absent peers only in onRoomPeers, AFTER it
// created the links of the peers present now. So when the table is full of links nobody present
// owns (signals from ids not in the room: a member forging ids over BroadcastChannel, a server, or
// merely 1024 departed peers), the peer whose arrival triggers the clean-up gets no link; the link
// its connect-request later creates is not `present`, so the initiator never offers, and the pair
// stays unconnected until some other member joins or leaves.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId } from '../core/types.ts';
import { FakeConnectionNetwork } from '../transport/webrtc/fake-connection.test-support.ts';
import { createSignalingHub } from '../transport/webrtc/signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});
const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, iceRestartTimeoutMs: 200, connectTimeoutMs: 5_000 };

describe('review: a full link table and a peer that arrives', () => {
  it('a peer that joins after the table filled with links of absent ids still gets connected', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const make = (id: string): WebRtcTransport => {
      const signaling = hub.client(nodeId(id));
      const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits });
      cleanup.push(() => {
        transport.close();
        signaling.close();
      });
      return transport;
    };
    const m = make('m');
    // Signals from 1024 ids that are not in the room (each a malformed payload: nothing else happens).
    for (let index = 0; index < 1024; index++) hub.inject(nodeId(`ghost-${String(index).padStart(4, '0')}`), nodeId('m'), 'not a link signal');
    await vi.waitFor(() => expect(m.counters.signalsDropped).toBe(1024));
    const z = make('z');
    await vi.waitFor(() => expect([m.peers.value.has(nodeId('z')), z.peers.value.has(nodeId('m'))]).toEqual([true, true]), { timeout: 3_000, interval: 10 });
  });
});
