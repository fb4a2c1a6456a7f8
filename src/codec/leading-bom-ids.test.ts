// An id may begin with U+FEFF: it is well-formed text, and nodeId() and clientId() accept it. A
// UTF-8 decoder left at its default strips a leading byte-order mark, so such an id would travel
// as itself and arrive as another id (a config naming '\uFEFFn1' and 'n1' would decode naming 'n1'
// twice; a dedup key would change client). Every id must come back exactly as it was sent.
import { describe, expect, it } from 'vitest';
import type { RaftMessage } from '../core/messages.ts';
import { clientId, nodeId, validateClusterConfig, type LogEntry } from '../core/types.ts';
import { decodeMessage, encodeMessage } from './message-codec.ts';
import { decodeConfigPayload, decodeLogEntries, encodeConfigPayload, encodeLogEntries } from './records.ts';

const markedNode = nodeId('\uFEFFn1');
const plainNode = nodeId('n1');
const markedClient = clientId('\uFEFFwriter');

describe('ids that begin with U+FEFF', () => {
  it('come back as the same id from a frame that names one', () => {
    const message: RaftMessage = { type: 'requestVoteResponse', term: 3, preVote: false, granted: false, denialReason: 'leaderAlive', leader: markedNode };
    expect(decodeMessage(encodeMessage(message))).toEqual({ ok: true, value: message });
  });

  it('stay distinct from the same id without the mark, in an AppendEntries and in a stored configuration', () => {
    const config = validateClusterConfig({ voters: [markedNode, plainNode, nodeId('n2')] });
    const entry: LogEntry = { index: 1, term: 1, command: new Uint8Array(0), isNoOp: false, config: { old: null, new: config } };
    const message: RaftMessage = { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry], leaderCommit: 0, readRound: 0 };
    expect(decodeMessage(encodeMessage(message))).toEqual({ ok: true, value: message });
    expect(decodeConfigPayload(encodeConfigPayload({ old: null, new: config }))).toEqual({ ok: true, value: { old: null, new: config } });
  });

  it('keep a dedup key under its own client id in a stored batch', () => {
    const entries: LogEntry[] = [{ index: 1, term: 1, command: new Uint8Array([1]), isNoOp: false, dedupKey: { clientId: markedClient, requestId: 7 } }];
    expect(decodeLogEntries(encodeLogEntries(entries))).toEqual({ ok: true, value: entries });
  });
});
