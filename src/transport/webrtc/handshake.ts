// The handshake that runs on the control channel as soon as both channels open, before any Raft
// frame: signaling/peer-authentication.ts bound to both DTLS fingerprints (each side's own view:
// the SDP it sent and the SDP it applied), then an `auth-accepted` from each side once it has
// verified the other. A side sends frames only after the peer's `auth-accepted`, so the peer has
// already verified it when the first frame arrives: no frame is ever held or delivered
// unauthenticated. Handshake messages are text; Raft chunks are binary.
//
// Without a room secret there is nothing to prove: both sides just exchange `auth-accepted`, and
// identities rest on the signaling server's admission (documented in the README).
import { createPeerAuthentication, fingerprintFromSdp, parsePeerAuthenticationMessage, type PeerAuthentication } from '../../signaling/peer-authentication.ts';

const acceptedMessage = JSON.stringify({ type: 'auth-accepted' });

export interface HandshakeOptions {
  readonly roomId: string;
  readonly secret: string | undefined;
  readonly localNodeId: string;
  readonly remoteNodeId: string;
  readonly localSdp: string;
  readonly remoteSdp: string;
  readonly send: (text: string) => void;
  readonly onAuthenticated: () => void;
  readonly onFailed: (reason: string) => void;
}

export interface Handshake {
  start(): void;
  /** A text message from the peer; processed strictly in arrival order. */
  receive(text: string): void;
  /** True once this side has verified the peer (its frames may be delivered). */
  readonly peerVerified: boolean;
}

export function createHandshake(options: HandshakeOptions): Handshake {
  let authentication: PeerAuthentication | null = null;
  let peerVerified = false;
  let peerAccepted = false;
  let finished = false;
  let queue: Promise<void> = Promise.resolve();

  const fail = (reason: string): void => {
    if (finished) return;
    finished = true;
    options.onFailed(reason);
  };
  const maybeDone = (): void => {
    if (!finished && peerVerified && peerAccepted) {
      finished = true;
      options.onAuthenticated();
    }
  };
  const verified = (): void => {
    peerVerified = true;
    options.send(acceptedMessage);
    maybeDone();
  };

  async function handle(text: string): Promise<void> {
    if (finished) return fail('a handshake message after the handshake ended');
    if (text === acceptedMessage) {
      // With a secret, the peer's proof precedes its acceptance on this ordered channel.
      if (options.secret !== undefined && !peerVerified) return fail('the peer accepted without proving the room secret (is it set on both sides?)');
      peerAccepted = true;
      return maybeDone();
    }
    const message = parsePeerAuthenticationMessage(text);
    if (authentication === null || message === null) return fail('an unexpected handshake message (is the room secret set on both sides?)');
    const answers = await authentication.receive(message);
    if (authentication.state.type === 'failed') return fail(authentication.state.reason);
    for (const answer of answers) options.send(JSON.stringify(answer));
    if (authentication.state.type === 'authenticated') verified();
  }

  return {
    start() {
      if (options.secret === undefined) return verified();
      try {
        authentication = createPeerAuthentication({
          roomId: options.roomId,
          secret: options.secret,
          localNodeId: options.localNodeId,
          remoteNodeId: options.remoteNodeId,
          localFingerprint: fingerprintFromSdp(options.localSdp),
          remoteFingerprint: fingerprintFromSdp(options.remoteSdp),
        });
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error));
      }
      options.send(JSON.stringify(authentication.start()));
    },
    receive(text) {
      queue = queue.then(() => handle(text)).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
    },
    get peerVerified() {
      return peerVerified;
    },
  };
}
