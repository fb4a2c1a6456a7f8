// What crosses the worker boundary owns its bytes: a view into a larger buffer would be cloned
// with all of that buffer (owned-bytes.ts).
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../core/types.ts';
import { ownedBytes, withOwnedBytes } from './owned-bytes.ts';
import type { WorkerEvent } from './protocol.ts';

const owns = (bytes: Uint8Array): boolean => bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;

/** A 100-byte command inside a 64 KiB buffer, as the codec decodes one out of a batch of frames. */
function viewCommand(fill: number): Uint8Array {
  const frame = new Uint8Array(64 * 1024);
  const command = frame.subarray(1000, 1100);
  command.fill(fill);
  return command;
}

const entry = (command: Uint8Array): LogEntry => ({ index: 7, term: 2, command, isNoOp: false, dedupKey: { clientId: 'c' as never, requestId: 3 } });

describe('ownedBytes', () => {
  it('copies a view into a larger buffer, and passes bytes that own their buffer through untouched', () => {
    const view = viewCommand(5);
    const copy = ownedBytes(view);
    expect(owns(copy)).toBe(true);
    expect([...copy]).toEqual([...view]);
    const whole = new Uint8Array([1, 2, 3]);
    expect(ownedBytes(whole)).toBe(whole);
    expect(owns(ownedBytes(new Uint8Array(0)))).toBe(true);
  });
});

describe('withOwnedBytes', () => {
  it('gives a committed entry its own command, keeping every other field', () => {
    const event: WorkerEvent = { type: 'committed', streamId: 4, item: { type: 'entry', entry: entry(viewCommand(6)) } };
    const owned = withOwnedBytes(event);
    if (owned.type !== 'committed' || owned.item.type !== 'entry') throw new Error('shape changed');
    expect(owns(owned.item.entry.command)).toBe(true);
    expect(owned.item.entry.command.length).toBe(100);
    expect({ ...owned.item.entry, command: null }).toEqual({ ...entry(viewCommand(6)), command: null });
    expect(owned.streamId).toBe(4);
  });

  it('gives an installed snapshot its own state, and an answered proposal its own command', () => {
    const state = new Uint8Array(4096).subarray(10, 20);
    const install = withOwnedBytes({ type: 'committed', streamId: 1, item: { type: 'install', snapshot: { throughIndex: 9, state } } });
    if (install.type !== 'committed' || install.item.type !== 'install') throw new Error('shape changed');
    expect(owns(install.item.snapshot.state)).toBe(true);
    expect(install.item.snapshot.throughIndex).toBe(9);
    const answer = withOwnedBytes({ type: 'answer', callId: 12, answer: { type: 'ok', value: entry(viewCommand(8)) } });
    if (answer.type !== 'answer' || answer.answer.type !== 'ok') throw new Error('shape changed');
    expect(owns(answer.answer.value.command)).toBe(true);
    expect(answer.answer.value.command[0]).toBe(8);
  });

  it('returns events with nothing to copy as they are (no allocation on the hot path)', () => {
    const whole: WorkerEvent = { type: 'committed', streamId: 1, item: { type: 'entry', entry: entry(new Uint8Array(100)) } };
    const internal: WorkerEvent = { type: 'committed', streamId: 1, item: { type: 'internal', index: 3 } };
    const failed: WorkerEvent = { type: 'answer', callId: 1, answer: { type: 'error', error: { type: 'closed', message: 'closed' } } };
    const ended: WorkerEvent = { type: 'streamEnded', streamId: 1, error: null };
    for (const event of [whole, internal, failed, ended]) expect(withOwnedBytes(event)).toBe(event);
  });

  it('makes the structured clone of a batch of committed views small: only the commands are copied', () => {
    const events = Array.from({ length: 32 }, (_, position) => withOwnedBytes({ type: 'committed', streamId: 1, item: { type: 'entry', entry: entry(viewCommand(position)) } }));
    const backing = events.reduce((total, event) => total + (event.type === 'committed' && event.item.type === 'entry' ? event.item.entry.command.buffer.byteLength : 0), 0);
    expect(backing).toBe(32 * 100); // against 32 × 64 KiB before
    const cloned = structuredClone(events);
    expect(cloned).toHaveLength(32);
  });
});
