// What crosses the worker boundary must not drag whole buffers along. A structured clone copies a
// typed array's WHOLE ArrayBuffer (once per message, however many views share it), and the
// engine's entries are views: the codec decodes commands in place, into frames. During
// bench:browser's saturation, 2.5 MB of committed commands referenced 370-950 MB of backing
// buffers, and a Chromium trace (npm run bench:browser-trace) showed single events posts taking
// 73-88 ms to serialize. So each events batch packs the bytes its object events carry (an
// installed snapshot's state, large commands, membership entries; the hot kinds are copied into
// the batch's records instead, event-records.ts) into ONE fresh buffer, transferred rather than
// cloned, and every byte field becomes a view into it: one memcpy per field, one ArrayBuffer per
// batch. (One buffer per field
// would do for the clone, but it means thousands of small ArrayBuffers a second for the page's
// garbage collector to sweep: a trace of that version showed a 20 ms young-generation
// ArrayBuffer sweep.) Packs are bounded, and large fields travel alone (packEventBytes).
import { copyBytes } from '../core/bytes.ts';
import type { Committed, LogEntry } from '../core/types.ts';
import type { WorkerEvent } from './protocol.ts';

/** The event's byte fields, in the order mapBytes visits them. */
function byteFields(event: WorkerEvent): Uint8Array[] {
  switch (event.type) {
    case 'committed':
      return event.item.type === 'entry' ? [event.item.entry.command] : event.item.type === 'install' ? [event.item.snapshot.state] : [];
    case 'answer':
      return event.answer.type === 'ok' ? [event.answer.value.command] : [];
    case 'state':
    case 'metric':
    case 'trace':
    case 'streamEnded':
      return [];
    default:
      return event satisfies never;
  }
}

/** The event with each byte field replaced by what `replace` returns (called in byteFields' order). */
function mapBytes(event: WorkerEvent, replace: (bytes: Uint8Array) => Uint8Array): WorkerEvent {
  const entry = (value: LogEntry): LogEntry => ({ ...value, command: replace(value.command) });
  const item = (value: Committed): Committed => {
    switch (value.type) {
      case 'entry':
        return { type: 'entry', entry: entry(value.entry) };
      case 'install':
        return { type: 'install', snapshot: { ...value.snapshot, state: replace(value.snapshot.state) } };
      case 'internal':
        return value;
      default:
        return value satisfies never;
    }
  };
  if (event.type === 'committed') return { ...event, item: item(event.item) };
  if (event.type === 'answer' && event.answer.type === 'ok') return { ...event, answer: { type: 'ok', value: entry(event.answer.value) } };
  return event;
}

/**
 * Fields of at least this many bytes get a buffer of their own (a snapshot's state, a large
 * command): a small command the page keeps must not pin them, nor they a pack.
 */
export const ownBufferBytes = 64 * 1024;
/** A pack is closed at this size and the next begins: what one kept view can pin, at most. */
export const maxPackBytes = 256 * 1024;

/**
 * The events with every byte field copied into fresh buffers, all returned for the transfer list
 * (nothing is cloned): small fields packed together, up to maxPackBytes per buffer, large ones
 * alone. A field that appears twice (a proposal's command in its answer and its committed item,
 * one item in two streams) is copied once.
 */
export function packEventBytes(events: readonly WorkerEvent[]): { events: WorkerEvent[]; buffers: ArrayBuffer[] } {
  // First where each small field goes (packs filled in order, each sized to what it holds), then
  // the copies: so no pack carries slack, and a field seen twice has one place.
  const places = new Map<Uint8Array, { readonly pack: number; readonly offset: number }>();
  const packSizes: number[] = [];
  const fieldsOf = events.map(byteFields);
  for (const fields of fieldsOf) {
    for (const bytes of fields) {
      if (bytes.byteLength >= ownBufferBytes || places.has(bytes)) continue;
      const last = packSizes.length - 1;
      if (last < 0 || (packSizes[last] ?? 0) + bytes.byteLength > maxPackBytes) packSizes.push(0);
      const pack = packSizes.length - 1;
      places.set(bytes, { pack, offset: packSizes[pack] ?? 0 });
      packSizes[pack] = (packSizes[pack] ?? 0) + bytes.byteLength;
    }
  }
  const packs = packSizes.map((size) => new Uint8Array(size));
  const buffers: ArrayBuffer[] = packs.map((pack) => pack.buffer);
  const copies = new Map<Uint8Array, Uint8Array>();
  const place = (bytes: Uint8Array): Uint8Array => {
    const known = copies.get(bytes);
    if (known !== undefined) return known;
    const where = places.get(bytes);
    let copy: Uint8Array;
    if (where === undefined) {
      const alone = copyBytes(bytes);
      buffers.push(alone.buffer);
      copy = alone;
    } else {
      const pack = packs[where.pack] as Uint8Array;
      pack.set(bytes, where.offset);
      copy = pack.subarray(where.offset, where.offset + bytes.byteLength);
    }
    copies.set(bytes, copy);
    return copy;
  };
  const packed = events.map((event, position) => (fieldsOf[position]?.length === 0 ? event : mapBytes(event, place)));
  return { events: packed, buffers };
}
