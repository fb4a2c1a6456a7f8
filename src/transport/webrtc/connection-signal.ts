// What one peer connection needs the other side to learn, whatever library makes the connection:
// its descriptions, its ICE candidates and (from the answerer) a request to renegotiate. The
// transport wraps these with a session id and sends them through signaling (link-signal.ts).
export type ConnectionSignal =
  | { readonly type: 'description'; readonly description: { readonly type: 'offer' | 'answer'; readonly sdp: string } }
  | { readonly type: 'candidate'; readonly candidate: IceCandidate }
  | { readonly type: 'renegotiate' };

export interface IceCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}
