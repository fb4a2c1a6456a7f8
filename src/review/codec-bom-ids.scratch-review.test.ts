// Review (codec): ids are decoded with TextDecoder('utf-8', { fatal: true }), whose default
// ignoreBOM: false strips a leading U+FEFF. nodeId()/clientId() accept an id that begins with
// U+FEFF (it is well-formed text, no lone surrogate), so such an id is encoded with its BOM and
// decoded without it: another id. The same decoder setting is in client-session-bytes.ts.
import { describe, expect, it } from 'vitest';
import { decodeConfigPayload, decodeLogEntries, decodeMessage, encodeConfigPayload, encodeLogEntries, encodeMessage } from '../codec/index.ts';
import { ClientSessionTable } from '../core/client-session-table.ts';
import type { RaftMessage } from '../core/messages.ts';
import { clientId, nodeId, validateClusterConfig, type LogEntry } from '../core/types.ts';

const bomNode = nodeId('\uFEFFn1');
const plainNode = nodeId('n1');
const bomClient = clientId('\uFEFFwriter');

describe('codec: an id beginning with U+FEFF', () => {
  it('comes back as the same id from a frame that names it', () => {
    const message: RaftMessage = { type: 'requestVoteResponse', term: 3, preVote: false, granted: false, denialReason: 'leaderAlive', leader: bomNode };
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded).toEqual({ ok: true, value: message });
  });

  it('a configuration validateClusterConfig accepts ([\\uFEFFn1, n1]) travels in an AppendEntries and a storage record', () => {
    const config = validateClusterConfig({ voters: [bomNode, plainNode, nodeId('n2')] });
    const entry: LogEntry = { index: 1, term: 1, command: new Uint8Array(0), isNoOp: false, config: { old: null, new: config } };
    const frame = encodeMessage({ type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry], leaderCommit: 0, readRound: 0 });
    expect(decodeMessage(frame)).toMatchObject({ ok: true });
    expect(decodeConfigPayload(encodeConfigPayload({ old: null, new: config }))).toEqual({ ok: true, value: { old: null, new: config } });
  });

  it('a dedup key under such a client id keeps its client id in a stored batch', () => {
    const entries: LogEntry[] = [{ index: 1, term: 1, command: new Uint8Array([1]), isNoOp: false, dedupKey: { clientId: bomClient, requestId: 7 } }];
    expect(decodeLogEntries(encodeLogEntries(entries))).toEqual({ ok: true, value: entries });
  });

  it('ClientSessionTable restored from its bytes still knows the request applied (exactly-once across a snapshot)', () => {
    const table = new ClientSessionTable();
    const key = { clientId: bomClient, requestId: 1 };
    expect(table.shouldApply(key)).toBe(true);
    expect(table.hasApplied(key)).toBe(true);
    const restored = ClientSessionTable.fromBytes(table.toBytes());
    // A replay of the same request after the application restored its snapshot must be skipped.
    expect(restored.shouldApply(key)).toBe(false);
  });
});
