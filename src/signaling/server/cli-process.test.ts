// `raftmesh-signal` as a process, judged only by what a user sees: the line saying where it
// listens, the exit code, and stderr. (package.json's bin is the build of this same file.)
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { killCliProcesses, runCli, type CliRun } from '../../testing/cli-process.test-support.ts';

// A test that failed midway must not leave a server running.
afterEach(killCliProcesses);

const run = (args: string[]): CliRun => runCli('src/signaling/server/cli.ts', args, { RAFTMESH_SIGNAL_ROOMS: '' });

async function refused(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; run: CliRun }> {
  const started = run(args);
  // A CLI that wrongly starts would never exit by itself: stop it once it says it listens.
  void started.waitFor(/listening on/).then((match) => match !== null && started.signal('SIGTERM'));
  const code = await started.exited;
  return { code, stdout: started.stdout(), stderr: started.stderr(), run: started };
}

describe('raftmesh-signal as a process', () => {
  it('prints the address it really listens on for --port 0, serves it, and exits 0 on SIGTERM with a client connected', async () => {
    const cli = run(['--port', '0']);
    const match = await cli.waitFor(/listening on (ws:\/\/127\.0\.0\.1:(\d+))/);
    const url = match?.[1] ?? '';
    expect(Number(match?.[2])).toBeGreaterThan(0);
    const socket = new WebSocket(url);
    const received: string[] = [];
    socket.on('message', (data) => received.push(String(data)));
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'a' }));
    await cli.waitFor(/join\s+room="room" node="a"/);
    cli.signal('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(await closed).toBe(1001);
    expect(received.some((text) => text.includes('server-closing'))).toBe(true);
    expect(cli.stdout()).toMatch(/raftmesh-signal stopped/);
    expect(cli.stderr()).toBe('');
  });

  it('exits 0 on SIGINT or SIGTERM sent the moment it says it listens', async () => {
    // Once it has said where it listens, a supervisor may stop it at any time: the shutdown
    // handlers must already be in place (a few rounds, since the window is short).
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM'] as const) {
      const cli = run(['--port', '0']);
      await cli.waitFor(/listening on/);
      cli.signal(signal);
      expect(await cli.exited).toBe(0);
      expect(cli.stdout()).toMatch(/raftmesh-signal stopped/);
    }
  });

  for (const port of ['70000', '-1', 'http', '80.5', '0x50', '1e3', '', ' ']) {
    it(`refuses --port ${JSON.stringify(port)} with a clear error and a non-zero exit, without listening`, async () => {
      const { code, stdout, stderr } = await refused([`--port=${port}`]);
      expect(stdout).not.toMatch(/listening on/);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/--port expects 0 \.\. 65535/);
    });
  }

  it('refuses --port without a value', async () => {
    const { code, stderr } = await refused(['--port']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--port needs a value/);
  });

  it('refuses a port already in use with the reason and a non-zero exit', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const { code, stdout, stderr } = await refused(['--port', String(port)]);
      expect(code).not.toBe(0);
      expect(stdout).not.toMatch(/listening on/);
      expect(stderr).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
