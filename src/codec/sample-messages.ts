// One fixed sample of every message type: golden vectors and the fuzzer start from these.
import type { RaftMessage } from '../core/messages.ts';
import { clientId, nodeId } from '../core/types.ts';

const a = nodeId('a');
const b = nodeId('b');
const c = nodeId('c');

export const sampleMessages: readonly RaftMessage[] = [
  { type: 'requestVote', term: 5, lastLogIndex: 12, lastLogTerm: 4, preVote: true, transfer: false },
  { type: 'requestVoteResponse', term: 5, preVote: false, granted: false, denialReason: 'leaderAlive' },
  {
    type: 'appendEntries',
    term: 5,
    prevLogIndex: 12,
    prevLogTerm: 4,
    leaderCommit: 11,
    readRound: 3,
    entries: [
      { index: 13, term: 5, command: new Uint8Array([1, 2, 3]), isNoOp: false, dedupKey: { clientId: clientId('a-00000000000000ff'), requestId: 300 } },
      { index: 14, term: 5, command: new Uint8Array(0), isNoOp: false, config: { old: { voters: [a, b, c] }, new: { voters: [a, b], learners: [c] } } },
      { index: 15, term: 5, command: new Uint8Array(0), isNoOp: true },
    ],
  },
  { type: 'appendEntriesResponse', term: 5, success: false, matchIndex: 0, conflictIndex: 9, conflictTerm: 3, readRound: 3 },
  { type: 'installSnapshot', term: 6, meta: { lastIncludedIndex: 100, lastIncludedTerm: 5, config: { old: null, new: { voters: [a, b, c] } } }, totalBytes: 10, offset: 4, data: new Uint8Array([9, 8, 7]) },
  { type: 'installSnapshotResponse', term: 6, lastIncludedIndex: 100, nextOffset: 7, installed: false },
  { type: 'timeoutNow', term: 7 },
  { type: 'forwardPropose', correlationId: 42, command: new Uint8Array([0xff]), dedupKey: { clientId: clientId('durable-client'), requestId: 1 }, proposerCommitIndex: 15 },
  { type: 'forwardProposeResponse', correlationId: 42, outcome: { type: 'appended', index: 16, term: 5 } },
  { type: 'readIndexRequest', correlationId: 43 },
  { type: 'readIndexResponse', correlationId: 43, readIndex: 15 },
  { type: 'notMember', term: 8, configIndex: 300 },
  { type: 'catchUpEntries', term: 9, prevLogIndex: 20, prevLogTerm: 7, entries: [{ index: 21, term: 8, command: new Uint8Array([4, 5]), isNoOp: false }, { index: 22, term: 9, command: new Uint8Array(0), isNoOp: true }] },
];
