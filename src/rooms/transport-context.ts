// What joinRoom hands `createTransport` beside the signaling client, and the check that the
// transport it gets back authenticates peers with the room's secret. A secret given to joinRoom
// alone reached the signaling client only: on an open signaling server it kept nobody out, and a
// page with the wrong secret joined as a voter and read the state (a newcomer's review,
// /work/newcomer-browser step4b). The context carries the secret to the transport in the same
// spread that carries the signaling context to its client.
import type { PeerAuthenticationFailure } from '../transport/webrtc/webrtc-transport.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

/**
 * The second argument of `createTransport`. Every field is an option of createWebRtcTransport,
 * so `(signaling, context) => createWebRtcTransport({ signaling, ...context, iceServers: [] })`
 * passes all of it on.
 */
export interface TransportContext {
  /** The room secret (absent for a room without one): the WebRTC transport authenticates every peer with it. */
  readonly secret?: string | undefined;
  /**
   * Where the transport tells the room that a connection failed the room-secret handshake: the
   * room reports it as a `peerAuthenticationFailed` event. To pass an `onAuthenticationFailure`
   * of your own, call this one from it: a property written after the spread replaces it.
   */
  readonly onAuthenticationFailure: (failure: PeerAuthenticationFailure) => void;
}

/** The part of a WebRTC transport (or a wrapper that passes it through) that says which secret it uses. */
interface SecretAware {
  usesSecret(secret: string | undefined): boolean;
}

const secretAware = (transport: RaftTransport): transport is RaftTransport & SecretAware => typeof (transport as Partial<SecretAware>).usesSecret === 'function';

/**
 * Refuses a room with a secret whose transport is a raftmesh WebRTC transport that does not use
 * that secret: its peers would connect without proving they know it, and the secret would only
 * guard admission at a signaling server that checks it. A transport that cannot say (one of the
 * application's own, or a wrapper that does not pass `usesSecret` through) is taken as it is.
 */
export function requireTransportSecret(transport: RaftTransport, secret: string | undefined): void {
  if (secret === undefined || !secretAware(transport)) return;
  let uses: boolean;
  let none: boolean;
  try {
    uses = transport.usesSecret(secret) === true;
    none = transport.usesSecret(undefined) === true;
  } catch {
    return; // a wrapper's broken pass-through cannot say, like a transport without the method
  }
  if (uses) return;
  const given = none ? 'was given no secret' : 'was given another secret';
  throw new TypeError(
    `joinRoom: the room has a secret, but the WebRTC transport createTransport returned ${given}, so its peers would connect without proving they know the room's secret. ` +
      'Pass the context on: createTransport: (signaling, context) => createWebRtcTransport({ signaling, ...context, iceServers: [] }) (or secret: context.secret)',
  );
}
