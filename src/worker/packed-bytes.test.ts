// What crosses the worker boundary does not drag whole buffers along: an events batch carries its
// byte fields packed into one transferable buffer (packed-bytes.ts).
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../core/types.ts';
import { ownedBytes, packEventBytes } from './packed-bytes.ts';
import type { WorkerEvent } from './protocol.ts';

/** A 100-byte command inside a 64 KiB buffer, as the codec decodes one out of a frame. */
function viewCommand(fill: number): Uint8Array {
  return new Uint8Array(64 * 1024).subarray(1000, 1100).fill(fill);
}

const entry = (command: Uint8Array): LogEntry => ({ index: 7, term: 2, command, isNoOp: false, dedupKey: { clientId: 'c' as never, requestId: 3 } });

describe('ownedBytes', () => {
  it('copies a view into a larger buffer, and passes bytes that own their buffer through untouched', () => {
    const view = viewCommand(5);
    const copy = ownedBytes(view);
    expect([copy.byteOffset, copy.byteLength, copy.buffer.byteLength]).toEqual([0, 100, 100]);
    expect([...copy]).toEqual([...view]);
    const whole = new Uint8Array([1, 2, 3]);
    expect(ownedBytes(whole)).toBe(whole);
  });
});

describe('packEventBytes', () => {
  it('packs every command and snapshot state of a batch into one buffer holding exactly those bytes', () => {
    const events: WorkerEvent[] = [
      { type: 'committed', streamId: 4, item: { type: 'entry', entry: entry(viewCommand(1)) } },
      { type: 'answer', callId: 12, answer: { type: 'ok', value: entry(viewCommand(2)) } },
      { type: 'committed', streamId: 4, item: { type: 'install', snapshot: { throughIndex: 9, state: new Uint8Array(4096).subarray(10, 20).fill(3) } } },
      { type: 'committed', streamId: 4, item: { type: 'entry', entry: entry(new Uint8Array(0)) } },
    ];
    const { events: packed, buffer } = packEventBytes(events);
    expect(buffer?.byteLength).toBe(100 + 100 + 10);
    const [first, second, third, fourth] = packed;
    if (first?.type !== 'committed' || first.item.type !== 'entry') throw new Error('shape changed');
    if (second?.type !== 'answer' || second.answer.type !== 'ok') throw new Error('shape changed');
    if (third?.type !== 'committed' || third.item.type !== 'install') throw new Error('shape changed');
    if (fourth?.type !== 'committed' || fourth.item.type !== 'entry') throw new Error('shape changed');
    for (const bytes of [first.item.entry.command, second.answer.value.command, third.item.snapshot.state, fourth.item.entry.command]) expect(bytes.buffer).toBe(buffer);
    expect([first.item.entry.command[0], second.answer.value.command[99], third.item.snapshot.state[9], fourth.item.entry.command.length]).toEqual([1, 2, 3, 0]);
    // Every other field is kept as it was.
    expect({ ...first.item.entry, command: null }).toEqual({ ...entry(new Uint8Array(0)), command: null });
    expect([first.streamId, second.callId, third.item.snapshot.throughIndex]).toEqual([4, 12, 9]);
  });

  it('leaves events without bytes as they are and asks for no transfer', () => {
    const events: WorkerEvent[] = [
      { type: 'committed', streamId: 1, item: { type: 'internal', index: 3 } },
      { type: 'answer', callId: 1, answer: { type: 'error', error: { type: 'closed', message: 'closed' } } },
      { type: 'streamEnded', streamId: 1, error: null },
    ];
    const { events: packed, buffer } = packEventBytes(events);
    expect(buffer).toBeNull();
    packed.forEach((event, position) => expect(event).toBe(events[position]));
  });

  it('makes the clone of 32 committed views small: posted with the buffer transferred, nothing else is copied', () => {
    const events: WorkerEvent[] = Array.from({ length: 32 }, (_, position) => ({ type: 'committed', streamId: 1, item: { type: 'entry', entry: entry(viewCommand(position)) } }));
    const { events: packed, buffer } = packEventBytes(events);
    expect(buffer?.byteLength).toBe(32 * 100); // against 32 × 64 KiB cloned before
    const received = structuredClone(packed, { transfer: [buffer!] });
    expect(buffer?.byteLength).toBe(0); // transferred, not copied
    const commands = received.map((event) => (event.type === 'committed' && event.item.type === 'entry' ? event.item.entry.command : null));
    expect(commands.map((command) => command?.[0])).toEqual(Array.from({ length: 32 }, (_, position) => position));
    expect(new Set(commands.map((command) => command?.buffer)).size).toBe(1);
  });
});
