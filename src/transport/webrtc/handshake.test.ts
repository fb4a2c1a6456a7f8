import { describe, expect, it } from 'vitest';
import { createHandshake, type Handshake } from './handshake.ts';

const sdpWith = (fingerprint: string): string => `v=0\r\na=fingerprint:sha-256 ${fingerprint}\r\n`;
const fingerprintA = 'AA:'.repeat(31) + 'AA';
const fingerprintB = 'BB:'.repeat(31) + 'BB';
const fingerprintMallory = 'CC:'.repeat(31) + 'CC';

interface Side {
  outcome: Promise<string>;
  handshake: Handshake | null;
}

/** Two handshakes wired back to back, each with its own view of the SDPs and its own secret. */
function pair(options: { secretA?: string; secretB?: string; bSeesRemote?: string; bClaimsToBe?: string }): [Side, Side] {
  const sides: [Side, Side] = [
    { outcome: Promise.resolve(''), handshake: null },
    { outcome: Promise.resolve(''), handshake: null },
  ];
  const views = [
    { local: 'node-a', remote: options.bClaimsToBe ?? 'node-b', localSdp: sdpWith(fingerprintA), remoteSdp: sdpWith(fingerprintB), secret: options.secretA },
    { local: 'node-b', remote: 'node-a', localSdp: sdpWith(fingerprintB), remoteSdp: sdpWith(options.bSeesRemote ?? fingerprintA), secret: options.secretB },
  ];
  views.forEach((view, index) => {
    const side = sides[index] as Side;
    side.outcome = new Promise((resolve) => {
      side.handshake = createHandshake({
        roomId: 'room',
        secret: view.secret,
        localNodeId: view.local,
        remoteNodeId: view.remote,
        localSdp: view.localSdp,
        remoteSdp: view.remoteSdp,
        // Deliver asynchronously, in order, like a data channel.
        send: (text) => void Promise.resolve().then(() => sides[1 - index]?.handshake?.receive(text)),
        onAuthenticated: () => resolve('authenticated'),
        onFailed: (reason) => resolve(`failed: ${reason}`),
      });
    });
  });
  for (const side of sides) side.handshake?.start();
  return sides;
}

describe('connection handshake', () => {
  it('authenticates both sides that know the secret and see the same fingerprints', async () => {
    const [a, b] = pair({ secretA: 'secret', secretB: 'secret' });
    expect(await a.outcome).toBe('authenticated');
    expect(await b.outcome).toBe('authenticated');
    expect(a.handshake?.peerVerified).toBe(true);
  });

  it('fails on a wrong secret', async () => {
    const [a, b] = pair({ secretA: 'secret', secretB: 'guess' });
    expect(await a.outcome).toMatch(/^failed: .*room secret/);
    expect(await b.outcome).toMatch(/^failed/);
  });

  it('fails when a man in the middle swapped the fingerprints (each side saw different SDP)', async () => {
    const [a, b] = pair({ secretA: 'secret', secretB: 'secret', bSeesRemote: fingerprintMallory });
    expect(await a.outcome).toMatch(/^failed/);
    expect(await b.outcome).toMatch(/^failed/);
  });

  it('fails when the peer is not who signaling said', async () => {
    const [a] = pair({ secretA: 'secret', secretB: 'secret', bClaimsToBe: 'node-c' });
    expect(await a.outcome).toMatch(/^failed: peer says it is "node-b"/);
  });

  it('fails when only one side has a secret, and succeeds when neither has', async () => {
    const [a] = pair({ secretA: 'secret' });
    expect(await a.outcome).toMatch(/^failed/);
    const [c, d] = pair({});
    expect(await c.outcome).toBe('authenticated');
    expect(await d.outcome).toBe('authenticated');
  });
});
