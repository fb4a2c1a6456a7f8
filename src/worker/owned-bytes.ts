// What crosses the worker boundary by structured clone must own its bytes. A Uint8Array is cloned
// together with its WHOLE ArrayBuffer (once per message, however many views share it), and the
// engine's entries are views: the codec decodes commands in place, into frames that are in turn
// views into the transport's batch buffers (16 KiB, doubling up to 4 MiB under load). So a batch
// of 200 committed 100-byte commands could cost the worker a clone of megabytes, and the page the
// same again to read it: bench:browser's Chromium trace showed single events posts of 88 ms to
// serialize and 65 ms to deserialize, stalling the page's transport. Copying each view into a
// buffer of its own first costs one small memcpy per entry.
import type { Committed, LogEntry } from '../core/types.ts';
import type { WorkerEvent } from './protocol.ts';

/** The bytes themselves when they span their buffer; otherwise a copy that does. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function ownedEntry(entry: LogEntry): LogEntry {
  const command = ownedBytes(entry.command);
  return command === entry.command ? entry : { ...entry, command };
}

function ownedCommitted(item: Committed): Committed {
  switch (item.type) {
    case 'entry': {
      const entry = ownedEntry(item.entry);
      return entry === item.entry ? item : { type: 'entry', entry };
    }
    case 'install': {
      const state = ownedBytes(item.snapshot.state);
      return state === item.snapshot.state ? item : { type: 'install', snapshot: { ...item.snapshot, state } };
    }
    case 'internal':
      return item;
    default:
      return item satisfies never;
  }
}

/** The event with every byte field it carries in a buffer of its own (the rest is left as is). */
export function withOwnedBytes(event: WorkerEvent): WorkerEvent {
  switch (event.type) {
    case 'committed': {
      const item = ownedCommitted(event.item);
      return item === event.item ? event : { ...event, item };
    }
    case 'answer': {
      if (event.answer.type !== 'ok') return event;
      const entry = ownedEntry(event.answer.value);
      return entry === event.answer.value ? event : { ...event, answer: { type: 'ok', value: entry } };
    }
    case 'state':
    case 'metric':
    case 'trace':
    case 'streamEnded':
      return event;
    default:
      return event satisfies never;
  }
}
