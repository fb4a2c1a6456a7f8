// Item 1/2: raftmesh/signaling-server's startSignalingServer({ port }), and the README's "WebRTC transport"
// snippet run in Node (node-datachannel polyfill, as the README's "Requirements" paragraph says), all on 127.0.0.1.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type NodeId } from '../../index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient } from '../../webrtc.ts';
import { startSignalingServer } from '../../signaling/server/index.ts';
import * as polyfill from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
// Node 20 has no global WebSocket; the signaling README lists the `WebSocket?` option.
const WS = WebSocket as unknown as typeof globalThis.WebSocket;

// node-datachannel gathers no loopback candidate by itself (README "Edge peers"): bind to 127.0.0.1.
class LoopbackPeerConnection extends polyfill.RTCPeerConnection {
  constructor(config?: RTCConfiguration) { super({ ...(config ?? {}), bindAddress: '127.0.0.1' } as RTCConfiguration); }
}
const webrtc = { ...polyfill, RTCPeerConnection: LoopbackPeerConnection } as unknown as NonNullable<Parameters<typeof createWebRtcTransport>[0]['webrtc']>;

let server: Awaited<ReturnType<typeof startSignalingServer>>;
beforeAll(async () => { server = await startSignalingServer({ port: 0, host: '127.0.0.1' }); });
afterAll(async () => { await server.close(); });

it('startSignalingServer({ port }) alone listens on loopback (signaling README: "The host defaults to loopback")', async () => {
  const s = await startSignalingServer({ port: 0 });
  try {
    expect(s.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(s.port).toBeGreaterThan(0);
  } finally { await s.close(); }
});

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
    const c = made[0]!.transport.counters;
    expect(c.framesSent).toBeGreaterThan(0);
    expect(server.stats()).toBeDefined();
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    for (const m of made) { await m.transport.close(); await m.signaling.close(); }
  }
}, 60_000);

it('raftmesh/signaling-server "and its CLI": listens on the given 127.0.0.1 port, SIGTERM exits 0 (signaling README "CLI")', async () => {
  const { spawn } = await import('node:child_process');
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/signaling/server/cli.ts', '--port', String(port), '--host', '127.0.0.1'],
    { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('listening') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  expect(out).toContain(`ws://127.0.0.1:${port}`);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}, 40_000);
