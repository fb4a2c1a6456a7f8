// An edge peer's first run creates its data directory, then fsyncs identity.json into it; but the
// data directory's own entry lives in its parent, and was never fsynced: a power loss could take
// the directory, and the identity with it (an outside review). Each directory fsync is recorded
// here (open's handle wrapped); the file system is the real one, and the peer never reaches the
// network (its signaling server is unreachable, and the start is stopped once it is joining).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as FileSystem from 'node:fs/promises';
import { startEdgePeer, type EdgePeerOptions } from '../node.ts';
import { directoriesSynced, forgetDirectorySyncs } from '../storage/file/directory-syncs.test-support.ts';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { recordingDirectorySyncs } = await import('../storage/file/directory-syncs.test-support.ts');
  return recordingDirectorySyncs(await importOriginal<typeof FileSystem>());
});

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  forgetDirectorySyncs();
});

describe('startEdgePeer on its first run', () => {
  it('makes the data directory it creates durable in its parent, every missing level', async () => {
    const root = mkdtempSync(join(tmpdir(), 'raftmesh-edge-directory-sync-'));
    roots.push(root);
    const dataDirectory = join(root, 'peers', 'data');
    const stop = new AbortController();
    const options: EdgePeerOptions<unknown, unknown> = {
      room: 'r',
      signalingUrl: 'ws://127.0.0.1:9',
      dataDirectory,
      webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'],
      signal: stop.signal,
      log: (line) => {
        if (line.startsWith('joining room')) stop.abort(new Error('stopped by the test once joining'));
      },
    };
    const outcome = await startEdgePeer(options).then(
      async (peer) => {
        await peer.close();
        return 'started';
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(outcome).toBe('stopped by the test once joining');
    expect(directoriesSynced).toEqual(expect.arrayContaining([resolve(root), resolve(root, 'peers')]));
  });
});
