// EdgePeer.nodeStopped: what a library user watches to do what raftmesh-peer does when the peer's
// node stops for good while the peer runs (close, and exit or start anew). Before it, only a log
// line and /healthz's 'stopped' said so, and the peer lived on doing nothing useful. It must
// resolve with the node's own error (its class and reason), and never for the stop close() makes.
// A lone voter on a loopback signaling server, in-process: it bootstraps its room, no WebRTC
// connection is made.
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEdgePeer, type EdgePeer, type EdgePeerOptions } from '../node.ts';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';

let signaling: SignalingServer;
const directories: string[] = [];
beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await signaling.close();
});
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

let rooms = 0;
async function lonePeer(): Promise<{ peer: EdgePeer<unknown, unknown>; data: string; lines: string[] }> {
  const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-node-stopped-'));
  directories.push(data);
  const lines: string[] = [];
  const peer = await startEdgePeer({
    room: `edge-node-stopped-${process.pid}-${(rooms += 1)}`,
    signalingUrl: signaling.url,
    dataDirectory: data,
    webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'], // a lone voter never connects
    log: (line) => lines.push(line),
  });
  // Leader of its room of one: its storage has written, and writes on.
  await peer.room.store.dispatch(new Uint8Array([1]));
  return { peer, data, lines };
}

/** The locks left on a data directory: its own (`lock`) and each id's storage's (`raft-<id>/lock`). */
const locks = (data: string): string[] => [...(existsSync(join(data, 'lock')) ? ['lock'] : []), ...readdirSync(data).filter((name) => name.startsWith('raft-') && existsSync(join(data, name, 'lock')))];

/** Whether `promise` has settled, after the stop watch's deferred report (a timer of 0 ms) had its turn. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 10));
  return done;
}

describe('EdgePeer.nodeStopped', () => {
  it('resolves with the storage\'s own error when the lock of the node\'s storage is taken over, and close() then releases what is left', async () => {
    const { peer, data, lines } = await lonePeer();
    // Another holder's lock in place of ours: a new file (a new inode, as a takeover makes), so
    // the lease's next renewal (every 2 s) reads back a lock that is not its own.
    const lockPath = join(data, `raft-${peer.room.id}`, 'lock');
    const takerText = 'pid 1\ntoken another-holder';
    writeFileSync(`${lockPath}.new`, takerText);
    renameSync(`${lockPath}.new`, lockPath);
    const error = (await peer.nodeStopped) as Error & { reason?: unknown };
    expect(error.name).toBe('RaftStorageError');
    expect(error.reason).toBe('inUse');
    expect(error.message).toMatch(/now names another owner/);
    expect(peer.room.node.stopped.value).toBe(error);
    await peer.close();
    // Ours released; the taker's left as it was (a release removes only its own token's lock).
    expect(locks(data)).toEqual([`raft-${peer.room.id}`]);
    expect(lines.filter((line) => line.startsWith('room: nodeStopped'))).toHaveLength(1);
  });

  it('resolves when the application closes the node itself (room.node.close(), not through the peer)', async () => {
    const { peer, data } = await lonePeer();
    await peer.room.node.close();
    expect((await peer.nodeStopped).name).toBe('RaftClosedError');
    await peer.close();
    expect(locks(data)).toEqual([]);
  });

  it('never resolves for the stop close() makes', async () => {
    const { peer, data, lines } = await lonePeer();
    await peer.close();
    expect(peer.room.node.stopped.value).not.toBeNull(); // the node did stop: close() stopped it
    expect(await settled(peer.nodeStopped)).toBe(false);
    expect(lines.some((line) => line.startsWith('room: nodeStopped'))).toBe(false);
    expect(locks(data)).toEqual([]);
  });
});
