// node-datachannel gathers no host candidate on loopback unless told which address to bind
// (libjuice skips loopback interfaces). A peer on a loopback-only host — the test namespace, or
// an edge peer that only talks to browsers on the same machine — binds 127.0.0.1 explicitly.
import type { WebRtcImplementation } from './edge-imports.ts';

export function withBindAddress(implementation: WebRtcImplementation, bindAddress: string): WebRtcImplementation {
  const Base = implementation.RTCPeerConnection as new (configuration?: RTCConfiguration) => RTCPeerConnection;
  class BoundPeerConnection extends Base {
    constructor(configuration?: RTCConfiguration) {
      // An extra field node-datachannel's PeerConnection understands (libdatachannel bindAddress).
      super({ ...configuration, bindAddress } as RTCConfiguration);
    }
  }
  return { ...implementation, RTCPeerConnection: BoundPeerConnection };
}
