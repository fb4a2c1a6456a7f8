// The ClientSessionTable's binary format. It lives inside application snapshots, which outlive
// the code that wrote them and travel between peers, so it is versioned, canonical (equal
// tables give identical bytes: records sorted by client id, varints without padding) and read
// defensively: every malformed, truncated, oversized or newer-version input is a RangeError.
//
// Version 2 layout (version 1 is the same without the missing ids, and is still read):
//   u8      format version (2)
//   varint  record count (at most maxTrackedClients)
//   record* in strictly ascending client id order (JavaScript string order):
//     varint+utf8  client id
//     varint       high-water mark (the largest request id applied)
//     u8           retired suffix count (0 for durable ids, at most retiredSuffixesPerNode)
//     8 bytes each retired suffixes of the same node, oldest first (16 hex digits as bytes)
//     varint       count of missing request ids (at most dedupWindowSize - 1)
//     varint*      the missing ids, ascending: ids inside the window below the mark not yet seen

import { autoSuffixLength, parseAutoClientId } from './auto-client-id.ts';
import { ByteReader, ByteWriter } from './client-session-bytes.ts';
import { clientId, maxIdLength } from './types.ts';

export const sessionTableFormatVersion = 2;

/**
 * How far below its high-water mark a client's request may still arrive and be applied once. A
 * proposer keeps at most this many proposals unresolved (the driver does), so any reordering of
 * its forwards lands inside the window; anything older can only be a duplicate.
 */
export const dedupWindowSize = 1024;

/** Most client ids one table tracks (live sessions); fromBytes refuses more. */
export const maxTrackedClients = 1_000_000;

/**
 * How many dead incarnations of one node the table remembers to refuse their stragglers. A
 * straggler of an incarnation older than these, or of one it never saw, is taken for a newer one
 * and evicts the live id, whose later commands are then skipped; since 2026-12-07 leaders do not
 * append such a straggler (incarnation-proof.ts), and this memory only covers entries appended
 * by leaders of earlier versions. 4 until 2026-12-03 (night), when an outside audit showed the
 * loss after 5 restarts; 16 cost 128 bytes per node in the snapshot.
 */
export const retiredSuffixesPerNode = 16;

const suffixBytes = autoSuffixLength / 2;

export interface SessionRecord {
  highWaterMark: number;
  /** Suffixes of this node's superseded auto ids, oldest first; always empty for durable ids. */
  retiredSuffixes: readonly string[];
  /** Request ids inside the window below the mark that have not been applied yet, ascending. */
  missing: number[];
}

export function compareClientIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

export function encodeSessionRecords(records: ReadonlyMap<string, SessionRecord>): Uint8Array {
  const writer = new ByteWriter();
  writer.byte(sessionTableFormatVersion);
  writer.unsigned(records.size);
  const ids = [...records.keys()].sort(compareClientIds);
  for (const id of ids) {
    const record = records.get(id);
    if (record === undefined) continue;
    writer.text(id, `client id ${JSON.stringify(id)}`);
    writer.unsigned(record.highWaterMark);
    writer.byte(record.retiredSuffixes.length);
    for (const suffix of record.retiredSuffixes) writer.raw(hexToBytes(suffix));
    writer.unsigned(record.missing.length);
    for (const id of record.missing) writer.unsigned(id);
  }
  return writer.finish();
}

export function decodeSessionRecords(bytes: Uint8Array): Map<string, SessionRecord> {
  const reader = new ByteReader(bytes, 'ClientSessionTable bytes');
  const version = readVersion(reader, bytes);
  const count = reader.unsigned('record count', maxTrackedClients);
  const records = new Map<string, SessionRecord>();
  const nodesWithLiveAutoId = new Set<string>();
  let previousId: string | undefined;
  for (let index = 0; index < count; index += 1) {
    const id = readClientId(reader, index);
    if (previousId !== undefined && compareClientIds(previousId, id) >= 0) {
      reader.fail(`record ${index} (${JSON.stringify(id)}) is not in strictly ascending client id order`);
    }
    previousId = id;
    const highWaterMark = reader.unsigned(`high-water mark of ${JSON.stringify(id)}`);
    const retiredSuffixes = readRetiredSuffixes(reader, id, nodesWithLiveAutoId);
    const missing = version === 1 ? [] : readMissing(reader, id, highWaterMark);
    records.set(id, { highWaterMark, retiredSuffixes, missing });
  }
  reader.expectEnd();
  return records;
}

function readMissing(reader: ByteReader, id: string, highWaterMark: number): number[] {
  const count = reader.unsigned(`missing id count of ${JSON.stringify(id)}`, dedupWindowSize - 1);
  const missing: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const value = reader.unsigned(`missing id ${index} of ${JSON.stringify(id)}`);
    const previous = missing[missing.length - 1];
    if (value >= highWaterMark || value <= highWaterMark - dedupWindowSize || (previous !== undefined && value <= previous)) {
      reader.fail(`missing id ${value} of ${JSON.stringify(id)} is not ascending inside the window below ${highWaterMark}`);
    }
    missing.push(value);
  }
  return missing;
}

/**
 * A first byte above this is taken for bytes that are no session table at all rather than a
 * newer one: versions go up one at a time, and text handed in by mistake (JSON begins with `{`,
 * 123) was told to upgrade raftmesh (a newcomer's review, 2026-12-07).
 */
const newestPlausibleVersion = 15;

function readVersion(reader: ByteReader, bytes: Uint8Array): number {
  if (reader.remaining === 0) reader.fail('empty input (expected at least a version byte)');
  const version = reader.byte('format version');
  if (version > newestPlausibleVersion) {
    reader.fail(`these are not the bytes of a ClientSessionTable: the first byte, ${version}, is no format version${textHint(bytes)}`);
  }
  if (version > sessionTableFormatVersion) {
    reader.fail(
      `format version ${version} is newer than this build reads (up to ${sessionTableFormatVersion}); upgrade raftmesh`,
    );
  }
  if (version !== 1 && version !== 2) reader.fail(`unknown format version ${version}`);
  return version;
}

/** Says so when the bytes read as text (JSON, a string): what went wrong is then the caller's input. */
function textHint(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 24);
  for (const byte of head) if (byte < 0x20 || byte > 0x7e) return '';
  const text = String.fromCharCode(...head);
  return `; they read as text (${JSON.stringify(text)}${bytes.length > head.length ? '…' : ''}): pass the Uint8Array that toBytes() returned, not text or JSON`;
}

function readClientId(reader: ByteReader, index: number): string {
  // A UTF-8 character takes at most 3 bytes per UTF-16 code unit, so this bounds the read
  // before clientId() checks the length in characters.
  const id = reader.text(`client id of record ${index}`, maxIdLength * 3);
  try {
    return clientId(id);
  } catch (error) {
    return reader.fail(`record ${index}: ${(error as Error).message}`);
  }
}

function readRetiredSuffixes(reader: ByteReader, id: string, nodesWithLiveAutoId: Set<string>): string[] {
  const count = reader.byte(`retired suffix count of ${JSON.stringify(id)}`);
  const auto = parseAutoClientId(id);
  if (auto === null) {
    if (count !== 0) reader.fail(`durable client id ${JSON.stringify(id)} has ${count} retired suffixes (expected 0)`);
    return [];
  }
  if (nodesWithLiveAutoId.has(auto.nodeId)) {
    reader.fail(`node ${JSON.stringify(auto.nodeId)} has two live auto client ids (a newer one supersedes the older)`);
  }
  nodesWithLiveAutoId.add(auto.nodeId);
  if (count > retiredSuffixesPerNode) {
    reader.fail(`${JSON.stringify(id)} has ${count} retired suffixes, above the maximum ${retiredSuffixesPerNode}`);
  }
  const suffixes: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const suffix = bytesToHex(reader.raw(`retired suffix ${index} of ${JSON.stringify(id)}`, suffixBytes));
    if (suffix === auto.suffix || suffixes.includes(suffix)) {
      reader.fail(`${JSON.stringify(id)} lists retired suffix ${suffix} twice or as its live suffix`);
    }
    suffixes.push(suffix);
  }
  return suffixes;
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const value of bytes) hex += value.toString(16).padStart(2, '0');
  return hex;
}
