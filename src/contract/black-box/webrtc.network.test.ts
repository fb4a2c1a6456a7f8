// Item 1/2: the README's "WebRTC transport" snippet run in Node (node-datachannel polyfill, as the
// README's "Requirements" paragraph says), all on 127.0.0.1. A *.network.test.ts: the `network`
// project runs it in a forked process (node-datachannel in two worker threads aborts the process)
// inside the loopback-only namespace. The signaling server's own tests are in signaling-server.test.ts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type NodeId } from '../../index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient } from '../../webrtc.ts';
import { startSignalingServer } from '../../signaling/server/index.ts';
import { webrtc, WS } from './loopback-webrtc.test-support.ts';

let server: Awaited<ReturnType<typeof startSignalingServer>>;
beforeAll(async () => { server = await startSignalingServer({ port: 0, host: '127.0.0.1' }); });
afterAll(async () => { await server.close(); });

it('createWebRtcTransport in Node without `webrtc` refuses, naming node-datachannel (README "Requirements")', async () => {
  const id = nodeId('lonely');
  const signaling = createWebSocketSignalingClient({ url: server.url, roomId: 'none', nodeId: id, WebSocket: WS });
  let error: unknown = null;
  try {
    const t = createWebRtcTransport({ signaling, iceServers: [] });
    await (t as unknown as { close(): Promise<void> | void }).close();
  } catch (e) { error = e; }
  await signaling.close();
  expect(String((error as Error | null)?.message)).toMatch(/node-datachannel/);
});

it('README "WebRTC transport": three nodes over WebRTC data channels commit a proposal', async () => {
  const secret = 'correct horse battery staple 42';
  const ids: NodeId[] = ['alice', 'bob', 'carol'].map(nodeId);
  const made = ids.map((id) => {
    const signaling = createWebSocketSignalingClient({ url: server.url, roomId: 'team', nodeId: id, secret, WebSocket: WS });
    const transport = createWebRtcTransport({ signaling, secret, iceServers: [], webrtc });
    return { id, signaling, transport };
  });
  const nodes = await Promise.all(made.map(({ id, transport }) =>
    createRaftNode({ id, clusterConfig: { voters: ids }, transport, storage: new InMemoryRaftStorage() })));
  try {
    const entry = await nodes[2]!.propose(new TextEncoder().encode('over webrtc'));
    expect(entry.index).toBeGreaterThan(0);
    // Summed over the three: the commit needed frames, but not from any one node (the review read
    // alice's alone, which is 0 whenever bob and carol elect and commit before alice's channels open).
    expect(made.reduce((sum, m) => sum + m.transport.counters.framesSent, 0)).toBeGreaterThan(0);
    expect(server.stats()).toBeDefined();
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    for (const m of made) { await m.transport.close(); await m.signaling.close(); }
  }
}, 60_000);
