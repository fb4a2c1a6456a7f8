// Encodings of the values that travel inside messages and storage records: log entries,
// cluster configurations, snapshot meta. Mirrored write/read pairs.
import { validateClusterConfig, type ClientId, type ClusterConfig, type ConfigPayload, type DedupKey, type LogEntry, type NodeId, type SnapshotMeta } from '../core/types.ts';
import { ByteReader, type DecodeResult } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { codecLimits, codecVersion } from './limits.ts';

const entryNoOp = 1;
const entryHasConfig = 2;
const entryHasDedupKey = 4;
/** The dedup key's client id equals the previous entry's in this batch: not repeated. */
const entrySameClient = 8;
const knownEntryFlags = entryNoOp | entryHasConfig | entryHasDedupKey | entrySameClient;

export function writeClusterConfig(writer: ByteWriter, config: ClusterConfig): void {
  writer.varint(config.voters.length);
  for (const voter of config.voters) writer.text(voter);
  writer.byte(config.learners === undefined ? 0 : 1);
  if (config.learners !== undefined) {
    writer.varint(config.learners.length);
    for (const learner of config.learners) writer.text(learner);
  }
}

function readIds(reader: ByteReader, field: string): NodeId[] {
  const count = reader.count(field, codecLimits.maxConfigMembers, 2);
  const ids: NodeId[] = [];
  for (let position = 0; position < count && reader.failure === null; position += 1) ids.push(reader.id(field) as NodeId);
  return ids;
}

export function readClusterConfig(reader: ByteReader): ClusterConfig {
  const voters = readIds(reader, 'voters');
  const learners = reader.boolean('hasLearners') ? readIds(reader, 'learners') : undefined;
  const config: ClusterConfig = learners === undefined ? { voters } : { voters, learners };
  refuseInvalidConfig(reader, config);
  return config;
}

/**
 * API.md's rules for a ClusterConfig (validateClusterConfig: at least one voter, no id twice).
 * Quorums count list entries, so a voter named twice would hold two votes: a node adopting
 * [a, b, b] elected itself alone. No honest node sends or stores such a configuration. The
 * decoder never throws, so the rule's refusal becomes a decode failure.
 */
function refuseInvalidConfig(reader: ByteReader, config: ClusterConfig): void {
  if (reader.failure !== null) return;
  try {
    validateClusterConfig(config);
  } catch (error) {
    reader.fail('invalidField', error instanceof Error ? error.message : String(error));
  }
}

export function writeConfigPayload(writer: ByteWriter, payload: ConfigPayload): void {
  writer.byte(payload.old === null ? 0 : 1);
  if (payload.old !== null) writeClusterConfig(writer, payload.old);
  writeClusterConfig(writer, payload.new);
}

export function readConfigPayload(reader: ByteReader): ConfigPayload {
  const old = reader.boolean('hasOld') ? readClusterConfig(reader) : null;
  return { old, new: readClusterConfig(reader) };
}

function writeDedupKey(writer: ByteWriter, key: DedupKey): void {
  writer.text(key.clientId);
  writer.varint(key.requestId);
}

function readDedupKey(reader: ByteReader): DedupKey {
  const clientId = reader.id('clientId') as ClientId;
  return { clientId, requestId: reader.varint('requestId') };
}

export function writeOptionalDedupKey(writer: ByteWriter, key: DedupKey | null): void {
  writer.byte(key === null ? 0 : 1);
  if (key !== null) writeDedupKey(writer, key);
}

export function readOptionalDedupKey(reader: ByteReader): DedupKey | null {
  return reader.boolean('hasDedupKey') ? readDedupKey(reader) : null;
}

/** An entry without its index (AppendEntries derives indices from prevLogIndex). A batch of one
 * client's entries names its client id once: `previousClientId` is the id of the entry before. */
export function writeEntryBody(writer: ByteWriter, entry: LogEntry, previousClientId: string | null = null): void {
  const key = entry.dedupKey;
  const sameClient = key !== undefined && key.clientId === previousClientId;
  const flags = (entry.isNoOp ? entryNoOp : 0) | (entry.config === undefined ? 0 : entryHasConfig) | (key === undefined ? 0 : entryHasDedupKey) | (sameClient ? entrySameClient : 0);
  writer.varint(entry.term);
  writer.byte(flags);
  writer.bytes(entry.command);
  if (entry.config !== undefined) writeConfigPayload(writer, entry.config);
  if (key !== undefined) {
    if (!sameClient) writer.text(key.clientId);
    writer.varint(key.requestId);
  }
}

export function readEntryBody(reader: ByteReader, index: number, previousClientId: string | null = null): LogEntry {
  const term = reader.varint('entry.term');
  const flags = reader.byte();
  // Fast path for the common shape (a command of the same client as the entry before): this
  // runs once per replicated entry, so it avoids every branch and temporary it can.
  if (flags === (entryHasDedupKey | entrySameClient) && previousClientId !== null) {
    const command = reader.bytesField('entry.command', codecLimits.maxCommandBytes);
    const requestId = reader.varint('requestId');
    return { index, term, command, isNoOp: false, dedupKey: { clientId: previousClientId as ClientId, requestId } };
  }
  if ((flags & ~knownEntryFlags) !== 0) reader.fail('invalidField', 'unknown entry flags');
  if ((flags & entrySameClient) !== 0 && ((flags & entryHasDedupKey) === 0 || previousClientId === null)) reader.fail('invalidField', 'entry refers to a previous client id that does not exist');
  const command = reader.bytesField('entry.command', codecLimits.maxCommandBytes);
  const isNoOp = (flags & entryNoOp) !== 0;
  // Built in one literal per shape (no spreads).
  if ((flags & (entryHasConfig | entryHasDedupKey)) === 0) return { index, term, command, isNoOp };
  const config = (flags & entryHasConfig) !== 0 ? readConfigPayload(reader) : undefined;
  let dedupKey: DedupKey | undefined;
  if ((flags & entryHasDedupKey) !== 0) {
    const clientId = ((flags & entrySameClient) !== 0 ? previousClientId : reader.id('clientId')) as ClientId;
    dedupKey = { clientId, requestId: reader.varint('requestId') };
  }
  if (config === undefined) return { index, term, command, isNoOp, dedupKey: dedupKey as DedupKey };
  if (dedupKey === undefined) return { index, term, command, isNoOp, config };
  return { index, term, command, isNoOp, config, dedupKey };
}

/** Reads `count` entries from `firstIndex`, each able to refer to the previous entry's client id. */
export function readEntryBodies(reader: ByteReader, firstIndex: number, count: number): LogEntry[] {
  const entries: LogEntry[] = [];
  let previousClientId: string | null = null;
  for (let position = 0; position < count && reader.failure === null; position += 1) {
    const entry = readEntryBody(reader, firstIndex + position, previousClientId);
    previousClientId = entry.dedupKey?.clientId ?? null;
    entries.push(entry);
  }
  return entries;
}

/** Writes entries so that runs of one client name its id once. */
export function writeEntryBodies(writer: ByteWriter, entries: readonly LogEntry[], firstIndex: number): void {
  let previousClientId: string | null = null;
  entries.forEach((entry, position) => {
    if (entry.index !== firstIndex + position) throw new RangeError('entries must be contiguous from the batch start');
    writeEntryBody(writer, entry, previousClientId);
    previousClientId = entry.dedupKey?.clientId ?? null;
  });
}

export function writeSnapshotMeta(writer: ByteWriter, meta: SnapshotMeta): void {
  writer.varint(meta.lastIncludedIndex);
  writer.varint(meta.lastIncludedTerm);
  writer.byte(meta.config === undefined ? 0 : 1);
  if (meta.config !== undefined) writeConfigPayload(writer, meta.config);
}

export function readSnapshotMeta(reader: ByteReader): SnapshotMeta {
  const lastIncludedIndex = reader.varint('lastIncludedIndex');
  const lastIncludedTerm = reader.varint('lastIncludedTerm');
  if (!reader.boolean('hasConfig')) return { lastIncludedIndex, lastIncludedTerm };
  return { lastIncludedIndex, lastIncludedTerm, config: readConfigPayload(reader) };
}

/** A close estimate of a batch's size, so its buffer is allocated once (a client id is named once per run). */
export function estimateEntriesBytes(entries: readonly LogEntry[]): number {
  let bytes = 16 + 3 * (entries[0]?.dedupKey?.clientId.length ?? 0);
  for (const entry of entries) bytes += entry.command.length + 16;
  return bytes;
}

// ---- stand-alone records (storage) ------------------------------------------------------

function finishRecord<T>(reader: ByteReader, value: T): DecodeResult<T> {
  if (reader.failure === null && reader.remaining > 0) reader.fail('trailingBytes', `${reader.remaining} bytes after the record`);
  if (reader.failure !== null) return { ok: false, reason: reader.failure, detail: reader.detail };
  return { ok: true, value };
}

function startRecord(bytes: Uint8Array): ByteReader {
  const reader = new ByteReader(bytes);
  if (bytes.length === 0) reader.fail('empty', 'no bytes');
  else if (reader.byte() !== codecVersion) reader.fail('unsupportedVersion', `version ${bytes[0]}`);
  return reader;
}

/** A batch of contiguous entries packed into one record (one IndexedDB value per batch). */
export function encodeLogEntries(entries: readonly LogEntry[]): Uint8Array {
  const writer = new ByteWriter(estimateEntriesBytes(entries));
  writer.byte(codecVersion);
  writer.varint(entries[0]?.index ?? 0);
  writer.varint(entries.length);
  writeEntryBodies(writer, entries, entries[0]?.index ?? 0);
  return writer.finish();
}

export function decodeLogEntries(bytes: Uint8Array): DecodeResult<LogEntry[]> {
  const reader = startRecord(bytes);
  const firstIndex = reader.varint('firstIndex');
  const count = reader.count('entries', codecLimits.maxEntriesPerFrame, 3);
  if (count > 0 && firstIndex === 0) reader.fail('invalidField', 'entries start at index 0');
  // The last entry's index is firstIndex + count - 1 (as readBatch bounds prevLogIndex + count):
  // bounding firstIndex + count refused a record holding an entry at 2^53-1, written and then
  // unreadable. firstIndex - 1 is exact, and a sum past 2^53-1 never rounds back below it.
  if (count > 0 && firstIndex - 1 + count > Number.MAX_SAFE_INTEGER) reader.fail('outOfRange', 'entry index exceeds 2^53-1');
  return finishRecord(reader, readEntryBodies(reader, firstIndex, count));
}

export function encodeLogEntry(entry: LogEntry): Uint8Array {
  return encodeLogEntries([entry]);
}

export function decodeLogEntry(bytes: Uint8Array): DecodeResult<LogEntry> {
  const decoded = decodeLogEntries(bytes);
  if (!decoded.ok) return decoded;
  const entry = decoded.value[0];
  if (decoded.value.length !== 1 || entry === undefined) return { ok: false, reason: 'invalidField', detail: 'expected exactly one entry' };
  return { ok: true, value: entry };
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Uint8Array {
  const writer = new ByteWriter(64);
  writer.byte(codecVersion);
  writeSnapshotMeta(writer, meta);
  return writer.finish();
}

export function decodeSnapshotMeta(bytes: Uint8Array): DecodeResult<SnapshotMeta> {
  const reader = startRecord(bytes);
  return finishRecord(reader, readSnapshotMeta(reader));
}

export function encodeConfigPayload(payload: ConfigPayload): Uint8Array {
  const writer = new ByteWriter(64);
  writer.byte(codecVersion);
  writeConfigPayload(writer, payload);
  return writer.finish();
}

export function decodeConfigPayload(bytes: Uint8Array): DecodeResult<ConfigPayload> {
  const reader = startRecord(bytes);
  return finishRecord(reader, readConfigPayload(reader));
}
