import { describe, expect, it } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { decodeRecord, encodeRecord, type JournalRecord } from './journal-record.ts';

describe('journal records', () => {
  it('restore a vote and a leader pin for an id that begins with U+FEFF as that same id', () => {
    // The mark is part of the id (nodeId() accepts it); a decoder that stripped it would restore a
    // vote for another node, and this node could then vote twice in one term.
    const marked = nodeId('\uFEFFn1');
    const record: JournalRecord = { kind: 'batch', hardState: { term: 4, votedFor: marked }, leaderForTerm: { term: 4, leaderId: marked }, entries: [] };
    expect(decodeRecord(encodeRecord(record))).toEqual({ ok: true, value: record });
  });
});
