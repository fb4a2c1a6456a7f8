// startEdgePeer's `signal` bounds the start, not the peer's life: a caller that bounds the start
// with AbortSignal.timeout(ms), as the README teaches for calls, must not find its running peer
// stopped ms later (joinRoom leaves the room whenever its own signal aborts, and the peer used to
// hand it the caller's: the node stopped while the HTTP port stayed up, half-closed).
// A lone voter on a loopback signaling server: it bootstraps its room, no WebRTC connection is made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgePeer, type EdgePeerOptions } from '../node.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';

let signaling: SignalingServer;
const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-signal-'));
beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await signaling.close();
  rmSync(data, { recursive: true, force: true });
});

describe('startEdgePeer({ signal })', () => {
  it('an abort after the start leaves the peer running until close()', async () => {
    const start = new AbortController();
    const lines: string[] = [];
    const peer = await startEdgePeer({
      room: `edge-signal-${process.pid}`,
      signalingUrl: signaling.url,
      dataDirectory: data,
      webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'], // a lone voter never connects
      signal: start.signal,
      log: (line) => lines.push(line),
    });
    const node = peer.room.node;
    await peer.room.store.dispatch(new Uint8Array([1]));
    start.abort(new Error('the start took too long'));
    // Long enough for a leave the abort started to stop the node (it did within a few ms).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(node.stopped.value).toBeNull();
    expect(node.role.value).toBe('leader');
    await peer.room.store.dispatch(new Uint8Array([2]));
    await peer.close();
    expect(lines.filter((line) => line.startsWith('stopped:') || line === 'closed')).toEqual(['closed']);
  });
});
