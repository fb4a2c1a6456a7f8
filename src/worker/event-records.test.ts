// The worker's events cross to the page as records in one transferred buffer per batch, with the
// rare kinds as objects in between (event-records.ts): the page must see every event, in order,
// as the same objects the worker sent, and no kept command may pin more than a bounded batch.
import { describe, expect, it } from 'vitest';
import type { ClientId, LogEntry } from '../core/types.ts';
import { decodeEventBatch, encodeEventBatches, maxRecordBytes, type EncodedEventBatch } from './event-records.ts';
import { ownBufferBytes } from './packed-bytes.ts';
import type { WorkerEvent, WorkerEventBatch } from './protocol.ts';

const clientId = 'tab-7f3a' as ClientId;
/** `length` bytes of `fill` inside a larger buffer, as the codec decodes a command out of a frame. */
const viewCommand = (fill: number, length = 100): Uint8Array => new Uint8Array(length + 2000).subarray(1000, 1000 + length).fill(fill);
const entry = (index: number, command: Uint8Array, extra: Partial<LogEntry> = {}): LogEntry => ({ index, term: 3, command, isNoOp: false, dedupKey: { clientId, requestId: index * 10 }, ...extra });
const committed = (streamId: number, value: LogEntry): WorkerEvent => ({ type: 'committed', streamId, item: { type: 'entry', entry: value } });

/** Posts the batches as the outbox does (structured clone, transferring), decodes them as the page does. */
function acrossTheBoundary(batches: readonly EncodedEventBatch[]): WorkerEvent[] {
  const received: WorkerEvent[] = [];
  batches.forEach((encoded, position) => {
    const batch: WorkerEventBatch = structuredClone({ type: 'events', sequence: position + 1, records: encoded.records, objects: encoded.objects }, { transfer: encoded.transfer });
    decodeEventBatch(batch, (event) => received.push(event));
  });
  return received;
}

describe('event records', () => {
  it('every kind of event arrives equal to what was sent, in the order it was sent', () => {
    const events: WorkerEvent[] = [
      committed(1, entry(5, viewCommand(1))),
      { type: 'answer', callId: 12, answer: { type: 'ok', value: entry(6, viewCommand(2, 30)) } },
      { type: 'state', state: { version: 3, role: 'leader', leader: null, term: 3, membership: { voters: [] }, commitIndex: 6, appliedIndex: 6, compactionFloor: 0, clientId: null, stopped: null, replicationProgress: [], silentPeers: [] } },
      committed(1, { index: 7, term: 3, command: new Uint8Array(0), isNoOp: true }),
      { type: 'committed', streamId: 2, item: { type: 'internal', index: 8 } },
      { type: 'answer', callId: 13, answer: { type: 'error', error: { type: 'leadershipLost', message: 'lost' } } },
      committed(1, entry(9, viewCommand(3, 10), { config: { voters: ['a' as never], learners: [] } as never })),
      committed(1, entry(10, viewCommand(4, ownBufferBytes))),
      { type: 'committed', streamId: 2, item: { type: 'install', snapshot: { throughIndex: 11, state: viewCommand(5, 50) } } },
      { type: 'metric', metric: { type: 'electionStarted', term: 4 } as never },
      committed(2, entry(2 ** 40, viewCommand(6, 1), { term: 2 ** 33, dedupKey: { clientId, requestId: Number.MAX_SAFE_INTEGER } })),
      { type: 'streamEnded', streamId: 2, error: null },
    ];
    const batches = encodeEventBatches(events);
    expect(batches).toHaveLength(1);
    // Membership entries, errors, state, metrics, snapshots and large commands travel as objects.
    expect(batches[0]!.objects.map((event) => event.type)).toEqual(['state', 'answer', 'committed', 'committed', 'committed', 'metric', 'streamEnded']);
    expect(acrossTheBoundary(batches)).toEqual(events);
  });

  it('a committed command is a view into its batch, whose records buffer holds exactly its records', () => {
    const events = Array.from({ length: 32 }, (_, position) => committed(1, entry(position + 1, viewCommand(position))));
    const [batch] = encodeEventBatches(events);
    const recordsBytes = batch!.records.byteLength;
    expect(recordsBytes).toBeGreaterThan(32 * 100);
    expect(recordsBytes).toBeLessThan(32 * 120);
    const received = acrossTheBoundary([batch!]);
    expect(batch!.records.byteLength).toBe(0); // transferred, not copied
    const commands = received.map((event) => (event.type === 'committed' && event.item.type === 'entry' ? event.item.entry.command : null));
    expect(new Set(commands.map((command) => command?.buffer)).size).toBe(1);
    expect(commands[0]!.buffer.byteLength).toBe(recordsBytes);
    commands.forEach((command, position) => expect(command!.length === 100 && command!.every((byte) => byte === position)).toBe(true));
  });

  it('cuts a batch once its records reach maxRecordBytes, so a kept command pins a bounded buffer', () => {
    const largest = ownBufferBytes - 1;
    const events = Array.from({ length: 20 }, (_, position) => committed(1, entry(position + 1, viewCommand(position, largest))));
    const batches = encodeEventBatches(events);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.records.byteLength).toBeLessThan(maxRecordBytes + ownBufferBytes);
    const received = acrossTheBoundary(batches);
    expect(received.map((event) => (event.type === 'committed' && event.item.type === 'entry' ? event.item.entry.index : 0))).toEqual(events.map((_, position) => position + 1));
  });

  it('gives each object its byte fields in buffers of their own, listed for the transfer', () => {
    const large = viewCommand(9, ownBufferBytes);
    const [batch] = encodeEventBatches([committed(1, entry(1, large)), committed(1, entry(2, viewCommand(1)))]);
    expect(batch!.transfer).toHaveLength(2);
    expect(batch!.transfer[0]).toBe(batch!.records);
    expect(batch!.transfer[1]!.byteLength).toBe(ownBufferBytes);
  });

  it('refuses a malformed batch loudly, after handling what came before the fault', () => {
    const [batch] = encodeEventBatches([committed(1, entry(1, viewCommand(1))), committed(1, entry(2, viewCommand(2)))]);
    const bytes = new Uint8Array(batch!.records);
    const handled: WorkerEvent[] = [];
    const truncated: WorkerEventBatch = { type: 'events', sequence: 4, records: bytes.slice(0, bytes.length - 5).buffer, objects: [] };
    expect(() => decodeEventBatch(truncated, (event) => handled.push(event))).toThrow(/malformed events batch 4: truncated/);
    expect(handled).toHaveLength(1);
    const unknownTag: WorkerEventBatch = { type: 'events', sequence: 5, records: new Uint8Array([9]).buffer, objects: [] };
    expect(() => decodeEventBatch(unknownTag, () => undefined)).toThrow(/unknownType/);
    const missingObject: WorkerEventBatch = { type: 'events', sequence: 6, records: new Uint8Array([0]).buffer, objects: [] };
    expect(() => decodeEventBatch(missingObject, () => undefined)).toThrow(/names object 0 of 0/);
    const extraObject: WorkerEventBatch = { type: 'events', sequence: 7, records: new ArrayBuffer(0), objects: [{ type: 'streamEnded', streamId: 1, error: null }] };
    expect(() => decodeEventBatch(extraObject, () => undefined)).toThrow(/1 object events no record names/);
  });
});
