// Snapshot state of the example key-value state machine: the map, the ClientSessionTable and
// the last result per client, in one canonical byte string (sorted, so equal states give equal
// bytes and replicas can be compared byte for byte). The session table must be in the same
// snapshot as the map: installing one without the other would let a retried command apply
// twice (or be wrongly refused).
//
// Layout (version 1):
//   u8 version (1)
//   varint key count, then (key, value) in ascending key order, each varint length + UTF-8
//   varint length + ClientSessionTable.toBytes()
//   varint result count, then (client id, varint request id, result) in ascending client order
//   result: u8 tag: 1 read absent | 2 read present + value | 3 written | 4 compared false
//                   | 5 compared true | 6 invalid + reason

import { ByteReader, ByteWriter } from '../core/client-session-bytes.ts';
import { ClientSessionTable, maxTrackedClients } from '../core/client-session-table.ts';
import type { ClientId } from '../core/types.ts';
import { maxKeyBytes, maxValueBytes } from './kv-command.ts';
import type { KvResult } from './kv-command.ts';

export const kvSnapshotFormatVersion = 1;
/** Most keys the example store holds; a put of a new key beyond it is refused as invalid. */
export const maxKeys = 1_000_000;
/** Longest reason text stored for an invalid command. */
export const maxReasonBytes = 1024;

export interface KvLastResult {
  readonly requestId: number;
  readonly result: KvResult;
}

export interface KvState {
  readonly values: ReadonlyMap<string, string>;
  readonly sessions: ClientSessionTable;
  /** Only for clients the session table still tracks, at their high-water mark. */
  readonly lastResults: ReadonlyMap<string, KvLastResult>;
}

function ascending(map: ReadonlyMap<string, unknown>): string[] {
  return [...map.keys()].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
}

export function encodeKvState(state: KvState): Uint8Array {
  const writer = new ByteWriter();
  writer.byte(kvSnapshotFormatVersion);
  writer.unsigned(state.values.size);
  for (const key of ascending(state.values)) {
    writer.text(key, 'key');
    writer.text(state.values.get(key) ?? '', 'value');
  }
  writer.bytes(state.sessions.toBytes());
  writer.unsigned(state.lastResults.size);
  for (const id of ascending(state.lastResults)) {
    const last = state.lastResults.get(id);
    if (last === undefined) continue;
    writer.text(id, 'client id');
    writer.unsigned(last.requestId);
    writeResult(writer, last.result);
  }
  return writer.finish();
}

function writeResult(writer: ByteWriter, result: KvResult): void {
  switch (result.type) {
    case 'read':
      writer.byte(result.value === null ? 1 : 2);
      if (result.value !== null) writer.text(result.value, 'read value');
      return;
    case 'written':
      writer.byte(3);
      return;
    case 'compared':
      writer.byte(result.succeeded ? 5 : 4);
      return;
    case 'invalid':
      writer.byte(6);
      writer.text(result.reason, 'reason');
      return;
  }
}

/** Throws a RangeError naming the problem for malformed, truncated or newer-version bytes. */
export function decodeKvState(bytes: Uint8Array): KvState {
  const reader = new ByteReader(bytes, 'key-value snapshot');
  const version = reader.byte('format version');
  if (version !== kvSnapshotFormatVersion) {
    reader.fail(`format version ${version} is not supported (this build reads ${kvSnapshotFormatVersion})`);
  }
  const values = readValues(reader);
  const sessionBytes = reader.bytesField('session table', reader.remaining);
  let sessions: ClientSessionTable;
  try {
    sessions = ClientSessionTable.fromBytes(sessionBytes);
  } catch (error) {
    return reader.fail(`session table: ${(error as Error).message}`);
  }
  const lastResults = readLastResults(reader, sessions);
  reader.expectEnd();
  return { values, sessions, lastResults };
}

function readValues(reader: ByteReader): Map<string, string> {
  const count = reader.unsigned('key count', maxKeys);
  const values = new Map<string, string>();
  let previous: string | undefined;
  for (let index = 0; index < count; index += 1) {
    const key = reader.text(`key ${index}`, maxKeyBytes);
    if (previous !== undefined && !(previous < key)) reader.fail(`key ${index} is not in strictly ascending order`);
    previous = key;
    values.set(key, reader.text(`value of key ${index}`, maxValueBytes));
  }
  return values;
}

function readLastResults(reader: ByteReader, sessions: ClientSessionTable): Map<string, KvLastResult> {
  const count = reader.unsigned('result count', maxTrackedClients);
  const lastResults = new Map<string, KvLastResult>();
  let previous: string | undefined;
  for (let index = 0; index < count; index += 1) {
    const id = reader.text(`client id of result ${index}`, 1024);
    if (previous !== undefined && !(previous < id)) reader.fail(`result ${index} is not in strictly ascending client order`);
    previous = id;
    const requestId = reader.unsigned(`request id of result ${index}`);
    // A lookup, not a validation: an id the table does not hold has no mark and fails here.
    if (sessions.highWaterMark(id as ClientId) !== requestId) {
      reader.fail(`result ${index} (${JSON.stringify(id)} #${requestId}) does not match the session table`);
    }
    lastResults.set(id, { requestId, result: readResult(reader, index) });
  }
  return lastResults;
}

function readResult(reader: ByteReader, index: number): KvResult {
  const tag = reader.byte(`result ${index} tag`);
  switch (tag) {
    case 1:
      return { type: 'read', value: null };
    case 2:
      return { type: 'read', value: reader.text(`result ${index} value`, maxValueBytes) };
    case 3:
      return { type: 'written' };
    case 4:
    case 5:
      return { type: 'compared', succeeded: tag === 5 };
    case 6:
      return { type: 'invalid', reason: reader.text(`result ${index} reason`, maxReasonBytes) };
    default:
      return reader.fail(`result ${index} has unknown tag ${tag}`);
  }
}
