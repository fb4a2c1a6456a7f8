// Each hardening rule of SPEC "Untrusted peers": a forged frame is refused (with a counted
// reason) and the honest node's state is unharmed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMetric } from './events.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { encodeMessage } from '../codec/index.ts';
import { clientId, maxLogIndex, nodeId, type LogEntry, type NodeId, type SnapshotMeta } from './types.ts';

const [a, b, c, mallory] = ['a', 'b', 'c', 'mallory'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

function follower(term = 2, entries = [entry(1, 1), entry(2, 2)], overrides = {}): RaftCore {
  return new RaftCore({ id: b, config: resolveRaftConfig(overrides), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term, votedFor: null }, leaderPin: { term, leaderId: a }, snapshotMeta: null, entries });
}

function append(term: number, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[], leaderCommit = 0): RaftMessage {
  return { type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound: 0 };
}

function refusals(core: RaftCore): string[] {
  const ready = core.takeReady();
  return (ready?.metrics ?? []).filter((metric): metric is Extract<RaftMetric, { type: 'frameRefused' }> => metric.type === 'frameRefused').map((metric) => metric.reason);
}

describe('hostile peers', () => {
  it('drops leader frames from a sender outside the voter set', () => {
    const node = follower();
    node.receive(10, mallory, append(3, 2, 2, [entry(3, 3)], 3));
    expect(refusals(node)).toEqual(['senderNotVoter']);
    expect(node.term).toBe(2);
    expect(node.lastIndex).toBe(2);
    node.receive(10, mallory, { type: 'timeoutNow', term: 2 });
    node.receive(10, mallory, { type: 'installSnapshot', term: 3, meta: { lastIncludedIndex: 9, lastIncludedTerm: 3 }, totalBytes: 1, offset: 0, data: new Uint8Array([1]) });
    expect(refusals(node)).toEqual(['timeoutNowNotFromLeader', 'senderNotVoter']);
  });

  it('refuses, and counts, a frame whose transport names this node as its sender', () => {
    const node = follower();
    node.receive(10, b, append(9, 2, 2, [entry(3, 9)], 3));
    node.receive(10, b, { type: 'requestVote', term: 9, lastLogIndex: 9, lastLogTerm: 9, preVote: false, transfer: false });
    expect(refusals(node)).toEqual(['senderIsSelf', 'senderIsSelf']);
    expect(node.term).toBe(2);
    expect(node.lastIndex).toBe(2);
  });

  it('refuses what it could not restart on: a vote request of term 0, a keyed no-op or configuration entry, a snapshot of term 0', () => {
    const fresh = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    fresh.receive(10, a, { type: 'requestVote', term: 0, lastLogIndex: 0, lastLogTerm: 0, preVote: false, transfer: false });
    const afterVote = fresh.takeReady();
    expect(afterVote?.metrics.filter((metric) => metric.type === 'frameRefused').map((metric) => metric.type === 'frameRefused' && metric.reason)).toEqual(['outOfRange']);
    expect(afterVote?.hardState ?? null).toBeNull();
    expect(afterVote?.messages ?? []).toEqual([]);
    const node = follower();
    const key = { clientId: clientId('x'), requestId: 1 };
    node.receive(10, a, append(2, 2, 2, [{ ...entry(3, 2), isNoOp: true, command: new Uint8Array(0), dedupKey: key }], 2));
    node.receive(10, a, append(2, 2, 2, [{ ...entry(3, 2), command: new Uint8Array(0), config: { old: null, new: { voters: [a, b, c] } }, dedupKey: key }], 2));
    node.receive(10, a, { type: 'installSnapshot', term: 2, meta: { lastIncludedIndex: 9, lastIncludedTerm: 0 }, totalBytes: 1, offset: 0, data: new Uint8Array([1]) });
    expect(refusals(node)).toEqual(['internalEntryWithKey', 'internalEntryWithKey', 'outOfRange']);
    expect(node.lastIndex).toBe(2);
  });

  it('pins the first leader heard in a term and persists the pin; another same-term leader is refused', () => {
    const node = follower(2, [entry(1, 1)], {});
    node.receive(10, c, append(3, 1, 1, [], 0));
    const ready = node.takeReady()!;
    expect(ready.leaderForTerm).toEqual({ term: 3, leaderId: c });
    node.receive(11, a, append(3, 1, 1, [entry(2, 3)], 2));
    expect(refusals(node)).toEqual(['leaderNotPinned']);
    expect(node.lastIndex).toBe(1);
  });

  it('refuses a term jump beyond maxTermJump without adopting the term', () => {
    const node = follower(2, [entry(1, 1)], { maxTermJump: 100 });
    node.receive(10, c, append(2 + 101, 1, 1, [], 0));
    node.receive(10, c, { type: 'requestVote', term: 1_000_000, lastLogIndex: 99, lastLogTerm: 99, preVote: false, transfer: false });
    expect(refusals(node)).toEqual(['termJump', 'termJump']);
    expect(node.term).toBe(2);
  });

  it('refuses a batch whose entries claim a term above the frame term', () => {
    const node = follower();
    node.receive(10, a, append(2, 2, 2, [entry(3, 9)], 0));
    expect(refusals(node)).toEqual(['entryTermAboveFrame']);
    expect(node.lastIndex).toBe(2);
  });

  it('refuses a TimeoutNow that is ahead of our term or not from the pinned leader', () => {
    const node = follower();
    node.receive(10, a, { type: 'timeoutNow', term: 3 });
    node.receive(10, c, { type: 'timeoutNow', term: 2 });
    expect(refusals(node)).toEqual(['timeoutNowTermAhead', 'timeoutNowNotFromLeader']);
    expect(node.role).toBe('follower');
  });

  it('clamps a hostile conflict hint and ignores an absurd match index', () => {
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0, now: 0, bootstrap: { voters: [a] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1)] });
    leader.tick(1_000);
    expect(leader.role).toBe('leader');
    leader.takeReady();
    leader.persisted(1_000, { index: 2, term: 2 });
    // A single-voter leader has no followers: hints and acks from strangers are refused outright.
    leader.receive(1_001, mallory, { type: 'appendEntriesResponse', term: 2, success: true, matchIndex: Number.MAX_SAFE_INTEGER, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    expect(refusals(leader)).toEqual(['senderNotMember']);
    expect(leader.commitIndex).toBe(2);
  });

  it('a follower success ack above the leader log does not commit what the leader does not have', () => {
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1)] });
    leader.tick(1_000);
    for (const voter of [b, c]) leader.receive(1_000, voter, { type: 'requestVoteResponse', term: 2, preVote: true, granted: true, denialReason: null });
    leader.receive(1_000, b, { type: 'requestVoteResponse', term: 2, preVote: false, granted: true, denialReason: null });
    expect(leader.role).toBe('leader');
    leader.takeReady();
    leader.persisted(1_000, { index: 2, term: 2 });
    leader.receive(1_001, b, { type: 'appendEntriesResponse', term: 2, success: true, matchIndex: 10_000, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    expect(leader.commitIndex).toBe(2); // clamped to the leader's last index, never beyond
    leader.receive(1_002, c, { type: 'appendEntriesResponse', term: 2, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    const ready = leader.takeReady()!;
    const retry = ready.messages.find((outbound) => outbound.to === c && outbound.message.type === 'appendEntries');
    expect(retry?.message).toMatchObject({ prevLogIndex: 0 }); // hint 0 clamped to matchIndex + 1 = 1
  });

  it('discards forward and read answers that do not come from the peer asked', () => {
    const node = follower();
    node.receive(10, a, append(2, 2, 2, [], 2)); // learn the leader
    node.takeReady();
    node.propose(11, 1, new Uint8Array([7]), null);
    node.requestRead(11, 1);
    const asked = node.takeReady()!;
    const forward = asked.messages.find((outbound) => outbound.message.type === 'forwardPropose')!.message as Extract<RaftMessage, { type: 'forwardPropose' }>;
    const read = asked.messages.find((outbound) => outbound.message.type === 'readIndexRequest')!.message as Extract<RaftMessage, { type: 'readIndexRequest' }>;
    node.receive(12, c, { type: 'forwardProposeResponse', correlationId: forward.correlationId, outcome: { type: 'appended', index: 2, term: 2 } });
    node.receive(12, c, { type: 'readIndexResponse', correlationId: read.correlationId, readIndex: 2 });
    const ready = node.takeReady();
    expect(ready?.reads ?? []).toEqual([]);
    expect(ready?.outcomes ?? []).toEqual([]);
    node.receive(13, a, { type: 'readIndexResponse', correlationId: read.correlationId, readIndex: 2 });
    expect(node.takeReady()?.reads).toEqual([{ readId: 1, readIndex: 2 }]);
  });

  it('discards a forward answer naming an index the proposer already holds committed (another entry)', () => {
    const node = follower(2, [entry(1, 1), entry(2, 2)]);
    node.receive(10, a, append(2, 2, 2, [], 2)); // commit index 2
    node.takeReady();
    node.propose(11, 1, new Uint8Array([7]), null);
    const forward = node.takeReady()!.messages.find((outbound) => outbound.message.type === 'forwardPropose')!.message as Extract<RaftMessage, { type: 'forwardPropose' }>;
    // Index 2 holds another command of term 2: believed, the proposal was reported committed as it.
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: forward.correlationId, outcome: { type: 'appended', index: 2, term: 2 } });
    expect(node.takeReady()?.outcomes ?? []).toEqual([]);
    // The true answer is still taken, and the proposal commits with its own entry.
    node.receive(13, a, { type: 'forwardProposeResponse', correlationId: forward.correlationId, outcome: { type: 'appended', index: 3, term: 2 } });
    node.receive(14, a, append(2, 2, 2, [{ index: 3, term: 2, command: new Uint8Array([7]), isNoOp: false }], 3));
    const ready = node.takeReady()!;
    node.persisted(14, { index: 3, term: 2 });
    expect([...ready.outcomes, ...(node.takeReady()?.outcomes ?? [])]).toContainEqual({ type: 'committed', proposalId: 1, entry: { index: 3, term: 2, command: new Uint8Array([7]), isNoOp: false } });
  });

  it('sets aside a forward answer naming a committed entry it holds under another dedup key', () => {
    const key = { clientId: 'app' as never, requestId: 10 };
    const node = follower(2, [entry(1, 1), { ...entry(2, 2), dedupKey: key }]);
    node.receive(10, a, append(2, 2, 2, [], 2)); // commit index 2
    node.takeReady();
    // A re-proposed request id it holds committed settles from its own log, without a forward.
    node.propose(11, 1, new Uint8Array([2]), key);
    const settled = node.takeReady()!;
    expect(settled.messages.filter((outbound) => outbound.message.type === 'forwardPropose')).toEqual([]);
    expect(settled.outcomes).toContainEqual({ type: 'committed', proposalId: 1, entry: { ...entry(2, 2), dedupKey: key } });
    // Another key at a held index is set aside.
    node.propose(13, 2, new Uint8Array([3]), { clientId: 'app' as never, requestId: 11 });
    const other = node.takeReady()!.messages.find((outbound) => outbound.message.type === 'forwardPropose')!.message as Extract<RaftMessage, { type: 'forwardPropose' }>;
    node.receive(14, a, { type: 'forwardProposeResponse', correlationId: other.correlationId, outcome: { type: 'appended', index: 2, term: 2 } });
    expect(node.takeReady()?.outcomes ?? []).toEqual([]);
  });

  it('refuses a forwarded command whose entry would not fit in one AppendEntries frame on its transport', () => {
    const maxPayloadBytes = 8_192;
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [], maxPayloadBytes });
    leader.tick(1_000);
    for (const voter of [b, c]) leader.receive(1_000, voter, { type: 'requestVoteResponse', term: 2, preVote: true, granted: true, denialReason: null });
    leader.receive(1_000, b, { type: 'requestVoteResponse', term: 2, preVote: false, granted: true, denialReason: null });
    expect(leader.role).toBe('leader');
    leader.takeReady();
    // Its forward frame fits the transport, its AppendEntries (a larger header) would not: appended,
    // it was resent forever and nothing after it ever committed.
    leader.receive(1_001, b, { type: 'forwardPropose', correlationId: 1, command: new Uint8Array(maxPayloadBytes - 6), dedupKey: null, proposerCommitIndex: 0 });
    expect(refusals(leader)).toEqual(['commandTooLarge']);
    expect(leader.lastIndex).toBe(1);
    // The largest command a proposer's own driver lets through is still appended.
    leader.receive(1_002, b, { type: 'forwardPropose', correlationId: 2, command: new Uint8Array(maxPayloadBytes - 1_024), dedupKey: { clientId: 'c'.repeat(256) as never, requestId: 1 }, proposerCommitIndex: 0 });
    expect(leader.lastIndex).toBe(2);
  });

  it('suspects a wedge once when a sender keeps being refused for many election timeouts', () => {
    const node = follower(2, [entry(1, 1)], { wedgeSuspicionTimeouts: 2 });
    const wedges: RaftMetric[] = [];
    for (let now = 0; now <= 2_000; now += 50) {
      node.receive(now, mallory, append(3, 1, 1, [], 0));
      wedges.push(...(node.takeReady()?.metrics ?? []).filter((metric) => metric.type === 'wedgeSuspected'));
    }
    expect(wedges).toHaveLength(1);
    expect(wedges[0]).toMatchObject({ type: 'wedgeSuspected', from: mallory, gate: 'senderNotVoter', localTerm: 2, remoteTerm: 3 });
  });

  it('counts notMember notices refused for a term jump towards a wedge: a leader sends a node outside its configuration nothing else', () => {
    const node = follower(2, [entry(1, 1)], { maxTermJump: 100, wedgeSuspicionTimeouts: 2 });
    const metrics: RaftMetric[] = [];
    for (let now = 0; now <= 2_000; now += 50) {
      node.receive(now, a, { type: 'notMember', term: 2 + 101, configIndex: 9 });
      metrics.push(...(node.takeReady()?.metrics ?? []));
    }
    expect(metrics.filter((metric) => metric.type === 'removedFromCluster')).toEqual([]);
    expect(metrics.filter((metric) => metric.type === 'wedgeSuspected')).toEqual([{ type: 'wedgeSuspected', from: a, gate: 'termJump', localTerm: 2, remoteTerm: 103, voters: [a, b, c] }]);
    expect(node.term).toBe(2);
  });

  it('refuses votes and proposals from strangers, without adopting their term', () => {
    const node = follower();
    node.receive(10_000, mallory, { type: 'requestVote', term: 3, lastLogIndex: 99, lastLogTerm: 9, preVote: false, transfer: false });
    node.receive(10_000, mallory, { type: 'forwardPropose', correlationId: 1, command: new Uint8Array([6]), dedupKey: null, proposerCommitIndex: 0 });
    expect(refusals(node)).toEqual(['senderNotVoter', 'senderNotMember']);
    expect(node.term).toBe(2);
  });

  it('a stranger answering with a higher term cannot depose a leader (found by the fuzzer)', () => {
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0, now: 0, bootstrap: { voters: [a] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    leader.tick(1_000);
    expect(leader.role).toBe('leader');
    for (const type of ['appendEntriesResponse', 'requestVoteResponse', 'installSnapshotResponse'] as const) {
      const message: RaftMessage =
        type === 'appendEntriesResponse'
          ? { type, term: 99, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0 }
          : type === 'requestVoteResponse'
            ? { type, term: 99, preVote: true, granted: false, denialReason: 'staleTerm' }
            : { type, term: 99, lastIncludedIndex: 1, nextOffset: 0, installed: false };
      leader.receive(1_001, mallory, message);
    }
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(2);
  });
});

describe('leader dedup cache', () => {
  it('coalesces a retried forward: the same dedup key is appended once and answered with the same index', () => {
    const leader = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    leader.tick(1_000);
    for (const voter of [b, c]) leader.receive(1_000, voter, { type: 'requestVoteResponse', term: 2, preVote: true, granted: true, denialReason: null });
    // Its term and vote are written before it asks for votes, as the driver does.
    leader.takeReady();
    leader.persisted(1_000, null);
    leader.receive(1_000, b, { type: 'requestVoteResponse', term: 2, preVote: false, granted: true, denialReason: null });
    expect(leader.role).toBe('leader');
    leader.takeReady();
    const forward = { type: 'forwardPropose' as const, command: new Uint8Array([1]), dedupKey: { clientId: 'client-b' as never, requestId: 9 }, proposerCommitIndex: 0 };
    leader.receive(1_001, b, { ...forward, correlationId: 1 });
    leader.receive(1_002, b, { ...forward, correlationId: 2 });
    const answers = leader.takeReady()!.messages.filter((outbound) => outbound.message.type === 'forwardProposeResponse').map((outbound) => outbound.message);
    expect(answers).toEqual([
      { type: 'forwardProposeResponse', correlationId: 1, outcome: { type: 'appended', index: 2, term: 2 } },
      { type: 'forwardProposeResponse', correlationId: 2, outcome: { type: 'appended', index: 2, term: 2 } },
    ]);
    expect(leader.lastIndex).toBe(2);
  });
});

describe('the index ceiling (SPEC "Untrusted peers", ranges)', () => {
  const unsafeEnd = Number.MAX_SAFE_INTEGER;

  /** A three-voter node made leader of term 2 by granted votes, on the given snapshot. */
  function leaderOn(snapshotMeta: SnapshotMeta): RaftCore {
    const node = new RaftCore({ id: a, config: resolveRaftConfig({}), random: () => 0, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta, entries: [] });
    node.tick(1_000);
    for (const voter of [b, c]) node.receive(1_000, voter, { type: 'requestVoteResponse', term: 2, preVote: true, granted: true, denialReason: null });
    // Its term and vote are written before it asks for votes, as the driver does.
    node.takeReady();
    node.persisted(1_000, null);
    node.receive(1_000, b, { type: 'requestVoteResponse', term: 2, preVote: false, granted: true, denialReason: null });
    expect(node.role).toBe('leader');
    return node;
  }

  it('refuses an AppendEntries whose entries would reach past it, whatever the follower holds', () => {
    const node = follower();
    node.receive(10, a, append(2, unsafeEnd - 1, 2, [entry(unsafeEnd, 2)], 0));
    node.receive(11, a, append(2, maxLogIndex, 2, [entry(maxLogIndex + 1, 2)], 0));
    expect(refusals(node)).toEqual(['outOfRange', 'outOfRange']);
    expect(node.lastIndex).toBe(2);
  });

  it('takes entries up to it', () => {
    const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: { term: 2, leaderId: a }, snapshotMeta: { lastIncludedIndex: maxLogIndex - 1, lastIncludedTerm: 2 }, entries: [] });
    node.receive(10, a, append(2, maxLogIndex - 1, 2, [entry(maxLogIndex, 2)], maxLogIndex));
    expect(refusals(node)).toEqual([]);
    expect(node.lastIndex).toBe(maxLogIndex);
  });

  it('refuses a snapshot through an index past it: as leader the node would append at 2^53 and beyond', () => {
    const node = follower();
    const meta: SnapshotMeta = { lastIncludedIndex: unsafeEnd, lastIncludedTerm: 2 };
    node.receive(10, a, { type: 'installSnapshot', term: 2, meta, totalBytes: 1, offset: 0, data: new Uint8Array([1]) });
    expect(refusals(node)).toEqual(['outOfRange']);
    expect(node.lastIndex).toBe(2);
    expect(node.compactionFloor).toBe(0);
  });

  it('refuses a read index past it: this node could never apply that far, and the read would hang', () => {
    const node = follower();
    node.receive(10, a, append(2, 2, 2, [], 2));
    node.takeReady();
    node.requestRead(11, 1);
    const request = node.takeReady()!.messages.find((outbound) => outbound.message.type === 'readIndexRequest')!.message as Extract<RaftMessage, { type: 'readIndexRequest' }>;
    node.receive(12, a, { type: 'readIndexResponse', correlationId: request.correlationId, readIndex: unsafeEnd - 1 });
    const ready = node.takeReady();
    expect(ready?.reads ?? []).toEqual([]);
    expect((ready?.metrics ?? []).filter((metric) => metric.type === 'frameRefused').map((metric) => metric.type === 'frameRefused' && metric.reason)).toEqual(['outOfRange']);
  });

  it('a leader at it (a hostile snapshot put it there) admits nothing more, and everything it sends still encodes', () => {
    const node = leaderOn({ lastIncludedIndex: maxLogIndex, lastIncludedTerm: 1 });
    expect(node.lastIndex).toBe(maxLogIndex + 1); // its no-op, exact
    node.propose(1_001, 1, new Uint8Array([1]), null);
    node.receive(1_001, b, { type: 'forwardPropose', correlationId: 5, command: new Uint8Array([2]), dedupKey: null, proposerCommitIndex: 0 });
    const ready = node.takeReady()!;
    expect(ready.outcomes).toEqual([{ type: 'failed', proposalId: 1, failure: 'overloaded' }]);
    expect(ready.messages.map((outbound) => outbound.message)).toContainEqual({ type: 'forwardProposeResponse', correlationId: 5, outcome: { type: 'busy' } });
    expect(node.lastIndex).toBe(maxLogIndex + 1);
    for (const outbound of [...ready.messages, ...ready.messagesAfterPersist]) expect(() => encodeMessage(outbound.message)).not.toThrow();
  });

  it('property: frames from the pinned leader with counters anywhere up to 2^53-1 never leave an index that cannot be incremented or a frame that cannot be encoded', () => {
    const counter = fc.oneof(fc.nat({ max: 10 }), fc.integer({ min: maxLogIndex - 3, max: maxLogIndex + 3 }), fc.integer({ min: unsafeEnd - 3, max: unsafeEnd }));
    const frame = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), prev: counter, count: fc.nat({ max: 3 }), commit: counter }),
      fc.record({ kind: fc.constant('snapshot' as const), index: counter }),
      fc.record({ kind: fc.constant('read' as const), index: counter }),
    );
    const check = (node: RaftCore): void => {
      expect(Number.isSafeInteger(node.lastIndex + 1)).toBe(true);
      const ready = node.takeReady();
      for (const outbound of [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])]) encodeMessage(outbound.message);
      if (ready !== null && (ready.entries.length > 0 || ready.snapshot !== null || ready.hardState !== null || ready.leaderForTerm !== null || ready.truncateFrom !== null)) {
        const last = ready.entries[ready.entries.length - 1];
        node.persisted(0, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
      }
    };
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 6 }), (frames) => {
        const node = follower(2, [entry(1, 1), entry(2, 2)]);
        let now = 10;
        for (const item of frames) {
          now += 1;
          if (item.kind === 'append') {
            const entries = Array.from({ length: item.count }, (_, offset) => entry(item.prev + 1 + offset, 2)).filter((made) => Number.isSafeInteger(made.index));
            node.receive(now, a, append(2, item.prev, 2, entries, item.commit));
          } else if (item.kind === 'snapshot') {
            node.receive(now, a, { type: 'installSnapshot', term: 2, meta: { lastIncludedIndex: item.index, lastIncludedTerm: 2 }, totalBytes: 1, offset: 0, data: new Uint8Array([1]) });
          } else {
            node.requestRead(now, 1);
            const request = node.takeReady()?.messages.find((outbound) => outbound.message.type === 'readIndexRequest')?.message;
            if (request?.type === 'readIndexRequest') node.receive(now, a, { type: 'readIndexResponse', correlationId: request.correlationId, readIndex: item.index });
          }
          check(node);
        }
        // Then it leads: its no-op and a proposal go after whatever it holds.
        node.tick(now + 10_000);
        check(node);
        for (const voter of [a, c]) node.receive(now + 10_000, voter, { type: 'requestVoteResponse', term: 3, preVote: true, granted: true, denialReason: null });
        check(node);
        node.receive(now + 10_000, a, { type: 'requestVoteResponse', term: 3, preVote: false, granted: true, denialReason: null });
        node.propose(now + 10_001, 9, new Uint8Array([9]), null);
        check(node);
        expect(node.role).toBe('leader');
      }),
      { numRuns: 300, seed: 20_261_201 },
    );
  });
});
