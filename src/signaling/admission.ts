// Room admission by challenge-response. The room secret never crosses the wire, and the
// signaling server never needs it either: from the secret, two independent keys are derived,
//
//   admission key = HMAC(secret, ["raftmesh/admission-key/v1", roomId])  → given to the server
//   peer key      = HMAC(secret, ["raftmesh/peer-key/v1", roomId])       → only peers hold it
//
// so an operator configures the server with the admission key (`deriveAdmissionKey`), and a
// compromised server, which learns at most that key, still cannot pass peer authentication
// (peer-authentication.ts) and so cannot impersonate a peer or sit in the middle.
// Both keys are bound to the room id, so one secret reused across rooms gives unrelated keys.
//
// Proof of admission: HMAC(admission key, ["raftmesh/admission-proof/v1", roomId, nodeId, nonce])
// with a fresh server nonce per attempt: a recorded proof answers no other challenge and names
// the node it admits. Note: like any proof over a shared secret, a recorded proof allows an
// offline guess of a weak secret; use long random secrets (say 128 bits).
import { hexToBytes, hmacHex, hmacVerify, importHmacKey, secretBytes } from './hmac.ts';

const admissionKeyLabel = 'raftmesh/admission-key/v1';
const peerKeyLabel = 'raftmesh/peer-key/v1';
const admissionProofLabel = 'raftmesh/admission-proof/v1';

async function deriveKeyHex(secret: string, label: string, roomId: string): Promise<string> {
  return hmacHex(await importHmacKey(secretBytes(secret)), [label, roomId]);
}

/** The 64-hex-digit key a server needs to admit clients of `roomId`; it does not reveal the secret. */
export function deriveAdmissionKey(secret: string, roomId: string): Promise<string> {
  return deriveKeyHex(secret, admissionKeyLabel, roomId);
}

/** The key peers use to authenticate each other; never given to a server. */
export async function derivePeerKey(secret: string, roomId: string): Promise<CryptoKey> {
  return importHmacKey(hexToBytes(await deriveKeyHex(secret, peerKeyLabel, roomId)));
}

export function importAdmissionKey(admissionKeyHex: string): Promise<CryptoKey> {
  if (!/^[0-9a-f]{64}$/.test(admissionKeyHex)) throw new RangeError('an admission key is 64 lowercase hex digits (deriveAdmissionKey)');
  return importHmacKey(hexToBytes(admissionKeyHex));
}

export interface AdmissionChallenge {
  readonly roomId: string;
  readonly nodeId: string;
  readonly nonce: string;
}

const proofFields = (challenge: AdmissionChallenge): string[] => [admissionProofLabel, challenge.roomId, challenge.nodeId, challenge.nonce];

export function computeAdmissionProof(admissionKey: CryptoKey, challenge: AdmissionChallenge): Promise<string> {
  return hmacHex(admissionKey, proofFields(challenge));
}

export function verifyAdmissionProof(admissionKey: CryptoKey, challenge: AdmissionChallenge, proof: string): Promise<boolean> {
  return hmacVerify(admissionKey, proofFields(challenge), proof);
}
