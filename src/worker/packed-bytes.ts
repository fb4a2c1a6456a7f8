// What crosses the worker boundary must not drag whole buffers along. A structured clone copies a
// typed array's WHOLE ArrayBuffer (once per message, however many views share it), and the
// engine's entries are views: the codec decodes commands in place, into frames. During
// bench:browser's saturation, 2.5 MB of committed commands referenced 370-950 MB of backing
// buffers, and a Chromium trace (npm run bench:browser-trace) showed single events posts taking
// 73-88 ms to serialize. So each events batch packs the bytes it carries (commands, an installed
// snapshot's state) into ONE fresh buffer, transferred rather than cloned, and every byte field
// becomes a view into it: one memcpy per field, one ArrayBuffer per batch. (One buffer per field
// would do for the clone, but thousands of small ArrayBuffers a second cost the page's garbage
// collector: the same trace showed 20 ms young-generation ArrayBuffer sweeps.)
import type { Committed, LogEntry } from '../core/types.ts';
import type { WorkerEvent } from './protocol.ts';

/** The bytes themselves when they span their buffer; otherwise a copy that does (for single fields). */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

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
 * The events with every byte field copied into one new buffer (returned for the transfer list),
 * or the events as they are and null when they carry no bytes.
 */
export function packEventBytes(events: readonly WorkerEvent[]): { events: WorkerEvent[]; buffer: ArrayBuffer | null } {
  let total = 0;
  let fields = 0;
  for (const event of events) {
    for (const bytes of byteFields(event)) {
      total += bytes.byteLength;
      fields += 1;
    }
  }
  if (fields === 0) return { events: [...events], buffer: null };
  const buffer = new ArrayBuffer(total);
  const packed = new Uint8Array(buffer);
  let offset = 0;
  const packedEvents = events.map((event) =>
    byteFields(event).length === 0
      ? event
      : mapBytes(event, (bytes) => {
          packed.set(bytes, offset);
          const view = packed.subarray(offset, offset + bytes.byteLength);
          offset += bytes.byteLength;
          return view;
        }),
  );
  return { events: packedEvents, buffer };
}
