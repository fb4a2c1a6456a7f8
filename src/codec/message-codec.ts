// The versioned wire format of every RaftMessage: [version][type][fields]. decodeMessage never
// throws: a frame that fails any bound comes back as a DecodeFailure for the driver to count.
import type { ForwardOutcome, RaftMessage, RaftMessageType } from '../core/messages.ts';
import type { LogEntry, NodeId, VoteDenialReason } from '../core/types.ts';
import { ByteReader, type DecodeResult } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { codecLimits, codecVersion } from './limits.ts';
import {
  estimateEntriesBytes,
  readEntryBodies,
  readOptionalDedupKey,
  readSnapshotMeta,
  writeEntryBodies,
  writeOptionalDedupKey,
  writeSnapshotMeta,
} from './records.ts';

/** The byte after the version that names a frame's message type (a tap may skip what it need not decode). */
export const messageTypeCodes: Readonly<Record<RaftMessageType, number>> = {
  requestVote: 1,
  requestVoteResponse: 2,
  appendEntries: 3,
  appendEntriesResponse: 4,
  installSnapshot: 5,
  installSnapshotResponse: 6,
  timeoutNow: 7,
  forwardPropose: 8,
  forwardProposeResponse: 9,
  readIndexRequest: 10,
  readIndexResponse: 11,
  notMember: 12,
  catchUpEntries: 13,
};

const denialReasons: readonly (VoteDenialReason | null)[] = [null, 'staleTerm', 'alreadyVoted', 'logNotUpToDate', 'leaderAlive'];
const forwardOutcomeTypes: readonly ForwardOutcome['type'][] = ['appended', 'notLeader', 'busy', 'unproven'];

export function encodeMessage(message: RaftMessage): Uint8Array {
  const estimate = message.type === 'appendEntries' || message.type === 'catchUpEntries' ? estimateEntriesBytes(message.entries) + 48 : message.type === 'installSnapshot' ? message.data.length + 128 : message.type === 'forwardPropose' ? message.command.length + 64 : 48;
  const writer = new ByteWriter(estimate);
  writer.byte(codecVersion);
  writer.byte(messageTypeCodes[message.type]);
  switch (message.type) {
    case 'requestVote':
      writer.varint(message.term);
      writer.varint(message.lastLogIndex);
      writer.varint(message.lastLogTerm);
      writer.byte((message.preVote ? 1 : 0) | (message.transfer ? 2 : 0));
      break;
    case 'requestVoteResponse':
      writer.varint(message.term);
      writer.byte((message.preVote ? 1 : 0) | (message.granted ? 2 : 0) | (message.leader === undefined ? 0 : 4));
      writer.byte(denialReasons.indexOf(message.denialReason));
      if (message.leader !== undefined) writer.text(message.leader);
      break;
    case 'appendEntries':
      writer.varint(message.term);
      writer.varint(message.prevLogIndex);
      writer.varint(message.prevLogTerm);
      writer.varint(message.leaderCommit);
      writer.varint(message.readRound);
      writeBatch(writer, message.prevLogIndex, message.entries);
      break;
    case 'appendEntriesResponse':
      writer.varint(message.term);
      // One flags byte, as before when it held `success` alone: an answer without neverLeads
      // encodes exactly as it always did.
      writer.byte((message.success ? 1 : 0) | (message.neverLeads === true ? 2 : 0));
      writer.varint(message.matchIndex);
      writer.varint(message.conflictIndex);
      writer.varint(message.conflictTerm);
      writer.varint(message.readRound);
      break;
    case 'installSnapshot':
      writer.varint(message.term);
      writeSnapshotMeta(writer, message.meta);
      writer.varint(message.totalBytes);
      writer.varint(message.offset);
      writer.bytes(message.data);
      break;
    case 'installSnapshotResponse':
      writer.varint(message.term);
      writer.varint(message.lastIncludedIndex);
      writer.varint(message.nextOffset);
      writer.byte(message.installed ? 1 : 0);
      break;
    case 'timeoutNow':
      writer.varint(message.term);
      break;
    case 'forwardPropose':
      writer.varint(message.correlationId);
      writer.bytes(message.command);
      writeOptionalDedupKey(writer, message.dedupKey);
      writer.varint(message.proposerCommitIndex);
      break;
    case 'forwardProposeResponse':
      writer.varint(message.correlationId);
      writer.byte(forwardOutcomeTypes.indexOf(message.outcome.type));
      if (message.outcome.type === 'appended') {
        writer.varint(message.outcome.index);
        writer.varint(message.outcome.term);
      } else if (message.outcome.type === 'unproven') {
        writer.varint(message.outcome.commitIndexNeeded);
      }
      break;
    case 'readIndexRequest':
      writer.varint(message.correlationId);
      break;
    case 'readIndexResponse':
      writer.varint(message.correlationId);
      writer.varint(message.readIndex);
      break;
    case 'notMember':
      writer.varint(message.term);
      writer.varint(message.configIndex);
      break;
    case 'catchUpEntries':
      writer.varint(message.term);
      writer.varint(message.prevLogIndex);
      writer.varint(message.prevLogTerm);
      writeBatch(writer, message.prevLogIndex, message.entries);
      break;
  }
  return writer.finish();
}

function flags(reader: ByteReader, field: string, known: number): number {
  const value = reader.byte();
  if ((value & ~known) !== 0) reader.fail('invalidField', `${field} has unknown bits`);
  return value;
}

function decodeBody(reader: ByteReader, code: number): RaftMessage | null {
  switch (code) {
    case 1: {
      const term = reader.varint('term');
      const lastLogIndex = reader.varint('lastLogIndex');
      const lastLogTerm = reader.varint('lastLogTerm');
      const bits = flags(reader, 'requestVote flags', 3);
      return { type: 'requestVote', term, lastLogIndex, lastLogTerm, preVote: (bits & 1) !== 0, transfer: (bits & 2) !== 0 };
    }
    case 2: {
      const term = reader.varint('term');
      const bits = flags(reader, 'requestVoteResponse flags', 7);
      const reasonCode = reader.byte();
      const denialReason = denialReasons[reasonCode];
      if (denialReason === undefined) reader.fail('invalidField', 'unknown denial reason');
      const response = { type: 'requestVoteResponse', term, preVote: (bits & 1) !== 0, granted: (bits & 2) !== 0, denialReason: denialReason ?? null } as const;
      // Only a denial names a leader (elections.ts): a grant that names one was not made by us.
      if ((bits & 4) !== 0 && response.granted) reader.fail('invalidField', 'a granted vote names a leader');
      return (bits & 4) === 0 ? response : { ...response, leader: reader.id('leader') as NodeId };
    }
    case 3:
      return decodeAppendEntries(reader);
    case 4: {
      const term = reader.varint('term');
      const bits = flags(reader, 'appendEntriesResponse flags', 3);
      const matchIndex = reader.varint('matchIndex');
      const conflictIndex = reader.varint('conflictIndex');
      const conflictTerm = reader.varint('conflictTerm');
      const response = { type: 'appendEntriesResponse', term, success: (bits & 1) !== 0, matchIndex, conflictIndex, conflictTerm, readRound: reader.varint('readRound') } as const;
      // Absent rather than false when the bit is clear: one encoding per message, both ways.
      return (bits & 2) === 0 ? response : { ...response, neverLeads: true };
    }
    case 5: {
      const term = reader.varint('term');
      const meta = readSnapshotMeta(reader);
      const totalBytes = reader.varint('totalBytes');
      const offset = reader.varint('offset');
      const data = reader.bytesField('data', codecLimits.maxSnapshotChunkBytes);
      if (reader.failure === null && offset + data.length > totalBytes) reader.fail('invalidField', 'snapshot chunk runs past totalBytes');
      return { type: 'installSnapshot', term, meta, totalBytes, offset, data };
    }
    case 6: {
      const term = reader.varint('term');
      const lastIncludedIndex = reader.varint('lastIncludedIndex');
      const nextOffset = reader.varint('nextOffset');
      return { type: 'installSnapshotResponse', term, lastIncludedIndex, nextOffset, installed: reader.boolean('installed') };
    }
    case 7:
      return { type: 'timeoutNow', term: reader.varint('term') };
    case 8: {
      const correlationId = reader.varint('correlationId');
      const command = reader.bytesField('command', codecLimits.maxCommandBytes);
      const dedupKey = readOptionalDedupKey(reader);
      return { type: 'forwardPropose', correlationId, command, dedupKey, proposerCommitIndex: reader.varint('proposerCommitIndex') };
    }
    case 9:
      return decodeForwardResponse(reader);
    case 10:
      return { type: 'readIndexRequest', correlationId: reader.varint('correlationId') };
    case 11: {
      const correlationId = reader.varint('correlationId');
      return { type: 'readIndexResponse', correlationId, readIndex: reader.varint('readIndex') };
    }
    case 12: {
      const term = reader.varint('term');
      return { type: 'notMember', term, configIndex: reader.varint('configIndex') };
    }
    case 13:
      return decodeCatchUpEntries(reader);
    default:
      return null;
  }
}

function decodeAppendEntries(reader: ByteReader): RaftMessage {
  const term = reader.varint('term');
  const prevLogIndex = reader.varint('prevLogIndex');
  const prevLogTerm = reader.varint('prevLogTerm');
  const leaderCommit = reader.varint('leaderCommit');
  const readRound = reader.varint('readRound');
  return { type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries: readBatch(reader, prevLogIndex), leaderCommit, readRound };
}

/** A batch of entries following prevLogIndex (AppendEntries, CatchUpEntries): a count, then the entries. */
function writeBatch(writer: ByteWriter, prevLogIndex: number, entries: readonly LogEntry[]): void {
  writer.varint(entries.length);
  writeEntryBodies(writer, entries, prevLogIndex + 1);
}

function readBatch(reader: ByteReader, prevLogIndex: number): LogEntry[] {
  const count = reader.count('entries', codecLimits.maxEntriesPerFrame, 3);
  if (prevLogIndex + count > Number.MAX_SAFE_INTEGER) reader.fail('outOfRange', 'entry index exceeds 2^53-1');
  return readEntryBodies(reader, prevLogIndex + 1, count);
}

function decodeCatchUpEntries(reader: ByteReader): RaftMessage {
  const term = reader.varint('term');
  const prevLogIndex = reader.varint('prevLogIndex');
  const prevLogTerm = reader.varint('prevLogTerm');
  return { type: 'catchUpEntries', term, prevLogIndex, prevLogTerm, entries: readBatch(reader, prevLogIndex) };
}

function decodeForwardResponse(reader: ByteReader): RaftMessage {
  const correlationId = reader.varint('correlationId');
  const outcomeType = forwardOutcomeTypes[reader.byte()];
  if (outcomeType === undefined) {
    reader.fail('invalidField', 'unknown forward outcome');
    return { type: 'forwardProposeResponse', correlationId, outcome: { type: 'notLeader' } };
  }
  if (outcomeType === 'unproven') return { type: 'forwardProposeResponse', correlationId, outcome: { type: 'unproven', commitIndexNeeded: reader.varint('commitIndexNeeded') } };
  if (outcomeType !== 'appended') return { type: 'forwardProposeResponse', correlationId, outcome: { type: outcomeType } };
  const index = reader.varint('index');
  return { type: 'forwardProposeResponse', correlationId, outcome: { type: 'appended', index, term: reader.varint('term') } };
}

export function decodeMessage(bytes: Uint8Array): DecodeResult<RaftMessage> {
  try {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) return { ok: false, reason: 'empty' };
    if (bytes.length > codecLimits.maxFrameBytes) return { ok: false, reason: 'tooLarge', detail: `${bytes.length} bytes` };
    if (bytes[0] !== codecVersion) return { ok: false, reason: 'unsupportedVersion', detail: `version ${bytes[0]}` };
    const reader = new ByteReader(bytes, 1);
    const message = decodeBody(reader, reader.byte());
    if (message === null && reader.failure === null) return { ok: false, reason: 'unknownType', detail: `type ${bytes[1]}` };
    if (reader.failure === null && reader.remaining > 0) reader.fail('trailingBytes', `${reader.remaining} bytes after the message`);
    if (reader.failure !== null || message === null) return { ok: false, reason: reader.failure ?? 'invalidField', detail: reader.detail };
    return { ok: true, value: message };
  } catch (error) {
    // Unreachable by design (every read is bounds-checked); kept so a codec bug drops a frame
    // instead of throwing into the engine.
    return { ok: false, reason: 'invalidField', detail: error instanceof Error ? error.message : String(error) };
  }
}
