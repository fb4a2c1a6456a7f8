// Item 1/2: raftmesh/signaling-server's startSignalingServer({ port }) and its CLI, all on 127.0.0.1
// (split from the review's signaling-webrtc file: nothing here loads node-datachannel).
import { createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startSignalingServer } from '../../signaling/server/index.ts';
import { killCliProcesses, runCli } from '../../testing/cli-process.test-support.ts';

// A test that failed midway must not leave a server running.
afterEach(killCliProcesses);

it('startSignalingServer({ port }) alone listens on loopback (signaling README: "The host defaults to loopback")', async () => {
  const s = await startSignalingServer({ port: 0 });
  try {
    expect(s.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(s.port).toBeGreaterThan(0);
  } finally { await s.close(); }
});

/** A loopback port nothing listens on now (the OS picks it; the review drew one at random). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

it('raftmesh/signaling-server "and its CLI": listens on the given 127.0.0.1 port, SIGTERM exits 0 (signaling README "CLI")', async () => {
  const port = await freePort();
  const cli = runCli('src/signaling/server/cli.ts', ['--port', String(port), '--host', '127.0.0.1'], { RAFTMESH_SIGNAL_ROOMS: '' });
  expect(await cli.waitFor(/listening/), cli.stderr()).not.toBeNull();
  expect(cli.stdout()).toContain(`ws://127.0.0.1:${port}`);
  cli.signal('SIGTERM');
  expect(await cli.exited).toBe(0);
}, 40_000);
