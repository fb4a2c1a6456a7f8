import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RaftMessage } from '../core/messages.ts';
import { nodeId } from '../core/types.ts';
import { messageArbitrary } from './arbitraries.ts';
import { decodeMessage, encodeMessage } from './message-codec.ts';
import { decodeLogEntries, encodeLogEntries } from './records.ts';
import { sampleMessages } from './sample-messages.ts';

// A format change must show up here as a visible diff.
const golden: Record<RaftMessage['type'], string> = {
  requestVote: '0101050c0401',
  requestVoteResponse: '0102050004',
  appendEntries: '0103050c040b030305040301020312612d30303030303030303030303030306666ac02050200010301610162016300020161016201010163050100',
  appendEntriesResponse: '0104050000090303',
  installSnapshot: '0105066405010003016101620163000a0403090807',
  installSnapshotResponse: '010606640700',
  timeoutNow: '010707',
  forwardPropose: '01082a01ff010e64757261626c652d636c69656e74010f',
  forwardProposeResponse: '01092a001005',
  readIndexRequest: '010a2b',
  readIndexResponse: '010b2b0f',
  notMember: '010c08ac02',
  catchUpEntries: '010d091407020800020405090100',
};

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
const fromHex = (text: string): Uint8Array => new Uint8Array(text.match(/../g)?.map((pair) => parseInt(pair, 16)) ?? []);

/** Every counter in a decoded message lies in 0 .. 2^53-1 (walks the value generically). */
function countersInRange(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return true;
  return Object.values(value).every(countersInRange);
}

describe('message codec', () => {
  it('encodes every message type to its golden bytes and back', () => {
    for (const message of sampleMessages) {
      expect(hex(encodeMessage(message)), message.type).toBe(golden[message.type]);
      expect(decodeMessage(fromHex(golden[message.type]))).toEqual({ ok: true, value: message });
    }
  });

  it("encodes a forward's 'unproven' answer with the commit index it needs (incarnation-proof.ts)", () => {
    const message: RaftMessage = { type: 'forwardProposeResponse', correlationId: 44, outcome: { type: 'unproven', commitIndexNeeded: 300 } };
    expect(hex(encodeMessage(message))).toBe('01092c03ac02');
    expect(decodeMessage(fromHex('01092c03ac02'))).toEqual({ ok: true, value: message });
    expect(decodeMessage(fromHex('01092c04'))).toMatchObject({ ok: false, reason: 'invalidField' });
  });

  it('refuses a granted vote that names a leader (only a denial names one)', () => {
    const denial = encodeMessage({ type: 'requestVoteResponse', term: 5, preVote: true, granted: false, denialReason: 'leaderAlive', leader: nodeId('n1') });
    expect(decodeMessage(denial)).toMatchObject({ ok: true });
    const granted = denial.slice();
    granted[3] = (granted[3] ?? 0) | 2; // the flags byte: version, type, term, flags
    expect(decodeMessage(granted)).toMatchObject({ ok: false, reason: 'invalidField' });
  });

  it("carries a witness's neverLeads on an AppendEntries answer in the flags byte, and refuses unknown bits", () => {
    const refusal: RaftMessage = { type: 'appendEntriesResponse', term: 5, success: false, matchIndex: 0, conflictIndex: 9, conflictTerm: 3, readRound: 3, neverLeads: true };
    const success: RaftMessage = { type: 'appendEntriesResponse', term: 5, success: true, matchIndex: 9, conflictIndex: 0, conflictTerm: 0, readRound: 0, neverLeads: true };
    // The byte after the term held `success` alone: an answer without the flag is unchanged (golden).
    expect(hex(encodeMessage(refusal))).toBe('0104050200090303');
    expect(hex(encodeMessage(success))).toBe('0104050309000000');
    expect(decodeMessage(fromHex('0104050200090303'))).toEqual({ ok: true, value: refusal });
    expect(decodeMessage(fromHex('0104050309000000'))).toEqual({ ok: true, value: success });
    // Absent, not false, when the bit is clear: one message per encoding.
    const plain = decodeMessage(fromHex(golden.appendEntriesResponse));
    expect(plain.ok && 'neverLeads' in plain.value).toBe(false);
    for (const flags of ['04', '06', '80', 'ff']) {
      expect(decodeMessage(fromHex(`010405${flags}00090303`)), flags).toMatchObject({ ok: false, reason: 'invalidField' });
    }
  });

  it('round-trips generated messages of every type', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        expect(decodeMessage(encodeMessage(message))).toEqual({ ok: true, value: message });
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on random bytes, and anything it accepts is in range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeMessage(bytes);
        if (decoded.ok) expect(countersInRange(decoded.value)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('never throws on mutated valid frames (flipped, inserted, deleted, truncated bytes)', () => {
    const mutation = fc.record({ message: messageArbitrary, position: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate') });
    fc.assert(
      fc.property(mutation, ({ message, position, byte, kind }) => {
        const frame = Array.from(encodeMessage(message));
        const at = position % frame.length;
        if (kind === 'flip') frame[at] = byte;
        else if (kind === 'insert') frame.splice(at, 0, byte);
        else if (kind === 'delete') frame.splice(at, 1);
        else frame.length = at;
        const decoded = decodeMessage(new Uint8Array(frame));
        if (decoded.ok) expect(countersInRange(decoded.value)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses malformed frames with the right reason', () => {
    const vote = fromHex(golden.requestVote);
    expect(decodeMessage(new Uint8Array(0))).toMatchObject({ ok: false, reason: 'empty' });
    expect(decodeMessage(new Uint8Array([2, ...vote.subarray(1)]))).toMatchObject({ ok: false, reason: 'unsupportedVersion' });
    expect(decodeMessage(new Uint8Array([1, 99]))).toMatchObject({ ok: false, reason: 'unknownType' });
    expect(decodeMessage(vote.subarray(0, 4))).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeMessage(new Uint8Array([...vote, 0]))).toMatchObject({ ok: false, reason: 'trailingBytes' });
    // 2^53 as a varint: eight groups, the last carrying bit 53.
    expect(decodeMessage(new Uint8Array([1, 7, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]))).toMatchObject({ ok: false, reason: 'outOfRange' });
    expect(decodeMessage(new Uint8Array([1, 7, 0x85, 0x00]))).toMatchObject({ ok: false, reason: 'outOfRange' }); // overlong
    // An entry count of a billion with nothing behind it is refused before allocating.
    expect(decodeMessage(new Uint8Array([1, 3, 1, 0, 0, 0, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03]))).toMatchObject({ ok: false });
    const badText = fromHex(golden.forwardPropose);
    badText[7] = 0xff; // inside the client id: invalid UTF-8
    expect(decodeMessage(badText)).toMatchObject({ ok: false, reason: 'invalidText' });
    expect(decodeMessage(new Uint8Array([1, 1, 5, 12, 4, 4]))).toMatchObject({ ok: false, reason: 'invalidField' }); // unknown flag bit
  });

  it('packs a batch of entries into one storage record and refuses a corrupted one', () => {
    const batch = (sampleMessages[2] as Extract<RaftMessage, { type: 'appendEntries' }>).entries;
    const record = encodeLogEntries(batch);
    expect(decodeLogEntries(record)).toEqual({ ok: true, value: batch });
    expect(decodeLogEntries(record.subarray(0, record.length - 1)).ok).toBe(false);
  });

  it('decodes a storage record whose last entry is at index 2^53-1, as a frame does, and refuses one reaching past it', () => {
    // The record's bound took firstIndex + count for the last index: an entry at 2^53-1 was
    // written by IndexedDbRaftStorage and then unreadable (review idb52).
    const last = Number.MAX_SAFE_INTEGER;
    const entry = (index: number) => ({ index, term: 3, command: new Uint8Array([index % 251]), isNoOp: false });
    for (const batch of [[entry(last)], [entry(last - 2), entry(last - 1), entry(last)]]) {
      expect(decodeLogEntries(encodeLogEntries(batch))).toEqual({ ok: true, value: batch });
      const frame: RaftMessage = { type: 'appendEntries', term: 3, prevLogIndex: (batch[0]?.index ?? 0) - 1, prevLogTerm: 3, entries: batch, leaderCommit: 0, readRound: 0 };
      expect(decodeMessage(encodeMessage(frame))).toEqual({ ok: true, value: frame });
    }
    // One past it, also where a naive firstIndex + count - 1 would round back to 2^53-1.
    for (const first of [last, last - 1, last - 2]) {
      const batch = Array.from({ length: last - first + 2 }, (_, position) => entry(first + position));
      expect(decodeLogEntries(encodeLogEntries(batch))).toMatchObject({ ok: false, reason: 'outOfRange' });
    }
  });
});
