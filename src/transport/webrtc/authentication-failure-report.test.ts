// What the transport tells about the room secret without exposing it: each failed handshake,
// by peer, through `onAuthenticationFailure` (before, only `counters.authenticationFailures`
// counted them, so a page could only poll a number to learn a peer had the wrong secret), and
// `usesSecret`, which lets joinRoom check its transport was given the room's secret.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { FakeConnectionNetwork } from './fake-connection.test-support.ts';
import { createSignalingHub } from './signaling-hub.test-support.ts';
import { createWebRtcTransport, type PeerAuthenticationFailure, type WebRtcTransportOptions } from './webrtc-transport.ts';

const wait = { timeout: 20_000, interval: 5 };
const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, connectTimeoutMs: 5_000 };
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function pair(a: Partial<WebRtcTransportOptions>, b: Partial<WebRtcTransportOptions>) {
  const hub = createSignalingHub();
  const network = new FakeConnectionNetwork();
  const [first, second] = [a, b].map((extra, index) => {
    const signaling = hub.client(nodeId(index === 0 ? 'a' : 'b'));
    const transport = createWebRtcTransport({ signaling, openConnection: network.openConnection, limits, ...extra });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  });
  return { a: first!, b: second! };
}

describe('WebRtcTransport onAuthenticationFailure', () => {
  it('names the peer of every connection that fails the room-secret handshake, one call per failure counted', async () => {
    const heard: PeerAuthenticationFailure[] = [];
    const { a } = pair({ secret: 'room secret', onAuthenticationFailure: (failure) => heard.push(failure) }, { secret: 'another secret' });
    await vi.waitFor(() => expect(heard.length).toBeGreaterThanOrEqual(3), wait);
    a.close();
    expect(heard.every((failure) => failure.peer === nodeId('b') && failure.reason.length > 0)).toBe(true);
    expect(heard).toHaveLength(a.counters.authenticationFailures);
    expect(a.peers.value.size).toBe(0);
  });

  it('also when only one side has a secret', async () => {
    const heard: PeerAuthenticationFailure[] = [];
    pair({ onAuthenticationFailure: (failure) => heard.push(failure) }, { secret: 'room secret' });
    await vi.waitFor(() => expect(heard[0]).toMatchObject({ peer: nodeId('b') }), wait);
  });

  it('a listener that throws changes nothing: the transport goes on retrying and reporting', async () => {
    let calls = 0;
    const { a } = pair(
      {
        secret: 'room secret',
        onAuthenticationFailure: () => {
          calls += 1;
          throw new Error('the application listener broke');
        },
      },
      { secret: 'another secret' },
    );
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(3), wait);
    expect(a.counters.authenticationFailures).toBeGreaterThanOrEqual(3);
  });

  it('peers with the same secret connect without a call', async () => {
    const heard: PeerAuthenticationFailure[] = [];
    const { a, b } = pair({ secret: 'room secret', onAuthenticationFailure: (failure) => heard.push(failure) }, { secret: 'room secret' });
    await vi.waitFor(() => expect([a.peers.value.size, b.peers.value.size]).toEqual([1, 1]), wait);
    expect(heard).toEqual([]);
  });
});

describe('WebRtcTransport usesSecret', () => {
  it('says whether the transport authenticates with exactly that secret, none included', () => {
    const { a, b } = pair({ secret: 'room secret' }, {});
    expect([a.usesSecret('room secret'), a.usesSecret('another secret'), a.usesSecret(undefined)]).toEqual([true, false, false]);
    expect([b.usesSecret(undefined), b.usesSecret('room secret')]).toEqual([true, false]);
  });
});
