// Review finding: startEdgePeer accepts `httpHost: ''` and hands it to server.listen, which reads an
// empty host as "every interface" (`::`): /healthz and /metrics (node id, peers, term) are then
// served on every interface, where the CLI refuses an empty --http-host for exactly that reason
// (cli-arguments.ts: "an empty `--http-host` every interface").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEdgePeer, type EdgePeerOptions } from '../node.ts';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('review: startEdgePeer and an empty httpHost', () => {
  it('refuses httpHost "" rather than serving /metrics on every interface', async () => {
    // The port is taken on loopback first: listening on every interface then fails (EADDRINUSE)
    // instead of binding, so this test never serves anything beyond loopback, whatever the code.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = (taken.address() as { port: number }).port;
    const dataDirectory = mkdtempSync(join(tmpdir(), 'raftmesh-review-httphost-'));
    directories.push(dataDirectory);
    const lines: string[] = [];
    const stop = new AbortController();
    const options: EdgePeerOptions<unknown, unknown> = {
      room: 'r',
      signalingUrl: 'ws://127.0.0.1:9', // never reached: the start is stopped once HTTP is up
      dataDirectory,
      webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'],
      httpPort: port,
      httpHost: '',
      signal: stop.signal,
      log: (line) => {
        lines.push(line);
        if (line.startsWith('health and metrics on')) stop.abort(new Error('stopped by the test once HTTP was up'));
      },
    };
    const outcome = await startEdgePeer(options).then(
      async (peer) => {
        await peer.close();
        return 'started';
      },
      (error: unknown) => (error instanceof RangeError ? `refused: ${error.message}` : `failed later (it tried to listen on every interface): ${String(error)}`),
    );
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    expect({ outcome, served: lines.find((line) => line.startsWith('health and metrics on')) ?? null }).toEqual({ outcome: expect.stringMatching(/^refused: .*httpHost/) as unknown, served: null });
  });
});
