// What crosses the worker boundary does not drag whole buffers along: an events batch carries its
// byte fields copied into fresh, bounded, transferable buffers (packed-bytes.ts).
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../core/types.ts';
import { maxPackBytes, ownBufferBytes, packEventBytes } from './packed-bytes.ts';
import type { WorkerEvent } from './protocol.ts';

/** `length` bytes of `fill` inside a 64 KiB buffer, as the codec decodes a command out of a frame. */
function viewCommand(fill: number, length = 100): Uint8Array {
  return new Uint8Array(Math.max(64 * 1024, length + 2000)).subarray(1000, 1000 + length).fill(fill);
}

const entry = (command: Uint8Array): LogEntry => ({ index: 7, term: 2, command, isNoOp: false, dedupKey: { clientId: 'c' as never, requestId: 3 } });
const committed = (command: Uint8Array): WorkerEvent => ({ type: 'committed', streamId: 4, item: { type: 'entry', entry: entry(command) } });
const commandOf = (event: WorkerEvent | undefined): Uint8Array => {
  if (event?.type === 'committed' && event.item.type === 'entry') return event.item.entry.command;
  if (event?.type === 'answer' && event.answer.type === 'ok') return event.answer.value.command;
  if (event?.type === 'committed' && event.item.type === 'install') return event.item.snapshot.state;
  throw new Error('no bytes in this event');
};
const uniform = (bytes: Uint8Array, value: number, length: number): boolean => bytes.length === length && bytes.every((byte) => byte === value);

describe('packEventBytes', () => {
  it('packs small fields back to back into one buffer holding exactly them, each view its own bytes', () => {
    const events: WorkerEvent[] = [
      committed(viewCommand(1)),
      { type: 'answer', callId: 12, answer: { type: 'ok', value: entry(viewCommand(2, 30)) } },
      { type: 'committed', streamId: 4, item: { type: 'install', snapshot: { throughIndex: 9, state: new Uint8Array(4096).subarray(10, 20).fill(3) } } },
      committed(new Uint8Array(0)),
    ];
    const { events: packed, buffers } = packEventBytes(events);
    expect(buffers.map((buffer) => buffer.byteLength)).toEqual([140]);
    const views = packed.map(commandOf);
    expect(views.map((view) => [view.byteOffset, view.byteLength, view.buffer === buffers[0]])).toEqual([
      [0, 100, true],
      [100, 30, true],
      [130, 10, true],
      [140, 0, true],
    ]);
    expect([uniform(views[0]!, 1, 100), uniform(views[1]!, 2, 30), uniform(views[2]!, 3, 10)]).toEqual([true, true, true]);
    // Every other field is kept as it was.
    expect({ ...entry(views[0]!), command: null }).toEqual({ ...entry(new Uint8Array(0)), command: null });
    expect(packed[1]?.type === 'answer' && packed[1].callId).toBe(12);
    expect(packed[2]?.type === 'committed' && packed[2].item.type === 'install' && packed[2].item.snapshot.throughIndex).toBe(9);
  });

  it('copies a field that appears twice once (a proposal in its answer and its committed item)', () => {
    const command = viewCommand(6);
    const { events: packed, buffers } = packEventBytes([{ type: 'answer', callId: 1, answer: { type: 'ok', value: entry(command) } }, committed(command), committed(command)]);
    expect(buffers.map((buffer) => buffer.byteLength)).toEqual([100]);
    const views = packed.map(commandOf);
    expect(views[1]).toBe(views[0]);
    expect(views[2]).toBe(views[0]);
  });

  it('gives large fields a buffer of their own, and closes a pack at maxPackBytes', () => {
    const large = viewCommand(7, ownBufferBytes);
    const small = Array.from({ length: 6 }, (_, position) => viewCommand(position + 10, 60_000));
    const { events: packed, buffers } = packEventBytes([committed(small[0]!), committed(large), ...small.slice(1).map(committed)]);
    const views = packed.map(commandOf);
    const largeView = views[1]!;
    expect([largeView.byteOffset, largeView.byteLength, largeView.buffer.byteLength, uniform(largeView, 7, ownBufferBytes)]).toEqual([0, ownBufferBytes, ownBufferBytes, true]);
    expect(buffers.every((buffer) => buffer.byteLength <= maxPackBytes)).toBe(true);
    expect(buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0)).toBe(ownBufferBytes + 6 * 60_000); // nothing but the fields
    expect(new Set(views.map((view) => view.buffer)).size).toBe(3); // 4 small in one pack, 2 in the next, the large alone
    small.forEach((_, position) => expect(uniform(views[position === 0 ? 0 : position + 1]!, position + 10, 60_000)).toBe(true));
    expect(new Set(buffers).size).toBe(buffers.length); // a transfer list must not name a buffer twice
  });

  it('leaves events without bytes as they are and transfers nothing', () => {
    const events: WorkerEvent[] = [
      { type: 'committed', streamId: 1, item: { type: 'internal', index: 3 } },
      { type: 'answer', callId: 1, answer: { type: 'error', error: { type: 'closed', message: 'closed' } } },
      { type: 'streamEnded', streamId: 1, error: null },
    ];
    const { events: packed, buffers } = packEventBytes(events);
    expect(buffers).toEqual([]);
    packed.forEach((event, position) => expect(event).toBe(events[position]));
  });

  it('posted with its buffers transferred, a batch of 32 views copies nothing more and arrives whole', () => {
    const events: WorkerEvent[] = Array.from({ length: 32 }, (_, position) => committed(viewCommand(position)));
    const { events: packed, buffers } = packEventBytes(events);
    expect(buffers.map((buffer) => buffer.byteLength)).toEqual([32 * 100]); // against 32 × 64 KiB cloned before
    const received = structuredClone(packed, { transfer: buffers });
    expect(buffers[0]?.byteLength).toBe(0); // transferred, not copied
    const commands = received.map(commandOf);
    commands.forEach((command, position) => expect(uniform(command, position, 100)).toBe(true));
    expect(new Set(commands.map((command) => command.buffer)).size).toBe(1);
  });
});
