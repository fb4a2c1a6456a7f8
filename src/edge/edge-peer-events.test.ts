// EdgePeerOptions.onEvent sees the room's events, `signalingRetry` among them: before, the peer
// replaced the signaling context's `onRetry` with its own log, so the room never heard of a retry
// and an application embedding the peer had only log lines to go on. The log still says a run of
// identical failures once (the retry log), not once more per retry as a room event.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../index.ts';
import { startEdgePeer, type EdgePeerOptions } from '../node.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';
import { until } from './until.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-edge-events-');

/** A loopback port nothing listens on (bound, read, closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('EdgePeerOptions.onEvent', () => {
  it('hears every failed signaling attempt as a signalingRetry event, while the log says the run once', async () => {
    const events: RoomEvent[] = [];
    const lines: string[] = [];
    const start = new AbortController();
    const starting = startEdgePeer({
      room: `edge-events-${process.pid}`,
      signalingUrl: `ws://127.0.0.1:${await closedPort()}`,
      dataDirectory: freshDirectory(),
      webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'],
      signal: start.signal,
      log: (line) => lines.push(line),
      onEvent: (event) => {
        events.push(event);
        throw new Error('a listener that throws is ignored');
      },
    });
    const retries = (): RoomEvent[] => events.filter((event) => event.type === 'signalingRetry');
    // Aborted whatever the wait's outcome, so a peer that never retried is not left starting.
    await until(() => retries().length >= 3, 'three signaling retries', 20_000).finally(() => start.abort(new Error('enough retries')));
    await expect(starting).rejects.toThrow(/enough retries/);
    expect(retries().length).toBeGreaterThanOrEqual(3);
    expect(retries().map((event) => (event.type === 'signalingRetry' ? event.attempt : 0)).slice(0, 3)).toEqual([1, 2, 3]);
    expect(lines.filter((line) => line.startsWith('room: signalingRetry'))).toEqual([]);
    expect(lines.filter((line) => line.startsWith('signaling: attempt'))).toHaveLength(1);
  });

  it('is refused when it is not a function', async () => {
    await expect(
      startEdgePeer({
        room: 'edge-events-refused',
        signalingUrl: 'ws://127.0.0.1:1',
        dataDirectory: freshDirectory(),
        webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'],
        onEvent: 'log it' as unknown as () => void,
      }),
    ).rejects.toThrow(/onEvent must be a function/);
  });
});
