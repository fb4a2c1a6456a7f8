// Types for simple-peer-light@9.10.0, which ships none: only what peer-connection.ts (the one
// file that imports it) uses. `_pc` and `_channel` are internals: simple-peer exposes neither the
// RTCPeerConnection (needed for a second data channel and ICE restart) nor its data channel
// (needed for bufferedAmount); the adapter reads them right after construction. `_iceCompleteTimer`
// is one too, cleared by the adapter after destroy().
declare module 'simple-peer-light' {
  export interface SimplePeerSignalData {
    readonly type?: string;
    readonly sdp?: string;
    readonly candidate?: RTCIceCandidateInit;
    readonly renegotiate?: boolean;
    readonly transceiverRequest?: unknown;
  }

  export interface SimplePeerWebRtc {
    readonly RTCPeerConnection: unknown;
    readonly RTCSessionDescription: unknown;
    readonly RTCIceCandidate: unknown;
  }

  export interface SimplePeerOptions {
    initiator?: boolean;
    channelName?: string;
    channelConfig?: RTCDataChannelInit;
    config?: RTCConfiguration;
    trickle?: boolean;
    wrtc?: SimplePeerWebRtc;
  }

  export default class SimplePeer {
    constructor(options?: SimplePeerOptions);
    readonly initiator: boolean;
    readonly destroyed: boolean;
    readonly connected: boolean;
    signal(data: SimplePeerSignalData): void;
    negotiate(): void;
    destroy(error?: Error): void;
    on(event: 'signal', listener: (data: SimplePeerSignalData) => void): void;
    on(event: 'connect' | 'close', listener: () => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
    on(event: 'iceStateChange', listener: (connectionState: RTCIceConnectionState, gatheringState: RTCIceGatheringState) => void): void;
    _pc: RTCPeerConnection | null;
    _channel: RTCDataChannel | null;
    /**
     * The 5 s timer started at the first local ICE candidate, which destroy() leaves running (it
     * kept a Node process alive seconds after a close): the adapter clears it (peer-connection.ts).
     */
    _iceCompleteTimer?: ReturnType<typeof setTimeout> | null;
  }
}
