// One journal record: everything one call of FileRaftStorage changes, so that a record either
// lands whole or (torn by a crash) is dropped whole. Its payload, framed on disk as
// journal-format.ts says, is the codec's byte format (versioned like every stored record):
//   kind 1 'batch':   flags, hard state?, leader pin?, truncateFrom?, commit index?, entries (packed)
//   kind 2 'discard': throughIndex (a prefix discard after a snapshot)
//   kind 3 'reset':   the state at a rewrite: hard state, leader pin?, log start, entries (the first
//                     of them; batches after it carry the rest and the commit index, see
//                     recordsOfState)
import { ByteReader, type DecodeResult } from '../../codec/byte-reader.ts';
import { ByteWriter } from '../../codec/byte-writer.ts';
import { codecVersion } from '../../codec/limits.ts';
import { estimateEntriesBytes, readEntryBodies, writeEntryBodies } from '../../codec/records.ts';
import type { LogEntry, NodeId } from '../../core/types.ts';

export type JournalRecord =
  | {
      readonly kind: 'batch';
      readonly hardState?: { readonly term: number; readonly votedFor: NodeId | null };
      readonly leaderForTerm?: { readonly term: number; readonly leaderId: NodeId };
      readonly truncateFrom?: number;
      readonly entries: readonly LogEntry[];
      /** Stored after the entries (StorageBatch.commitIndex). */
      readonly commitIndex?: number;
    }
  | { readonly kind: 'discard'; readonly throughIndex: number }
  | {
      readonly kind: 'reset';
      readonly hardState: { readonly term: number; readonly votedFor: NodeId | null };
      readonly leaderForTerm: { readonly term: number; readonly leaderId: NodeId } | null;
      readonly logStart: number;
      readonly entries: readonly LogEntry[];
    };

/**
 * The largest payload a record may declare: what its u32 length can say. The journal is this
 * process's own checksummed data, not a peer's frame, so the wire's bounds (64 MiB a frame,
 * 100,000 entries) do not apply to it: a record the writer framed must always read back (a reader
 * stricter than the writer dropped an acknowledged call as a "torn tail"). A garbage length is
 * caught anyway: its header's anchor fails (journal-format.ts), or, in format 1, it runs past the
 * end of the file or its checksum fails (checked a chunk at a time, never allocated whole).
 */
export const maxRecordBytes = 0xffff_ffff;

/** Command bytes per record when a whole state is written out: far below maxRecordBytes. */
const stateRecordCommandBytes = 64 * 1024 * 1024;

/** What a rewritten journal holds: a reset record's fields and the commit index. */
export type JournalState = Omit<Extract<JournalRecord, { kind: 'reset' }>, 'kind'> & { readonly commitIndex: number };

/**
 * The whole state as journal records, for a rewritten or migrated journal: a reset record, then
 * as many batches as its entries need, each under ~64 MiB (one record of a log of gigabytes would
 * pass what a u32 length can say, and would be framed whole in memory). The commit index rides on
 * the last record after the reset, or on a batch of its own (the reset record's layout predates it).
 */
export function* recordsOfState(state: JournalState): Generator<JournalRecord> {
  let first = true;
  let start = 0;
  while (first || start < state.entries.length) {
    let end = start;
    for (let bytes = 0; end < state.entries.length && (end === start || bytes + (state.entries[end]?.command.length ?? 0) + 16 <= stateRecordCommandBytes); end += 1) {
      bytes += (state.entries[end]?.command.length ?? 0) + 16;
    }
    const entries = state.entries.slice(start, end);
    const last = end >= state.entries.length;
    const commit = last && state.commitIndex > 0 ? { commitIndex: state.commitIndex } : {};
    if (first) yield { kind: 'reset', hardState: state.hardState, leaderForTerm: state.leaderForTerm, logStart: state.logStart, entries };
    else yield { kind: 'batch', entries, ...commit };
    if (first && last && state.commitIndex > 0) yield { kind: 'batch', entries: [], ...commit };
    first = false;
    start = end;
  }
}

const kinds = { batch: 1, discard: 2, reset: 3 } as const;
/** The kind bytes a payload may start with (after the codec's version). */
export const recordKindCodes: ReadonlySet<number> = new Set(Object.values(kinds));
const hasHardState = 1;
const hasLeader = 2;
const hasTruncation = 4;
const hasCommit = 8;

function writeHardState(writer: ByteWriter, hardState: { term: number; votedFor: NodeId | null }): void {
  writer.varint(hardState.term);
  writer.byte(hardState.votedFor === null ? 0 : 1);
  if (hardState.votedFor !== null) writer.text(hardState.votedFor);
}

function writeEntries(writer: ByteWriter, entries: readonly LogEntry[]): void {
  writer.varint(entries[0]?.index ?? 0);
  writer.varint(entries.length);
  writeEntryBodies(writer, entries, entries[0]?.index ?? 0);
}

export function encodeRecord(record: JournalRecord): Uint8Array {
  const writer = new ByteWriter(64 + (record.kind === 'discard' ? 0 : estimateEntriesBytes(record.entries)));
  writer.byte(codecVersion);
  writer.byte(kinds[record.kind]);
  if (record.kind === 'discard') {
    writer.varint(record.throughIndex);
  } else if (record.kind === 'batch') {
    writer.byte((record.hardState ? hasHardState : 0) | (record.leaderForTerm ? hasLeader : 0) | (record.truncateFrom !== undefined ? hasTruncation : 0) | (record.commitIndex !== undefined ? hasCommit : 0));
    if (record.hardState) writeHardState(writer, record.hardState);
    if (record.leaderForTerm) writeHardState(writer, { term: record.leaderForTerm.term, votedFor: record.leaderForTerm.leaderId });
    if (record.truncateFrom !== undefined) writer.varint(record.truncateFrom);
    if (record.commitIndex !== undefined) writer.varint(record.commitIndex);
    writeEntries(writer, record.entries);
  } else {
    writeHardState(writer, record.hardState);
    writer.byte(record.leaderForTerm === null ? 0 : 1);
    if (record.leaderForTerm !== null) writeHardState(writer, { term: record.leaderForTerm.term, votedFor: record.leaderForTerm.leaderId });
    writer.varint(record.logStart);
    writeEntries(writer, record.entries);
  }
  return writer.finish();
}

function readHardState(reader: ByteReader): { term: number; votedFor: NodeId | null } {
  const term = reader.varint('term');
  const votedFor = reader.byte() === 1 ? (reader.id('votedFor') as NodeId) : null;
  return { term, votedFor };
}

function readEntries(reader: ByteReader): LogEntry[] {
  const firstIndex = reader.varint('firstIndex');
  // Bounded by the bytes left (3 at least per entry), not by a wire frame's entry count: see maxRecordBytes.
  const count = reader.count('entries', Number.MAX_SAFE_INTEGER, 3);
  return readEntryBodies(reader, firstIndex, count);
}

export function decodeRecord(payload: Uint8Array): DecodeResult<JournalRecord> {
  const reader = new ByteReader(payload);
  if (reader.byte() !== codecVersion) reader.fail('unsupportedVersion', `version ${payload[0]}`);
  const kind = reader.byte();
  let record: JournalRecord | null = null;
  if (kind === kinds.discard) {
    record = { kind: 'discard', throughIndex: reader.varint('throughIndex') };
  } else if (kind === kinds.batch) {
    const flags = reader.byte();
    const hardState = flags & hasHardState ? readHardState(reader) : undefined;
    const leader = flags & hasLeader ? readHardState(reader) : undefined;
    const truncateFrom = flags & hasTruncation ? reader.varint('truncateFrom') : undefined;
    const commitIndex = flags & hasCommit ? reader.varint('commitIndex') : undefined;
    const entries = readEntries(reader);
    record = {
      kind: 'batch',
      entries,
      ...(hardState === undefined ? {} : { hardState }),
      ...(leader === undefined || leader.votedFor === null ? {} : { leaderForTerm: { term: leader.term, leaderId: leader.votedFor } }),
      ...(truncateFrom === undefined ? {} : { truncateFrom }),
      ...(commitIndex === undefined ? {} : { commitIndex }),
    };
  } else if (kind === kinds.reset) {
    const hardState = readHardState(reader);
    const leader = reader.byte() === 1 ? readHardState(reader) : null;
    const logStart = reader.varint('logStart');
    const entries = readEntries(reader);
    record = { kind: 'reset', hardState, leaderForTerm: leader === null || leader.votedFor === null ? null : { term: leader.term, leaderId: leader.votedFor }, logStart, entries };
  } else {
    reader.fail('invalidField', `unknown record kind ${kind}`);
  }
  if (reader.failure === null && reader.remaining > 0) reader.fail('trailingBytes', `${reader.remaining} bytes after the record`);
  if (reader.failure !== null || record === null) return { ok: false, reason: reader.failure ?? 'invalidField', ...(reader.detail === undefined ? {} : { detail: reader.detail }) };
  return { ok: true, value: record };
}
