// `raftmesh-signal` as a process, judged only by what a user sees: the line saying where it
// listens, the exit code, and stderr. (package.json's bin is the build of this same file.)
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

interface Run {
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout text matching `pattern` (or null if the process exits first). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray | null>;
  signal(name: NodeJS.Signals): void;
}

const children: Array<{ kill(signal: NodeJS.Signals): boolean; exitCode: number | null }> = [];

afterEach(() => {
  // A test that failed midway must not leave a server running.
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/signaling/server/cli.ts', ...args], {
    env: { ...process.env, RAFTMESH_SIGNAL_ROOMS: '' },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  let wake: Array<() => void> = [];
  const poke = (): void => {
    const woken = wake;
    wake = [];
    for (const resolve of woken) resolve();
  };
  child.stdout.on('data', (chunk) => ((stdout += String(chunk)), poke()));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      done = true;
      poke();
      resolve(code);
    }),
  );
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitFor(pattern) {
      for (;;) {
        const match = pattern.exec(stdout);
        if (match !== null || done) return match;
        await new Promise<void>((resolve) => wake.push(resolve));
      }
    },
    signal: (name) => child.kill(name),
  };
}

async function refused(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; run: Run }> {
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
