// The CLI as a user runs it: a real process (through tsx), joins logged one line each, and a
// clean exit on SIGTERM. Waits on output lines and exit events, never on wall-clock time.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { deriveKeyRoom, parseCliArguments } from './cli-arguments.ts';
import { joinOpen, joinWithSecret } from './raw-client.test-support.ts';
import { createRoomLookup } from './room-policy.ts';

function startCli(args: string[], environment: Record<string, string> = {}): { child: ChildProcessWithoutNullStreams; line: (pattern: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/signaling/server/cli.ts', ...args], {
    env: { ...process.env, ...environment },
  });
  const lines: string[] = [];
  let waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    lines.push(text);
    const current = waiters;
    waiters = [];
    for (const wake of current) wake();
  });
  const line = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      const index = lines.findIndex((text) => pattern.test(text));
      if (index >= 0) return lines.splice(index, 1)[0] ?? '';
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { child, line };
}

describe('raftmesh-signal CLI', () => {
  it('starts with one command, logs joins and leaves, and exits 0 on SIGTERM', async () => {
    const { child, line } = startCli(['--port', '0', '--host', '127.0.0.1', '--room', 'locked=hunter2hunter2'], {
      RAFTMESH_SIGNAL_ROOMS: '{"lobby": null}',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = /listening on (ws:\/\/\S+)/.exec(await line(/listening on/))?.[1] ?? '';
    const lobby = await joinOpen(url, 'lobby', 'alice');
    expect(await line(/join /)).toMatch(/room="lobby" node="alice" peers=1/);
    const locked = await joinWithSecret(url, 'locked', 'bob', 'hunter2hunter2');
    await locked.next('joined');
    expect(await line(/join /)).toMatch(/room="locked" node="bob"/);
    lobby.close();
    expect(await line(/leave /)).toMatch(/room="lobby" node="alice" peers=0/);
    child.kill('SIGTERM');
    expect((await locked.next('error')).code).toBe('server-closing');
    expect(await exited).toBe(0);
    expect(await line(/stopped/)).toBe('raftmesh-signal stopped');
  });

  it('parses flags and the environment', () => {
    const key = 'a'.repeat(64);
    const config = parseCliArguments(['--port=9000', '--room', 'open', '--room', 'x=y=z', '--room-key', `k=${key}`, '--allow-any-room'], {
      RAFTMESH_SIGNAL_ROOMS: '{"fromEnv": "s"}',
    });
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      rooms: { fromEnv: { secret: 's' }, open: {}, x: { secret: 'y=z' }, k: { admissionKey: key } },
      allowUnlistedRooms: true,
      help: false,
    });
    expect(parseCliArguments([], {}).rooms).toBeUndefined();
    expect(() => parseCliArguments(['--port', 'http'], {})).toThrow(/--port/);
    expect(() => parseCliArguments(['--frobnicate'], {})).toThrow(/unknown argument/);
    expect(() => parseCliArguments([], { RAFTMESH_SIGNAL_ROOMS: '[1]' })).toThrow(/JSON object/);
    expect(deriveKeyRoom(['derive-key', 'alpha'])).toBe('alpha');
    expect(deriveKeyRoom(['--port', '1'])).toBeNull();
  });

  it('keeps a room named __proto__ (a plain object took it for its prototype: lost, and alone it left every room open)', async () => {
    const key = 'a'.repeat(64);
    const alone = parseCliArguments(['--room', '__proto__=s3cret'], {});
    expect(alone.rooms).toBeDefined();
    const lookup = await createRoomLookup(alone.rooms, alone.allowUnlistedRooms);
    expect((await lookup('__proto__')).type).toBe('keyed');
    expect((await lookup('anything-else')).type).toBe('unknown');
    expect(Object.keys(parseCliArguments(['--room', 'team', '--room-key', `__proto__=${key}`], {}).rooms ?? {})).toEqual(['team', '__proto__']);
    const fromEnvironment = parseCliArguments([], { RAFTMESH_SIGNAL_ROOMS: JSON.stringify({ team: null, ['__proto__']: { admissionKey: key } }) });
    expect(Object.keys(fromEnvironment.rooms ?? {})).toEqual(['team', '__proto__']);
  });

  it('refuses a value on a flag that takes none, and an empty host, instead of serving more than asked', () => {
    // `--allow-any-room=false` turned serving every unlisted room on.
    expect(() => parseCliArguments(['--room', 'team=s3cret', '--allow-any-room=false'], {})).toThrow('--allow-any-room takes no value, got "--allow-any-room=false"');
    expect(() => parseCliArguments(['--help=yes'], {})).toThrow('--help takes no value');
    // listen() with host "" binds every interface, not loopback.
    expect(() => parseCliArguments(['--host', ''], {})).toThrow(/^--host expects a host name or address .*, got ""$/);
    expect(() => parseCliArguments(['--host='], {})).toThrow(/^--host expects a host name or address/);
    expect(() => parseCliArguments(['--host', ' '], {})).toThrow(/^--host expects a host name or address/);
    expect(parseCliArguments(['--allow-any-room', '--host', '::1'], {})).toMatchObject({ allowUnlistedRooms: true, host: '::1' });
  });
});
