// raftmesh-signal's argument parsing: three inputs that silently configure a more open server
// than the operator wrote.
import { describe, expect, it } from 'vitest';
import { parseCliArguments } from '../signaling/server/cli-arguments.ts';
import { createRoomLookup } from '../signaling/server/room-policy.ts';

const key = 'a'.repeat(64);

describe('a room named __proto__', () => {
  it('given a secret with --room, is a keyed room: the server does not serve every room open', async () => {
    const config = parseCliArguments(['--room', '__proto__=s3cret'], {});
    // rooms['__proto__'] = {...} on a plain object sets its prototype: no own key, so "no rooms".
    expect(config.rooms).toBeDefined();
    const lookup = await createRoomLookup(config.rooms, config.allowUnlistedRooms);
    expect((await lookup('__proto__')).type).toBe('keyed');
    expect((await lookup('anything-else')).type).toBe('unknown');
  });

  it('given an admission key with --room-key or in RAFTMESH_SIGNAL_ROOMS, is kept (with other rooms beside it)', async () => {
    const fromFlag = parseCliArguments(['--room', 'team', '--room-key', `__proto__=${key}`], {});
    expect(Object.keys(fromFlag.rooms ?? {})).toContain('__proto__');
    const fromEnvironment = parseCliArguments([], { RAFTMESH_SIGNAL_ROOMS: JSON.stringify({ team: null, ['__proto__']: { admissionKey: key } }) });
    expect(Object.keys(fromEnvironment.rooms ?? {})).toContain('__proto__');
  });
});

describe('flags that take no value', () => {
  it('refuse an inline value: --allow-any-room=false must not turn on serving every unlisted room', () => {
    expect(() => parseCliArguments(['--room', 'team=s3cret', '--allow-any-room=false'], {})).toThrow();
  });
});

describe('--host', () => {
  it('refuses an empty host (listen() with host "" binds every interface, not loopback)', () => {
    expect(() => parseCliArguments(['--host', ''], {})).toThrow();
    expect(() => parseCliArguments(['--host='], {})).toThrow();
  });
});
