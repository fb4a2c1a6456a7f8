// Claimed node ids: an id that says who may use it. A signaling server lists the ids in a room to
// everyone in it, so in a room the server admits anyone to (an open room) a stranger could sign in
// under a member's id while the member was away, and the member was then refused with
// `member-in-use` for as long as the stranger stayed. A claimed id is `peer-k` and 32 hex digits
// (128 bits) of SHA-256 over a label and a random 32-byte claim that only its owner keeps: the
// server admits a hello under such an id only with a claim that hashes to it, so the id is of no
// use to anyone who only saw it. Nothing is stored at the server, so a restart of it changes
// nothing. Ids of other shapes (`peer-` and 16 hex digits, minted before claims, or names an
// application chose) are admitted as before.
//
// Why a hash preimage and not a signature: the claim is a bearer token, sent only to the server
// (in the hello, over the server's TLS), and the server is trusted with the room's traffic
// anyway. A signature over a nonce would also hide it from someone who can read an unencrypted
// `ws://` connection; such a reader could only squat the id, never pass the peer handshake of a
// room with a secret, and it keeps the ids reproducible from a seeded random source in tests.
import { bytesToHex, hexToBytes } from './hmac.ts';
import { sha256 } from './sha256.ts';

const claimedIdPattern = /^peer-k[0-9a-f]{32}$/;
const claimPattern = /^[0-9a-f]{64}$/;
/** Separates this hash from any other SHA-256 of the same bytes. */
const label = new TextEncoder().encode('raftmesh node id claim v1\0');

/** Whether `id` is a claimed id: the server then admits it only with its claim. */
export function isClaimedNodeId(id: string): boolean {
  return claimedIdPattern.test(id);
}

/** Whether `claim` is shaped like one (64 lowercase hex digits), before any hashing. */
export function isNodeClaim(claim: string): boolean {
  return claimPattern.test(claim);
}

/** The id a claim names. */
export function claimedNodeId(claim: string): string {
  if (!isNodeClaim(claim)) throw new RangeError('a node id claim is 64 lowercase hex digits');
  const bytes = new Uint8Array(label.length + claim.length / 2);
  bytes.set(label);
  bytes.set(hexToBytes(claim), label.length);
  return `peer-k${bytesToHex(sha256(bytes).subarray(0, 16))}`;
}

/** Whether `claim` proves `id`: only the owner of a claimed id can. Unclaimed ids prove nothing. */
export function claimProvesNodeId(claim: string, id: string): boolean {
  if (!isClaimedNodeId(id) || !isNodeClaim(claim)) return false;
  return claimedNodeId(claim) === id;
}

/**
 * A new claim: 32 bytes from `crypto.getRandomValues`, or from `random` when one is given (a
 * seeded source makes simulated rooms reproducible; it makes the claim guessable, which is what
 * a test wants and a deployment must not do).
 */
export function mintNodeClaim(random?: () => number): string {
  const bytes = new Uint8Array(32);
  if (random === undefined) globalThis.crypto.getRandomValues(bytes);
  else for (let index = 0; index < bytes.length; index += 1) bytes[index] = Math.floor(random() * 256) & 0xff;
  return bytesToHex(bytes);
}
