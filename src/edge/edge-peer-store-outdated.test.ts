// An edge peer whose --app store meets a newer version of the application (a command stamped
// above its `version`) says so in its log and its /healthz, and runs on: its store stopped, not its node.
// A lone voter on a loopback signaling server, in-process, as in edge-peer-node-stopped.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgePeer, type EdgePeerOptions } from '../node.ts';
import { jsonSerializer } from '../rooms/serializer.ts';
import { stampCommand } from '../rooms/store-command-stamp.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { until } from './until.test-support.ts';

let signaling: SignalingServer;
const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-store-outdated-'));
beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await signaling.close();
  rmSync(data, { recursive: true, force: true });
});

describe('an edge peer whose application store meets a newer version', () => {
  it('logs that its store is outdated, naming both versions and the entry, and its node runs on', async () => {
    const lines: string[] = [];
    const peer = await startEdgePeer<number, number>({
      room: `edge-store-outdated-${process.pid}`,
      signalingUrl: signaling.url,
      dataDirectory: data,
      webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<number, number>['webrtc'], // a lone voter never connects
      app: { initialState: 0, apply: (state, command) => state + command, version: 1 },
      log: (line) => lines.push(line),
      httpPort: 0,
    });
    const health = async (): Promise<{ readonly code: number; readonly body: { status: string; storeOutdated: unknown } }> => {
      const answer = await fetch(`http://127.0.0.1:${peer.httpPort}/healthz`);
      return { code: answer.status, body: (await answer.json()) as { status: string; storeOutdated: unknown } };
    };
    try {
      await peer.room.store.dispatch(2);
      expect(await health()).toEqual({ code: 200, body: expect.objectContaining({ status: 'ok', storeOutdated: null }) });
      // A newer release of the application, elsewhere in the room, wrote this command.
      const newer = await peer.room.node.propose(stampCommand(2, jsonSerializer<number>().encode(5)), { requestId: 1_000 });
      await until(() => peer.room.store.outdated.value !== null, 'the store is outdated', 5_000);
      expect(lines.filter((line) => line.includes('storeOutdated'))).toEqual([
        `room: storeOutdated: entry ${newer.index} of the room's log is of version 2 of the application, newer than this peer's --app (version 1); its store folds nothing more until the peer restarts with the newer module (the node stays in the room)`,
      ]);
      expect(peer.room.store.state.value).toBe(2);
      // A member still (200), whose application state stopped: restart it with the newer module.
      expect(await health()).toEqual({ code: 200, body: expect.objectContaining({ status: 'storeOutdated', storeOutdated: { storeVersion: 1, seenVersion: 2, index: newer.index } }) });
      expect(peer.room.node.stopped.value).toBeNull();
      expect((await peer.room.node.propose(new Uint8Array([1]), { requestId: 1_001 })).index).toBe(newer.index + 1);
    } finally {
      await peer.close();
    }
  });
});
