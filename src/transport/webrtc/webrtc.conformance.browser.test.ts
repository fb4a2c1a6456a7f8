// The transport contract over real WebRTC in headless Chromium: transports in one page, each with
// its own RTCPeerConnections, introduced by the BroadcastChannel signaling client (admission
// sealed with the room secret) and authenticated to each other with the same secret.
import { createBroadcastChannelSignalingClient } from '../../signaling/broadcast-channel-client.ts';
import { randomNonce } from '../../signaling/hmac.ts';
import { describeTransportConformance } from '../transport-conformance.ts';
import { createWebRtcTransport } from './webrtc-transport.ts';

describeTransportConformance('WebRTC (headless Chromium, one page)', async (ids) => {
  const roomId = `conformance-${randomNonce().slice(0, 12)}`;
  const secret = randomNonce();
  const signalings = ids.map((nodeId) => createBroadcastChannelSignalingClient({ roomId, nodeId, secret }));
  const transports = signalings.map((signaling) => createWebRtcTransport({ signaling, secret, iceServers: [] }));
  return {
    transports,
    dispose: () => {
      for (const signaling of signalings) signaling.close();
    },
  };
});
