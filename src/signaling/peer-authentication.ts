// Peer authentication over a freshly opened data channel, independent of the signaling server.
//
// Each peer proves it knows the room's peer key (admission.ts: derived from the secret, never
// given to any server) bound to what it observes of this very connection:
//
//   transcript = [label, roomId, low id, high id, fingerprint of low, fingerprint of high,
//                 nonce of low, nonce of high]          (low/high: node ids in sorted order)
//   proof of X = HMAC(peer key, ["raftmesh/peer-proof/v1", X's node id, ...transcript])
//
// Each side fills the transcript from its own view: its own DTLS certificate fingerprint (local
// description) and the remote fingerprint the browser verified DTLS against (remote
// description). A server that swaps SDP to sit in the middle gives each side a different view of
// the fingerprints, so the proofs cannot match; it cannot forge them without the peer key; fresh
// nonces stop replays; the prover's id in each proof stops reflecting a peer's proof back to it.
//
// The state machine is pure apart from WebCrypto (hence async): feed it the peer's messages and
// send what it returns. Both sides start with `start()`; the channel must be ordered and reliable.
import { derivePeerKey } from './admission.ts';
import { hmacHex, hmacVerify, randomNonce } from './hmac.ts';

export type PeerAuthenticationMessage =
  | { readonly type: 'auth-hello'; readonly nodeId: string; readonly nonce: string }
  | { readonly type: 'auth-proof'; readonly proof: string };

export type PeerAuthenticationState =
  | { readonly type: 'awaiting-hello' }
  | { readonly type: 'awaiting-proof' }
  | { readonly type: 'authenticated' }
  | { readonly type: 'failed'; readonly reason: string };

export interface PeerAuthenticationOptions {
  readonly roomId: string;
  /** The room secret; the peer key is derived from it (see `derivePeerKey`). */
  readonly secret: string;
  readonly localNodeId: string;
  /** Who signaling says is on the other end; the peer's hello must name the same id. */
  readonly remoteNodeId: string;
  /** This side's DTLS fingerprint (from the local SDP; `fingerprintFromSdp`). */
  readonly localFingerprint: string;
  /** The fingerprint in the remote SDP this side applied (what DTLS was verified against). */
  readonly remoteFingerprint: string;
  /** Test seam: a fixed nonce. */
  readonly nonce?: string;
}

export interface PeerAuthentication {
  readonly state: PeerAuthenticationState;
  /** The first message to send as soon as the channel opens. */
  start(): PeerAuthenticationMessage;
  /** Feeds one message from the peer; returns the messages to send in answer. */
  receive(message: PeerAuthenticationMessage): Promise<readonly PeerAuthenticationMessage[]>;
}

const proofLabel = 'raftmesh/peer-proof/v1';
const transcriptLabel = 'raftmesh/peer-transcript/v1';

/** `sha-256 AB:CD:…` lines from an SDP, normalised (lowercase, sorted) so both sides agree. */
export function fingerprintFromSdp(sdp: string): string {
  const lines = [...sdp.matchAll(/^a=fingerprint:(\S+)\s+([0-9A-Fa-f:]+)\s*$/gm)].map((match) => `${match[1]} ${match[2]}`.toLowerCase());
  if (lines.length === 0) throw new Error('the SDP has no a=fingerprint line');
  return [...new Set(lines)].sort().join(',');
}

interface Party {
  readonly nodeId: string;
  readonly fingerprint: string;
  readonly nonce: string;
}

/** The transcript both sides compute; equal only if both saw the same ids, fingerprints and nonces. */
export function peerTranscript(roomId: string, one: Party, other: Party): string[] {
  const [low, high] = one.nodeId < other.nodeId ? [one, other] : [other, one];
  return [transcriptLabel, roomId, low.nodeId, high.nodeId, low.fingerprint, high.fingerprint, low.nonce, high.nonce];
}

export function parsePeerAuthenticationMessage(text: string): PeerAuthenticationMessage | null {
  let value: unknown;
  try {
    value = text.length <= 1024 ? JSON.parse(text) : null;
  } catch (_error) {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const fields = value as Record<string, unknown>;
  const keys = Object.keys(fields).sort().join(',');
  const isHex = (field: unknown): field is string => typeof field === 'string' && /^[0-9a-f]{64}$/.test(field);
  if (fields['type'] === 'auth-hello' && keys === 'nodeId,nonce,type' && typeof fields['nodeId'] === 'string' && isHex(fields['nonce'])) {
    return { type: 'auth-hello', nodeId: fields['nodeId'], nonce: fields['nonce'] };
  }
  if (fields['type'] === 'auth-proof' && keys === 'proof,type' && isHex(fields['proof'])) return { type: 'auth-proof', proof: fields['proof'] };
  return null;
}

export function createPeerAuthentication(options: PeerAuthenticationOptions): PeerAuthentication {
  if (options.localNodeId === options.remoteNodeId) throw new RangeError('a peer cannot authenticate itself');
  const key = derivePeerKey(options.secret, options.roomId);
  key.catch(() => undefined); // surfaced by receive()
  const localNonce = options.nonce ?? randomNonce();
  let state: PeerAuthenticationState = { type: 'awaiting-hello' };
  let transcript: string[] | null = null;

  const fail = (reason: string): readonly PeerAuthenticationMessage[] => {
    state = { type: 'failed', reason };
    return [];
  };

  async function onHello(message: Extract<PeerAuthenticationMessage, { type: 'auth-hello' }>): Promise<readonly PeerAuthenticationMessage[]> {
    if (message.nodeId !== options.remoteNodeId) return fail(`peer says it is ${JSON.stringify(message.nodeId)}, expected ${JSON.stringify(options.remoteNodeId)}`);
    if (message.nonce === localNonce) return fail('peer echoed our nonce (a reflection)');
    const local = { nodeId: options.localNodeId, fingerprint: options.localFingerprint, nonce: localNonce };
    const remote = { nodeId: options.remoteNodeId, fingerprint: options.remoteFingerprint, nonce: message.nonce };
    transcript = peerTranscript(options.roomId, local, remote);
    state = { type: 'awaiting-proof' };
    return [{ type: 'auth-proof', proof: await hmacHex(await key, [proofLabel, options.localNodeId, ...transcript]) }];
  }

  async function onProof(proof: string): Promise<readonly PeerAuthenticationMessage[]> {
    if (transcript === null) return fail('proof before hello');
    const valid = await hmacVerify(await key, [proofLabel, options.remoteNodeId, ...transcript], proof);
    if (!valid) return fail('the peer could not prove the room secret for this connection (wrong secret or a man in the middle)');
    state = { type: 'authenticated' };
    return [];
  }

  return {
    get state() {
      return state;
    },
    start: () => ({ type: 'auth-hello', nodeId: options.localNodeId, nonce: localNonce }),
    async receive(message) {
      if (state.type === 'failed' || state.type === 'authenticated') return fail(`unexpected ${message.type} after authentication ended`);
      if (message.type === 'auth-hello') {
        return state.type === 'awaiting-hello' ? onHello(message) : fail('second hello');
      }
      return onProof(message.proof);
    },
  };
}
