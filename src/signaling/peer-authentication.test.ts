import { describe, expect, it } from 'vitest';
import { deriveAdmissionKey, importAdmissionKey } from './admission.ts';
import { hmacHex } from './hmac.ts';
import {
  createPeerAuthentication,
  fingerprintFromSdp,
  parsePeerAuthenticationMessage,
  peerTranscript,
  type PeerAuthentication,
  type PeerAuthenticationOptions,
} from './peer-authentication.ts';

const fingerprintA = 'sha-256 aa:aa:aa';
const fingerprintB = 'sha-256 bb:bb:bb';
const fingerprintMallory1 = 'sha-256 11:11:11';
const fingerprintMallory2 = 'sha-256 22:22:22';

function party(localNodeId: string, remoteNodeId: string, local: string, remote: string, secret = 'room secret'): PeerAuthentication {
  const options: PeerAuthenticationOptions = { roomId: 'room', secret, localNodeId, remoteNodeId, localFingerprint: local, remoteFingerprint: remote };
  return createPeerAuthentication(options);
}

/** Runs the exchange over an ordered channel (a queue each way) until neither side has more to say. */
async function exchange(a: PeerAuthentication, b: PeerAuthentication): Promise<void> {
  const toB = [a.start()];
  const toA = [b.start()];
  while (toA.length > 0 || toB.length > 0) {
    const forB = toB.shift();
    if (forB !== undefined) toA.push(...(await b.receive(forB)));
    const forA = toA.shift();
    if (forA !== undefined) toB.push(...(await a.receive(forA)));
  }
}

describe('peer authentication', () => {
  it('authenticates two peers that share the secret and see the same connection', async () => {
    const a = party('a', 'b', fingerprintA, fingerprintB);
    const b = party('b', 'a', fingerprintB, fingerprintA);
    await exchange(a, b);
    expect(a.state).toEqual({ type: 'authenticated' });
    expect(b.state).toEqual({ type: 'authenticated' });
  });

  it('fails both ways when one peer has the wrong secret', async () => {
    const a = party('a', 'b', fingerprintA, fingerprintB);
    const b = party('b', 'a', fingerprintB, fingerprintA, 'another secret');
    await exchange(a, b);
    expect(a.state.type).toBe('failed');
    expect(b.state.type).toBe('failed');
  });

  it('defeats a signaling server in the middle, even one that relays every message faithfully', async () => {
    // Mallory swapped the fingerprints in the SDP: a's DTLS runs to Mallory's first certificate,
    // b's to the second. Mallory forwards the authentication messages unchanged between the two.
    const a = party('a', 'b', fingerprintA, fingerprintMallory1);
    const b = party('b', 'a', fingerprintB, fingerprintMallory2);
    await exchange(a, b);
    expect(a.state).toMatchObject({ type: 'failed', reason: expect.stringMatching(/man in the middle/) });
    expect(b.state.type).toBe('failed');
  });

  it('defeats a server that knows the admission key and forges proofs with it', async () => {
    const admissionKey = await importAdmissionKey(await deriveAdmissionKey('room secret', 'room'));
    const a = party('a', 'b', fingerprintA, fingerprintMallory1);
    const hello = a.start();
    const malloryNonce = 'c'.repeat(64);
    await a.receive({ type: 'auth-hello', nodeId: 'b', nonce: malloryNonce });
    const transcript = peerTranscript(
      'room',
      { nodeId: 'a', fingerprint: fingerprintA, nonce: hello.type === 'auth-hello' ? hello.nonce : '' },
      { nodeId: 'b', fingerprint: fingerprintMallory1, nonce: malloryNonce },
    );
    const forged = await hmacHex(admissionKey, ['raftmesh/peer-proof/v1', 'b', ...transcript]);
    await a.receive({ type: 'auth-proof', proof: forged });
    expect(a.state.type).toBe('failed');
  });

  it('refuses a peer that claims another node id, a reflected proof and a replayed one', async () => {
    const impostor = party('a', 'b', fingerprintA, fingerprintB);
    impostor.start();
    await impostor.receive({ type: 'auth-hello', nodeId: 'c', nonce: 'd'.repeat(64) });
    expect(impostor.state).toMatchObject({ type: 'failed', reason: expect.stringMatching(/expected "b"/) });

    // Reflection: a's own proof sent back to it is a proof of `a`, not of `b`.
    const a = party('a', 'b', fingerprintA, fingerprintB);
    a.start();
    const [ownProof] = await a.receive({ type: 'auth-hello', nodeId: 'b', nonce: 'e'.repeat(64) });
    await a.receive(ownProof!);
    expect(a.state.type).toBe('failed');

    // Replay: b's proof from an earlier session does not answer a new nonce.
    const first = party('a', 'b', fingerprintA, fingerprintB);
    const b = party('b', 'a', fingerprintB, fingerprintA);
    b.start();
    const [recorded] = await b.receive(first.start());
    const second = party('a', 'b', fingerprintA, fingerprintB);
    second.start();
    await second.receive({ type: 'auth-hello', nodeId: 'b', nonce: (b.start() as { nonce: string }).nonce });
    await second.receive(recorded!);
    expect(second.state.type).toBe('failed');
  });

  it('fails a proof that arrives before the hello', async () => {
    const a = party('a', 'b', fingerprintA, fingerprintB);
    await a.receive({ type: 'auth-proof', proof: 'f'.repeat(64) });
    expect(a.state).toEqual({ type: 'failed', reason: 'proof before hello' });
  });

  it('parses only well-formed messages', () => {
    expect(parsePeerAuthenticationMessage(JSON.stringify({ type: 'auth-hello', nodeId: 'a', nonce: 'a'.repeat(64) }))).not.toBeNull();
    expect(parsePeerAuthenticationMessage(JSON.stringify({ type: 'auth-proof', proof: 'a'.repeat(64), extra: 1 }))).toBeNull();
    expect(parsePeerAuthenticationMessage('{nope')).toBeNull();
    expect(parsePeerAuthenticationMessage(JSON.stringify({ type: 'auth-proof', proof: 'XYZ' }))).toBeNull();
  });

  it('reads and normalises the fingerprint of an SDP', () => {
    const sdp = 'v=0\r\na=fingerprint:sha-256 AB:CD:EF\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 AB:CD:EF\r\n';
    expect(fingerprintFromSdp(sdp)).toBe('sha-256 ab:cd:ef');
    expect(() => fingerprintFromSdp('v=0\r\n')).toThrow(/fingerprint/);
  });
});
