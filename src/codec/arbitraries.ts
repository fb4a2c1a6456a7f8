// fast-check generators of every wire message, reusable by other suites (test support only).
import fc from 'fast-check';
import type { RaftMessage } from '../core/messages.ts';
import type { ClusterConfig, ConfigPayload, DedupKey, LogEntry, NodeId, SnapshotMeta } from '../core/types.ts';

const counter = fc.oneof(fc.nat({ max: 1_000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const smallCounter = fc.nat({ max: 1_000_000 });
const id = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((value) => value.length >= 1 && value.length <= 256);
const nodeIdArbitrary = id.map((value) => value as NodeId);
const commandArbitrary = fc.uint8Array({ maxLength: 64 });

// Valid configurations only (the codec refuses the rest): at least one voter, no id twice.
const clusterConfig: fc.Arbitrary<ClusterConfig> = fc
  .record({ ids: fc.uniqueArray(nodeIdArbitrary, { minLength: 1, maxLength: 8 }), voterCount: fc.integer({ min: 1, max: 5 }), hasLearners: fc.boolean() })
  .map(({ ids, voterCount, hasLearners }) => {
    const voters = ids.slice(0, Math.min(voterCount, ids.length));
    return hasLearners ? { voters, learners: ids.slice(voters.length) } : { voters };
  });
const configPayload: fc.Arbitrary<ConfigPayload> = fc.record({ old: fc.option(clusterConfig, { nil: null }), new: clusterConfig });
const dedupKey: fc.Arbitrary<DedupKey> = fc.record({ clientId: id, requestId: counter }).map((key) => ({ clientId: key.clientId as DedupKey['clientId'], requestId: key.requestId }));

function entryAt(index: number): fc.Arbitrary<LogEntry> {
  return fc.record({ term: smallCounter, command: commandArbitrary, isNoOp: fc.boolean(), config: fc.option(configPayload, { nil: undefined }), dedupKey: fc.option(dedupKey, { nil: undefined }) }).map((parts) => {
    const base = { index, term: parts.term, command: parts.command, isNoOp: parts.isNoOp };
    if (parts.config === undefined && parts.dedupKey === undefined) return base;
    if (parts.config === undefined) return { ...base, dedupKey: parts.dedupKey as DedupKey };
    if (parts.dedupKey === undefined) return { ...base, config: parts.config };
    return { ...base, config: parts.config, dedupKey: parts.dedupKey };
  });
}

const snapshotMeta: fc.Arbitrary<SnapshotMeta> = fc.record({ lastIncludedIndex: counter, lastIncludedTerm: counter, config: fc.option(configPayload, { nil: undefined }) }).map((meta) =>
  meta.config === undefined ? { lastIncludedIndex: meta.lastIncludedIndex, lastIncludedTerm: meta.lastIncludedTerm } : { lastIncludedIndex: meta.lastIncludedIndex, lastIncludedTerm: meta.lastIncludedTerm, config: meta.config },
);

export const messageArbitrary: fc.Arbitrary<RaftMessage> = fc.oneof(
  fc.record({ type: fc.constant('requestVote' as const), term: counter, lastLogIndex: counter, lastLogTerm: counter, preVote: fc.boolean(), transfer: fc.boolean() }),
  fc
    .record({ type: fc.constant('requestVoteResponse' as const), term: counter, preVote: fc.boolean(), granted: fc.boolean(), denialReason: fc.constantFrom(null, 'staleTerm' as const, 'alreadyVoted' as const, 'logNotUpToDate' as const, 'leaderAlive' as const), leader: fc.option(nodeIdArbitrary, { nil: undefined }) })
    .map(({ leader, ...response }) => (leader === undefined || response.granted ? response : { ...response, leader })),
  fc.record({ term: counter, prevLogIndex: smallCounter, prevLogTerm: counter, leaderCommit: counter, readRound: counter, count: fc.nat({ max: 4 }) }).chain((head) =>
    fc.tuple(...Array.from({ length: head.count }, (_, position) => entryAt(head.prevLogIndex + 1 + position))).map((entries) => ({ type: 'appendEntries' as const, term: head.term, prevLogIndex: head.prevLogIndex, prevLogTerm: head.prevLogTerm, entries, leaderCommit: head.leaderCommit, readRound: head.readRound })),
  ),
  fc
    .record({ type: fc.constant('appendEntriesResponse' as const), term: counter, success: fc.boolean(), matchIndex: counter, conflictIndex: counter, conflictTerm: counter, readRound: counter, neverLeads: fc.boolean() })
    .map(({ neverLeads, ...response }) => (neverLeads ? { ...response, neverLeads: true as const } : response)),
  fc.record({ term: counter, meta: snapshotMeta, data: fc.uint8Array({ maxLength: 64 }), offset: smallCounter, extra: smallCounter }).map((parts) => ({ type: 'installSnapshot' as const, term: parts.term, meta: parts.meta, totalBytes: parts.offset + parts.data.length + parts.extra, offset: parts.offset, data: parts.data })),
  fc.record({ type: fc.constant('installSnapshotResponse' as const), term: counter, lastIncludedIndex: counter, nextOffset: counter, installed: fc.boolean() }),
  fc.record({ type: fc.constant('timeoutNow' as const), term: counter }),
  fc.record({ type: fc.constant('forwardPropose' as const), correlationId: counter, command: commandArbitrary, dedupKey: fc.option(dedupKey, { nil: null }), proposerCommitIndex: counter }),
  fc.record({ type: fc.constant('forwardProposeResponse' as const), correlationId: counter, outcome: fc.oneof(fc.record({ type: fc.constant('appended' as const), index: counter, term: counter }), fc.constant({ type: 'notLeader' as const }), fc.constant({ type: 'busy' as const }), fc.record({ type: fc.constant('unproven' as const), commitIndexNeeded: counter })) }),
  fc.record({ type: fc.constant('readIndexRequest' as const), correlationId: counter }),
  fc.record({ type: fc.constant('readIndexResponse' as const), correlationId: counter, readIndex: counter }),
  fc.record({ type: fc.constant('notMember' as const), term: counter, configIndex: counter }),
  fc.record({ term: counter, prevLogIndex: smallCounter, prevLogTerm: counter, count: fc.nat({ max: 4 }) }).chain((head) =>
    fc.tuple(...Array.from({ length: head.count }, (_, position) => entryAt(head.prevLogIndex + 1 + position))).map((entries) => ({ type: 'catchUpEntries' as const, term: head.term, prevLogIndex: head.prevLogIndex, prevLogTerm: head.prevLogTerm, entries })),
  ),
);
