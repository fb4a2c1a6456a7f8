// The transport says once, in words, when a connection gathered no local ICE candidate, and counts
// every such connection (over fake peer connections; the real case, node-datachannel without a
// bind address on a loopback-only host, is no-local-candidates.network.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { FakeConnectionNetwork, type FakeConnection } from './fake-connection.test-support.ts';
import { createSignalingHub } from './signaling-hub.test-support.ts';
import type { WebRtcTransportWarning } from './transport-warnings.ts';
import { createWebRtcTransport, type WebRtcTransport } from './webrtc-transport.ts';

const wait = { timeout: 10_000, interval: 5 };
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

describe('a connection that gathered no local ICE candidate', () => {
  it('is counted each time, and onWarning names the likely cause and the fix once', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const warnings: WebRtcTransportWarning[] = [];
    const [a, b] = ['a', 'b'].map((name) => {
      const signaling = hub.client(nodeId(name));
      const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, onWarning: (warning) => warnings.push({ ...warning, message: `${name}: ${warning.message}` }) });
      cleanup.push(() => {
        transport.close();
        signaling.close();
      });
      return transport;
    }) as [WebRtcTransport, WebRtcTransport];
    const offersOfA = (): FakeConnection[] => network.connections.filter((connection) => connection.options.initiator); // a < b: a offers
    await vi.waitFor(() => expect(offersOfA()).toHaveLength(1), wait);
    offersOfA()[0]?.options.events.noLocalCandidates();
    expect(a.counters.connectionsWithoutLocalCandidates).toBe(1);
    expect(b.counters.connectionsWithoutLocalCandidates).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.type).toBe('noLocalCandidates');
    expect(warnings[0]?.peer).toBe('b');
    expect(warnings[0]?.message).toMatch(/^a: WebRTC gathered no local ICE candidate for the connection to b/);
    expect(warnings[0]?.message).toMatch(/withBindAddress.*bindAddress.*--bind/);
    // The next attempt finds none either: counted, not said again.
    a.disconnect(nodeId('b'));
    await vi.waitFor(() => expect(offersOfA()).toHaveLength(2), wait);
    offersOfA()[1]?.options.events.noLocalCandidates();
    expect(a.counters.connectionsWithoutLocalCandidates).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it('survives an onWarning that throws: the connection still connects once candidates come', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    let calls = 0;
    const transports = ['a', 'b'].map((name) => {
      const signaling = hub.client(nodeId(name));
      const onWarning = (): void => {
        calls++;
        throw new Error('a broken logger');
      };
      const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, onWarning });
      cleanup.push(() => {
        transport.close();
        signaling.close();
      });
      return transport;
    }) as [WebRtcTransport, WebRtcTransport];
    const offersOfA = (): FakeConnection[] => network.connections.filter((connection) => connection.options.initiator);
    await vi.waitFor(() => expect(offersOfA()).toHaveLength(1), wait);
    expect(() => offersOfA()[0]?.options.events.noLocalCandidates()).not.toThrow();
    expect(calls).toBe(1);
    expect(transports[0].counters.connectionsWithoutLocalCandidates).toBe(1);
    await vi.waitFor(() => {
      for (const transport of transports) expect(transport.peers.value.size).toBe(1);
    }, wait);
  });

  it('is not said without an onWarning, and counts nothing while candidates are found', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const transports = ['a', 'b'].map((name) => {
      const signaling = hub.client(nodeId(name));
      const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection });
      cleanup.push(() => {
        transport.close();
        signaling.close();
      });
      return transport;
    });
    await vi.waitFor(() => {
      for (const transport of transports) expect(transport.peers.value.size).toBe(1);
    }, wait);
    expect(transports.map((transport) => transport.counters.connectionsWithoutLocalCandidates)).toEqual([0, 0]);
  });
});
