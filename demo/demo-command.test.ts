// `npm run demo` (scripts/demo.ts) run as a newcomer runs it, judged by what they see: a port
// already taken or a mistyped flag ends in one line saying what to do and exit code 1, never a
// stack trace, and nothing is left listening. Every port here is on 127.0.0.1.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killCliProcesses, runCli } from '../src/testing/cli-process.test-support.ts';

const script = 'scripts/demo.ts';

/** A server holding a port of its own, as a demo already running would. */
async function holdPort(): Promise<{ readonly port: number; readonly server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

const held: Server[] = [];
afterEach(async () => {
  killCliProcesses();
  await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function runDemo(args: readonly string[]): Promise<{ readonly code: number | null; readonly stderr: string; readonly stdout: string }> {
  const run = runCli(script, args);
  const code = await run.exited;
  return { code, stderr: run.stderr(), stdout: run.stdout() };
}

describe('npm run demo on a machine where it cannot start', () => {
  it('names the signaling port in use and the flag that moves it', async () => {
    const taken = await holdPort();
    held.push(taken.server);
    const result = await runDemo(['--signal-port', String(taken.port)]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `npm run demo: port ${taken.port} (the signaling server) is in use, perhaps by another \`npm run demo\`: stop it, or choose another port with \`npm run demo -- --signal-port N\``,
    );
    expect(result.stdout).not.toContain('raftmesh demo');
  });

  it('names the app port in use, after closing the signaling server it had started', async () => {
    const app = await holdPort();
    const signal = await holdPort(); // a free port for the signaling server: taken, then let go
    held.push(app.server);
    await new Promise((resolve) => signal.server.close(resolve));
    const result = await runDemo(['--port', String(app.port), '--signal-port', String(signal.port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`npm run demo: port ${app.port} (the demo app) is in use`);
    expect(result.stderr).toContain('`npm run demo -- --port N`');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const reuse = createServer(); // the signaling server's port is free again: nothing left listening
    await new Promise<void>((resolve, reject) => {
      reuse.once('error', reject);
      reuse.listen(signal.port, '127.0.0.1', resolve);
    });
    held.push(reuse);
  });

  it.each([
    [['--port', 'abc'], '--port must be a port number from 1 to 65535, not "abc"'],
    [['--signal-port', '0x50'], '--signal-port must be a port number from 1 to 65535, not "0x50"'],
    [['--port', '70000'], '--port must be a port number from 1 to 65535, not "70000"'],
    [['--port', '9000', '--signal-port', '9000'], '--port and --signal-port are both 9000: the app and the signaling server need a port each'],
  ])('refuses %j with one line', async (args, message) => {
    const result = await runDemo(args);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`npm run demo: ${message}`);
  });
});
