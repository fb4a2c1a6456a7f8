// node-datachannel gathers no ICE candidate on a loopback-only host unless told an address to bind
// (libjuice skips loopback interfaces): a user's transport without one never connected, and nothing
// said why (a newcomer's review, 2026-12-07). Now the transport counts such connections and says
// once, through onWarning, what is missing. Runs only inside the loopback-only namespace (vitest
// project 'network'), where the host has nothing but loopback.
import * as polyfill from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { withBindAddress } from '../../edge/bind-address.ts';
import { startSignalingServer, type SignalingServer } from '../../signaling/server/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcImplementation, type WebRtcTransport, type WebRtcTransportWarning, type WebSocketConstructor, type WebSocketSignalingClient } from '../../webrtc.ts';

const wait = { timeout: 30_000, interval: 20 };
const unbound = polyfill as unknown as WebRtcImplementation;
const bound = withBindAddress(unbound, '127.0.0.1');
let server: SignalingServer | null = null;
const opened: Array<WebRtcTransport | WebSocketSignalingClient> = [];
let rooms = 0;

async function pair(webrtcs: readonly [WebRtcImplementation, WebRtcImplementation]): Promise<{ transports: WebRtcTransport[]; warnings: WebRtcTransportWarning[][] }> {
  server ??= await startSignalingServer({ port: 0, host: '127.0.0.1' });
  const url = server.url;
  const roomId = `candidates-${(rooms += 1)}`;
  const warnings: WebRtcTransportWarning[][] = [[], []];
  const transports = webrtcs.map((webrtc, index) => {
    const signaling = createWebSocketSignalingClient({ url, roomId, nodeId: nodeId(`candidates-${index}`), WebSocket: WebSocket as unknown as WebSocketConstructor });
    const transport = createWebRtcTransport({ signaling, webrtc, iceServers: [], onWarning: (warning) => warnings[index]?.push(warning) });
    opened.push(transport, signaling);
    return transport;
  });
  return { transports, warnings };
}

afterEach(async () => {
  for (const closable of opened.splice(0)) closable.close();
  await server?.close();
  server = null;
});

describe('node-datachannel on a loopback-only host', () => {
  it('without a bind address: every connection is counted, and the warning names the fix', async () => {
    const { transports, warnings } = await pair([unbound, unbound]);
    await vi.waitFor(() => {
      for (const transport of transports) expect(transport.counters.connectionsWithoutLocalCandidates).toBeGreaterThanOrEqual(1);
    }, wait);
    for (const [index, said] of warnings.entries()) {
      expect(said, `side ${index}`).toHaveLength(1);
      expect(said[0]?.type).toBe('noLocalCandidates');
      expect(said[0]?.peer).toBe(`candidates-${1 - index}`);
      expect(said[0]?.message).toMatch(/withBindAddress\(.*'127\.0\.0\.1'\)/);
    }
    expect(transports.map((transport) => transport.peers.value.size)).toEqual([0, 0]);
  });

  it('with one: it connects, and nothing is counted or said', async () => {
    const { transports, warnings } = await pair([bound, bound]);
    await vi.waitFor(() => {
      for (const transport of transports) expect(transport.peers.value.size).toBe(1);
    }, wait);
    expect(transports.map((transport) => transport.counters.connectionsWithoutLocalCandidates)).toEqual([0, 0]);
    expect(warnings).toEqual([[], []]);
  });

  it('with one on one side only: it connects (the bound side\'s candidate reaches the other), and the side without says so', async () => {
    const { transports, warnings } = await pair([unbound, bound]);
    await vi.waitFor(() => {
      for (const transport of transports) expect(transport.peers.value.size).toBe(1);
      expect(warnings[0]).toHaveLength(1);
    }, wait);
    expect(warnings[0]?.[0]?.message).toMatch(/connects only if candidates-1's own candidates reach this host/);
    expect(transports[1]?.counters.connectionsWithoutLocalCandidates).toBe(0);
    expect(warnings[1]).toEqual([]);
  });
});
