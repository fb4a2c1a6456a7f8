// Two edge peers of one room with different secrets on an open signaling server (one that checks
// no secret, as `raftmesh-signal` runs by default): each must refuse the other's connections and
// say why. Before, the peer built its WebRTC transport without the room's transport context, so a
// failed room-secret handshake reached neither the room's `peerAuthenticationFailed` event nor
// the log: the second peer waited for a peer it could never reach, with nothing to say why.
// Runs only inside the loopback-only namespace (vitest project 'network').
import * as polyfill from 'node-datachannel/polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../index.ts';
import { startEdgePeer } from '../node.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';
import { until } from './until.test-support.ts';

let signaling: SignalingServer;
const freshDirectory = temporaryDirectories('raftmesh-edge-secret-');
beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await signaling.close();
});

function peerOptions(room: string, secret: string, events: RoomEvent[], lines: string[]) {
  const dataDirectory = freshDirectory();
  return {
    room,
    secret,
    signalingUrl: signaling.url,
    dataDirectory,
    webrtc: polyfill as never,
    bindAddress: '127.0.0.1',
    log: (line: string) => lines.push(line),
    onEvent: (event: RoomEvent) => events.push(event),
  };
}

const failuresFrom = (events: readonly RoomEvent[]): string[] => events.flatMap((event) => (event.type === 'peerAuthenticationFailed' ? [event.peer] : []));

describe('edge peers with different room secrets on an open signaling server', () => {
  it('each reports the other as failing the room-secret handshake, and neither admits the other', async () => {
    const room = `edge-secret-${process.pid}`;
    const firstEvents: RoomEvent[] = [];
    const firstLines: string[] = [];
    const first = await startEdgePeer(peerOptions(room, 'the first secret', firstEvents, firstLines));
    const secondEvents: RoomEvent[] = [];
    const secondLines: string[] = [];
    const start = new AbortController();
    const second = startEdgePeer({ ...peerOptions(room, 'another secret', secondEvents, secondLines), signal: start.signal });
    second.catch(() => undefined);
    try {
      await until(() => failuresFrom(firstEvents).length > 0 && failuresFrom(secondEvents).length > 0, 'both peers report the other', 30_000);
      expect(failuresFrom(firstEvents).length).toBeGreaterThan(0);
      expect(failuresFrom(secondEvents)).toContain(first.room.id);
      const secondId = failuresFrom(firstEvents)[0]!;
      expect(firstLines.some((line) => line.startsWith(`room: peerAuthenticationFailed: ${secondId} failed the room-secret handshake`))).toBe(true);
      expect(secondLines.some((line) => line.startsWith(`room: peerAuthenticationFailed: ${first.room.id} failed the room-secret handshake`))).toBe(true);
      // Kept out: the first peer's cluster is itself alone, and its store still commits.
      expect(first.room.node.membership.value.voters).toEqual([first.room.id]);
      expect(first.room.node.membership.value.learners ?? []).toEqual([]);
      await first.room.store.dispatch(new Uint8Array([1]));
    } finally {
      start.abort(new Error('the test is over'));
      await second.then((peer) => peer.close(), () => undefined);
      await first.close();
    }
  }, 60_000);
});
