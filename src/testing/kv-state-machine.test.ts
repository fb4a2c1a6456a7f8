import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientId } from '../core/types.ts';
import type { Committed, DedupKey, LogEntry } from '../core/types.ts';
import {
  createKeyValueStateMachine,
  decodeKvCommand,
  decodeKvState,
  encodeKvCommand,
  maxKeyBytes,
  maxValueBytes,
} from './kv-state-machine.ts';
import type { KeyValueStateMachine, KvCommand } from './kv-state-machine.ts';

function entry(index: number, command: KvCommand | Uint8Array, dedupKey?: DedupKey): Committed {
  const bytes = command instanceof Uint8Array ? command : encodeKvCommand(command);
  const logEntry: LogEntry = dedupKey === undefined
    ? { index, term: 1, command: bytes, isNoOp: false }
    : { index, term: 1, command: bytes, isNoOp: false, dedupKey };
  return { type: 'entry', entry: logEntry };
}

function request(id: string, requestId: number): DedupKey {
  return { clientId: clientId(id), requestId };
}

const textArbitrary = fc.string({ unit: 'grapheme', maxLength: 12 });
const commandArbitrary: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: textArbitrary, value: textArbitrary }),
  fc.record({ type: fc.constant('get' as const), key: textArbitrary }),
  fc.record({ type: fc.constant('append' as const), key: textArbitrary, value: textArbitrary }),
  fc.record({
    type: fc.constant('compareAndSet' as const),
    key: textArbitrary,
    expected: fc.option(textArbitrary, { nil: null }),
    value: textArbitrary,
  }),
  fc.record({ type: fc.constant('delete' as const), key: textArbitrary }),
);

describe('encodeKvCommand / decodeKvCommand', () => {
  it('round-trips every command', () => {
    fc.assert(fc.property(commandArbitrary, (command) => {
      expect(decodeKvCommand(encodeKvCommand(command))).toEqual(command);
    }));
  });

  it('is compact: a short put is a few bytes', () => {
    expect(encodeKvCommand({ type: 'put', key: 'x', value: '1' })).toEqual(new Uint8Array([1, 1, 1, 120, 1, 49]));
  });

  it('refuses malformed bytes with a clear RangeError', () => {
    const put = encodeKvCommand({ type: 'put', key: 'key', value: 'value' });
    expect(() => decodeKvCommand(new Uint8Array())).toThrow(/truncated/);
    expect(() => decodeKvCommand(new Uint8Array([2, 2, 0]))).toThrow(/version 2/);
    expect(() => decodeKvCommand(new Uint8Array([1, 9, 0]))).toThrow(/unknown opcode 9/);
    expect(() => decodeKvCommand(new Uint8Array([1, 2, 1, 0xc3]))).toThrow(/UTF-8/);
    expect(() => decodeKvCommand(new Uint8Array([1, 4, 0, 2, 0]))).toThrow(/flag/);
    expect(() => decodeKvCommand(new Uint8Array([...put, 0]))).toThrow(/trailing/);
    for (let length = 0; length < put.length; length += 1) {
      expect(() => decodeKvCommand(put.slice(0, length))).toThrow(RangeError);
    }
  });

  it('bounds keys and values on both sides', () => {
    expect(() => encodeKvCommand({ type: 'get', key: 'k'.repeat(maxKeyBytes + 1) })).toThrow(/maximum 1024/);
    expect(() => encodeKvCommand({ type: 'put', key: 'k', value: 'v'.repeat(maxValueBytes + 1) })).toThrow(RangeError);
    const longKey = new Uint8Array([1, 2, 0x81, 0x08, ...new Uint8Array(1025).fill(97)]);
    expect(() => decodeKvCommand(longKey)).toThrow(/above its maximum 1024/);
  });

  it('decodes arbitrary bytes only to a RangeError or a command that re-encodes identically', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
      try {
        return Buffer.from(encodeKvCommand(decodeKvCommand(bytes))).equals(Buffer.from(bytes));
      } catch (error) {
        return error instanceof RangeError;
      }
    }));
  });
});

describe('applying committed entries', () => {
  it('puts, reads, appends, compares-and-sets and deletes', () => {
    const machine = createKeyValueStateMachine();
    expect(machine.apply(entry(1, { type: 'get', key: 'x' }))).toEqual({ type: 'read', value: null });
    expect(machine.apply(entry(2, { type: 'put', key: 'x', value: 'a' }))).toEqual({ type: 'written' });
    expect(machine.apply(entry(3, { type: 'append', key: 'x', value: 'b' }))).toEqual({ type: 'written' });
    expect(machine.apply(entry(4, { type: 'compareAndSet', key: 'x', expected: 'a', value: 'z' }))).toEqual({ type: 'compared', succeeded: false });
    expect(machine.apply(entry(5, { type: 'compareAndSet', key: 'x', expected: 'ab', value: 'c' }))).toEqual({ type: 'compared', succeeded: true });
    expect(machine.get('x')).toBe('c');
    expect(machine.apply(entry(6, { type: 'compareAndSet', key: 'y', expected: null, value: 'new' }))).toEqual({ type: 'compared', succeeded: true });
    expect(machine.apply(entry(7, { type: 'delete', key: 'x' }))).toEqual({ type: 'written' });
    expect(machine.get('x')).toBeUndefined();
    expect(machine.size).toBe(1);
    expect(machine.appliedIndex).toBe(7);
  });

  it('advances the applied index on internal entries and refuses gaps and replays', () => {
    const machine = createKeyValueStateMachine();
    const seen: number[] = [];
    machine.applied.subscribe((index) => seen.push(index));
    expect(machine.apply({ type: 'internal', index: 1 })).toBeUndefined();
    expect(() => machine.apply({ type: 'internal', index: 3 })).toThrow(/does not follow/);
    expect(() => machine.apply(entry(1, { type: 'get', key: 'x' }))).toThrow(/does not follow/);
    expect(machine.appliedIndex).toBe(1);
    expect(seen).toEqual([1]);
  });

  it('publishes an applied index only once its entry is in the map (what awaitRead relies on)', () => {
    const machine = createKeyValueStateMachine();
    const seenValues: Array<string | undefined> = [];
    machine.applied.subscribe(() => seenValues.push(machine.get('x')));
    machine.apply(entry(1, { type: 'put', key: 'x', value: 'a' }));
    expect(seenValues).toEqual(['a']);
  });

  it('applies a retried proposal once and hands the retry the original result', () => {
    const machine = createKeyValueStateMachine();
    const append = { type: 'append', key: 'x', value: '!' } as const;
    expect(machine.apply(entry(1, append, request('alice', 1)))).toEqual({ type: 'written' });
    expect(machine.apply(entry(2, append, request('alice', 1)))).toEqual({ type: 'written' });
    expect(machine.get('x')).toBe('!');
    const cas = { type: 'compareAndSet', key: 'x', expected: '!', value: '?' } as const;
    expect(machine.apply(entry(3, cas, request('alice', 2)))).toEqual({ type: 'compared', succeeded: true });
    expect(machine.apply(entry(4, cas, request('alice', 2)))).toEqual({ type: 'compared', succeeded: true });
    expect(machine.apply(entry(5, append, request('alice', 1)))).toBeUndefined();
    expect(machine.get('x')).toBe('?');
    expect(machine.resultFor(request('alice', 2))).toEqual({ type: 'compared', succeeded: true });
  });

  it('gives a straggler of a superseded auto id no result, swept or not', () => {
    const machine = createKeyValueStateMachine();
    const put = { type: 'put', key: 'x', value: 'a' } as const;
    machine.apply(entry(1, put, request('n-0000000000000001', 3)));
    machine.apply(entry(2, put, request('n-0000000000000002', 1)));
    expect(machine.apply(entry(3, put, request('n-0000000000000001', 3)))).toBeUndefined();
  });

  it('turns a malformed or oversized command into an invalid no-op instead of wedging', () => {
    const machine = createKeyValueStateMachine();
    const result = machine.apply(entry(1, new Uint8Array([1, 77, 0]), request('alice', 1)));
    expect(result).toEqual({ type: 'invalid', reason: 'KvCommand bytes: unknown opcode 77' });
    machine.apply(entry(2, { type: 'put', key: 'x', value: 'v'.repeat(maxValueBytes) }));
    expect(machine.apply(entry(3, { type: 'append', key: 'x', value: 'v' }))).toMatchObject({ type: 'invalid' });
    expect(machine.get('x')?.length).toBe(maxValueBytes);
    expect(machine.appliedIndex).toBe(3);
  });
});

describe('snapshots', () => {
  function feed(machine: KeyValueStateMachine, items: readonly Committed[]): void {
    for (const item of items) machine.apply(item);
  }

  it('installs the map, the session table and the last results together', () => {
    const source = createKeyValueStateMachine();
    feed(source, [
      entry(1, { type: 'put', key: 'x', value: 'a' }, request('alice', 1)),
      entry(2, { type: 'append', key: 'x', value: 'b' }, request('bob', 5)),
      { type: 'internal', index: 3 },
    ]);
    const snapshot = source.snapshot();
    expect(snapshot.throughIndex).toBe(3);
    const target = createKeyValueStateMachine();
    target.apply({ type: 'install', snapshot });
    expect(target.appliedIndex).toBe(3);
    expect(target.get('x')).toBe('ab');
    expect(target.apply(entry(4, { type: 'append', key: 'x', value: 'b' }, request('bob', 5)))).toEqual({ type: 'written' });
    expect(target.get('x')).toBe('ab');
    expect(target.snapshot().state).toEqual(createFrom(snapshot, 4).snapshot().state);
  });

  function createFrom(snapshot: { throughIndex: number; state: Uint8Array }, appliedIndex: number): KeyValueStateMachine {
    const machine = createKeyValueStateMachine();
    machine.apply({ type: 'install', snapshot });
    for (let index = snapshot.throughIndex + 1; index <= appliedIndex; index += 1) machine.apply({ type: 'internal', index });
    return machine;
  }

  it('refuses a malformed snapshot with a RangeError and keeps its state', () => {
    const machine = createKeyValueStateMachine();
    machine.apply(entry(1, { type: 'put', key: 'x', value: 'a' }));
    const state = machine.snapshot().state;
    for (const bad of [new Uint8Array(), new Uint8Array([9]), state.slice(0, -1), new Uint8Array([...state, 0])]) {
      expect(() => machine.apply({ type: 'install', snapshot: { throughIndex: 5, state: bad } })).toThrow(RangeError);
    }
    expect(machine.get('x')).toBe('a');
    expect(machine.appliedIndex).toBe(1);
  });

  it('drops the last results of superseded auto client ids', () => {
    const machine = createKeyValueStateMachine();
    for (let restart = 0; restart < 500; restart += 1) {
      const id = `node-a-${restart.toString(16).padStart(16, '0')}`;
      machine.apply(entry(restart + 1, { type: 'append', key: 'log', value: '.' }, request(id, 1)));
    }
    const state = decodeKvState(machine.snapshot().state);
    expect([...state.lastResults.keys()]).toEqual(['node-a-00000000000001f3']);
    expect(state.sessions.size).toBe(1);
  });

  const streamArbitrary = fc.array(
    fc.tuple(commandArbitrary, fc.option(fc.tuple(fc.constantFrom('alice', 'bob', 'n-0000000000000001', 'n-0000000000000002'), fc.nat(6)), { nil: undefined })),
    { maxLength: 30 },
  );

  it('gives the same state whether or not it went through a snapshot at any point', () => {
    fc.assert(fc.property(streamArbitrary, fc.nat(30), (stream, cut) => {
      const straight = createKeyValueStateMachine();
      let restarted = createKeyValueStateMachine();
      stream.forEach(([command, dedup], position) => {
        if (position === cut) {
          const snapshot = restarted.snapshot();
          restarted = createKeyValueStateMachine();
          restarted.apply({ type: 'install', snapshot });
        }
        const item = entry(position + 1, command, dedup === undefined ? undefined : request(dedup[0], dedup[1]));
        expect(restarted.apply(item)).toEqual(straight.apply(item));
      });
      expect(restarted.snapshot()).toEqual(straight.snapshot());
    }));
  });
});
