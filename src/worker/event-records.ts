// The hot events of the worker -> page boundary in binary. Under load nearly every event is a
// committed entry (one per page stream per entry) or a proposal's answer, and as objects each
// cost a structured clone of about six objects, their property names spelled out every time:
// profiles of bench:browser's saturation put the leader worker's postMessage at 6 % and the
// page's handling of the events at 9 % of their threads. So those two kinds (and `internal`
// items) are written as records into one transferred buffer per batch, and the page builds the
// same objects from it; every other event (state, metrics, trace, errors, membership entries,
// snapshots, commands of ownBufferBytes or more) travels as an object, as before, with its byte
// fields packed (packed-bytes.ts), and a record marks where it stands, so the page sees every
// event in the order the worker sent it.
//
// Commands decoded on the page are views into the batch's records buffer; the page copies each
// before the application sees it (remote-node.ts, application-copies.ts), so a kept command pins
// no batch and transferring one detaches no other. The worker still cuts a batch once its records
// reach maxRecordBytes, and no record holds a field of ownBufferBytes or more.
import { ByteReader } from '../codec/byte-reader.ts';
import { ByteWriter } from '../codec/byte-writer.ts';
import { codecLimits } from '../codec/limits.ts';
import type { ClientId, Committed, LogEntry } from '../core/types.ts';
import { ownBufferBytes, packEventBytes } from './packed-bytes.ts';
import type { WorkerEvent, WorkerEventBatch } from './protocol.ts';

/** Records bytes at which a batch is cut and the next begins (what one kept command can pin). */
export const maxRecordBytes = 256 * 1024;

/** The first byte of each record. */
const recordTag = {
  /** The next event of `objects`. */
  object: 0,
  committedEntry: 1,
  committedInternal: 2,
  answer: 3,
} as const;

const noOpFlag = 1;
const dedupKeyFlag = 2;

/** One batch to post: its records (transferred), its object events and their byte buffers. */
export interface EncodedEventBatch {
  readonly records: ArrayBuffer;
  readonly objects: WorkerEvent[];
  /** The records buffer and the buffers of the objects' byte fields: the transfer list. */
  readonly transfer: ArrayBuffer[];
}

/** An entry a record can carry: no membership payload, a command below ownBufferBytes. */
function recordable(entry: LogEntry): boolean {
  return entry.config === undefined && entry.command.byteLength < ownBufferBytes;
}

function writeEntry(writer: ByteWriter, entry: LogEntry): void {
  writer.varint(entry.index);
  writer.varint(entry.term);
  writer.byte((entry.isNoOp ? noOpFlag : 0) | (entry.dedupKey === undefined ? 0 : dedupKeyFlag));
  if (entry.dedupKey !== undefined) {
    writer.text(entry.dedupKey.clientId);
    writer.varint(entry.dedupKey.requestId);
  }
  writer.bytes(entry.command);
}

/** Writes the event as a record; false when it must travel as an object. */
function writeRecord(writer: ByteWriter, event: WorkerEvent): boolean {
  if (event.type === 'committed') {
    const item = event.item;
    if (item.type === 'internal') {
      writer.byte(recordTag.committedInternal);
      writer.varint(event.streamId);
      writer.varint(item.index);
      return true;
    }
    if (item.type === 'entry' && recordable(item.entry)) {
      writer.byte(recordTag.committedEntry);
      writer.varint(event.streamId);
      writeEntry(writer, item.entry);
      return true;
    }
    return false;
  }
  if (event.type === 'answer' && event.answer.type === 'ok' && recordable(event.answer.value)) {
    writer.byte(recordTag.answer);
    writer.varint(event.callId);
    writeEntry(writer, event.answer.value);
    return true;
  }
  return false;
}

/** Bytes a writer starts with for `count` events: most records are an entry of a small command. */
const estimatedBytes = (count: number): number => Math.min(maxRecordBytes, 64 + count * 160);

/**
 * The events as batches to post, in order: records for the hot kinds, objects for the rest; a
 * new batch begins once the records reach maxRecordBytes. Each records buffer holds exactly its
 * bytes (copied out of the writer), so a kept view pins no slack.
 */
export function encodeEventBatches(events: readonly WorkerEvent[]): EncodedEventBatch[] {
  const batches: EncodedEventBatch[] = [];
  let writer = new ByteWriter(estimatedBytes(events.length));
  let objects: WorkerEvent[] = [];
  const cut = (): void => {
    const records = writer.finish().slice().buffer;
    const packed = packEventBytes(objects);
    batches.push({ records, objects: packed.events, transfer: [records, ...packed.buffers] });
    writer = new ByteWriter(estimatedBytes(events.length));
    objects = [];
  };
  for (const event of events) {
    if (!writeRecord(writer, event)) {
      writer.byte(recordTag.object);
      objects.push(event);
    }
    if (writer.byteLength >= maxRecordBytes) cut();
  }
  if (writer.byteLength > 0 || batches.length === 0) cut();
  return batches;
}

function readEntry(reader: ByteReader): LogEntry {
  const index = reader.varint('index');
  const term = reader.varint('term');
  const flags = reader.byte();
  if (flags > (noOpFlag | dedupKeyFlag)) reader.fail('invalidField', 'entry flags');
  const dedupKey = (flags & dedupKeyFlag) === 0 ? undefined : { clientId: reader.id('clientId') as ClientId, requestId: reader.varint('requestId') };
  const command = reader.bytesField('command', codecLimits.maxCommandBytes);
  const isNoOp = (flags & noOpFlag) !== 0;
  return dedupKey === undefined ? { index, term, command, isNoOp } : { index, term, command, isNoOp, dedupKey };
}

/**
 * Calls `handle` with each event of the batch, in the order the worker sent them. Throws when the
 * batch is malformed (a bug of this library, not input from a peer), after handling what came
 * before the fault.
 */
export function decodeEventBatch(batch: WorkerEventBatch, handle: (event: WorkerEvent) => void): void {
  const reader = new ByteReader(new Uint8Array(batch.records));
  let nextObject = 0;
  while (reader.remaining > 0) {
    const tag = reader.byte();
    let event: WorkerEvent;
    switch (tag) {
      case recordTag.object: {
        const object = batch.objects[nextObject++];
        if (object === undefined) throw new Error(`malformed events batch ${batch.sequence}: a record names object ${nextObject - 1} of ${batch.objects.length}`);
        event = object;
        break;
      }
      case recordTag.committedEntry: {
        const streamId = reader.varint('streamId');
        const item: Committed = { type: 'entry', entry: readEntry(reader) };
        event = { type: 'committed', streamId, item };
        break;
      }
      case recordTag.committedInternal: {
        const streamId = reader.varint('streamId');
        event = { type: 'committed', streamId, item: { type: 'internal', index: reader.varint('index') } };
        break;
      }
      case recordTag.answer: {
        const callId = reader.varint('callId');
        event = { type: 'answer', callId, answer: { type: 'ok', value: readEntry(reader) } };
        break;
      }
      default:
        reader.fail('unknownType', `record tag ${tag}`);
        continue;
    }
    if (reader.failure !== null) break;
    handle(event);
  }
  if (reader.failure !== null) throw new Error(`malformed events batch ${batch.sequence}: ${reader.failure} (${reader.detail})`);
  if (nextObject !== batch.objects.length) throw new Error(`malformed events batch ${batch.sequence}: ${batch.objects.length - nextObject} object events no record names`);
}
