// A network the room-chaos harness can cut around the edge peer's process: node-datachannel's
// RTCPeerConnection, wrapped so that cutting closes every connection the process has open and
// every connection it opens while cut (on the next turn, once simple-peer has set it up), the way
// connections fail when a host loses its network. Signaling (a WebSocket to the server) stays up,
// as it does when the peer-to-peer path fails but the server is reachable. Reconnecting lets the
// next attempt through; the transport's own backoff decides when that is.
//
// Why close connections rather than drop messages on them: a data channel is reliable and ordered,
// and the transport relies on that (a frame's parts travel back to back); a real partition delays
// the stream or fails the connection, it never opens a gap in it. Test-only: nothing in src/ knows.
import type { WebRtcImplementation } from '../../src/webrtc.ts';

export interface CuttableNetwork {
  readonly webrtc: WebRtcImplementation;
  readonly connected: boolean;
  setConnected(connected: boolean): void;
}

export function cuttableWebRtc(implementation: WebRtcImplementation): CuttableNetwork {
  const Base = implementation.RTCPeerConnection as new (configuration?: RTCConfiguration) => RTCPeerConnection;
  /** Connections not closed yet (bounded by the transport's links: it closes what it gives up). */
  const open = new Set<RTCPeerConnection>();
  let connected = true;
  class CuttablePeerConnection extends Base {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      open.add(this);
      if (!connected) setTimeout(() => this.close(), 0);
    }
    override close(): void {
      open.delete(this);
      super.close();
    }
  }
  return {
    webrtc: { ...implementation, RTCPeerConnection: CuttablePeerConnection },
    get connected() {
      return connected;
    },
    setConnected(value) {
      connected = value;
      if (!value) for (const connection of [...open]) connection.close();
    },
  };
}
