// A retried request is answered with the entry that took effect even once that entry is behind a
// snapshot (compacted-keys.ts), and a leader's own proposals it adopted from its pending forwards
// are found again when the application proposes them once more. Before 2026-12-02 (morning) each
// of these cases appended the command a second time: harmless for the state (the session table
// skips the copy) but the proposer was acknowledged at the skipped copy. The kv simulation counted
// 35 such copies over seeds 99001-99400; these cases were 29 of them.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, drainReady, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { resolveRaftConfig } from './config.ts';
import { bytes, committedIndexOf, copiesOf, forwardAnsweredNever, forwardsIn, key, settledOf } from './dedup-scenarios.test-support.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { ProposalOutcome } from './ready.ts';
import { clientId, nodeId, type DedupKey, type LogEntry, type NodeId } from './types.ts';

/** Compacts a node's log through its commit index, as an application publishing a snapshot does. */
const compact = (harness: CoreHarness, node: HarnessNode): void => {
  expect(node.core.publishSnapshot(harness.now, node.core.commitIndex, bytes('state'))).toBe(true);
  harness.settle();
};

describe('a retry whose entry the leader compacted away', () => {
  it('the proposer’s forward, retried to the leader that compacted the original, is acknowledged at the original, appended once', () => {
    const { harness, leader, proposer, original } = forwardAnsweredNever();
    // One more entry, so the original is behind the snapshot's own index (whose term the log keeps).
    leader.core.propose(harness.now, 12, bytes('later'), null);
    harness.advance(100);
    compact(harness, leader);
    expect(leader.core.compactionFloor).toBeGreaterThan(original);
    const lastBefore = leader.core.lastIndex;
    harness.advance(2_000); // the forward is retried after an election timeout
    expect(committedIndexOf(proposer.outcomes, 11)).toBe(original);
    expect(copiesOf(leader, key)).toEqual([]);
    expect(leader.core.lastIndex).toBe(lastBefore); // nothing appended: the cluster stayed idle
  });

  it('a follower that compacted the original and then wins an election answers the retry with it', () => {
    const { harness, leader, proposer, other, original } = forwardAnsweredNever();
    compact(harness, other);
    harness.isolate(leader.id);
    harness.dropWhen = (from, _to, message) => from === proposer.id && message.type === 'requestVote';
    harness.advance(1_500);
    harness.dropWhen = null;
    expect(harness.leaders().filter((node) => node !== leader)).toEqual([other]);
    harness.advance(2_000);
    expect(committedIndexOf(proposer.outcomes, 11)).toBe(original);
    expect(copiesOf(other, key)).toEqual([]);
    expect(copiesOf(proposer, key)).toEqual([original]);
  });

  it('a leader’s own durable request replayed after it compacted the entry is committed at once at the original index', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.propose(harness.now, 31, bytes('increment'), key);
    harness.advance(100);
    const original = committedIndexOf(leader.outcomes, 31);
    expect(original).toBeDefined();
    compact(harness, leader);
    const lastBefore = leader.core.lastIndex;
    leader.core.propose(harness.now, 32, bytes('increment'), key);
    harness.settle();
    expect(settledOf(leader.outcomes, 32)).toEqual({ type: 'committed', proposalId: 32, entry: { index: original, term: leader.core.term, command: bytes('increment'), isNoOp: false, dedupKey: key } });
    expect(leader.core.lastIndex).toBe(lastBefore);
  });

  it('a request under another key is appended as usual after a compaction', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.propose(harness.now, 41, bytes('one'), key);
    harness.advance(100);
    compact(harness, leader);
    const next = { ...key, requestId: 8 };
    leader.core.propose(harness.now, 42, bytes('two'), next);
    harness.advance(100);
    expect(copiesOf(leader, next)).toHaveLength(1);
    expect(committedIndexOf(leader.outcomes, 42)).toBe(copiesOf(leader, next)[0]);
  });
});

describe('a leader’s own forward it adopted when elected', () => {
  it('proposed again by the application while it leads, waits on the adopted entry instead of appending a copy', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const oldLeader = harness.leaders()[0]!;
    const [proposer, other] = [...harness.nodes.values()].filter((node) => node !== oldLeader) as [HarnessNode, HarnessNode];
    // The forward never arrives; the proposer then wins the next election and appends it itself.
    harness.dropWhen = (_from, _to, message) => message.type === 'forwardPropose';
    proposer.core.propose(harness.now, 51, bytes('claim task 9'), key);
    harness.advance(50);
    harness.isolate(oldLeader.id);
    harness.dropWhen = (from, _to, message) => from === other.id && message.type === 'requestVote';
    harness.advance(1_500);
    harness.dropWhen = null;
    expect(harness.leaders().filter((node) => node !== oldLeader)).toEqual([proposer]);
    const [adopted] = copiesOf(proposer, key);
    expect(adopted).toBeDefined();
    // The application's call timed out meanwhile; it proposes the request again.
    proposer.core.propose(harness.now, 52, bytes('claim task 9'), key);
    harness.advance(200);
    expect(copiesOf(proposer, key)).toEqual([adopted]);
    expect(committedIndexOf(proposer.outcomes, 51)).toBe(adopted);
    expect(committedIndexOf(proposer.outcomes, 52)).toBe(adopted);
  });
});

// ---- a proposer whose own snapshot covers the entry a leader's answer names ----

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];


/**
 * Follower b restarted from a snapshot through index 6 (term 3): it remembers no keys of the
 * entries behind it. Its leader pin is `pin`; a heartbeat from a in term 3 makes a its leader.
 */
function restartedBehindSnapshot(pin: { term: number; leaderId: NodeId }, term = 3): RaftCore {
  const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term, votedFor: null }, leaderPin: pin, snapshotMeta: { lastIncludedIndex: 6, lastIncludedTerm: 3, config: { old: null, new: { voters: [a, b, c] } } }, entries: [] });
  const heartbeat: RaftMessage = { type: 'appendEntries', term, prevLogIndex: 6, prevLogTerm: 3, entries: [], leaderCommit: 6, readRound: 0 };
  node.receive(10, a, heartbeat);
  drainReady(node);
  return node;
}

describe('a proposer told its request is an entry behind its own snapshot', () => {
  it('takes the word of the leader pinned for the current term: committed at that entry, rebuilt from the request', () => {
    const node = restartedBehindSnapshot({ term: 3, leaderId: a });
    node.propose(11, 5, bytes('increment'), key);
    const [forward] = forwardsIn(drainReady(node));
    expect(forward?.dedupKey).toEqual(key);
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: forward!.correlationId, outcome: { type: 'appended', index: 4, term: 2 } });
    const outcomes = drainReady(node)?.outcomes ?? [];
    expect(outcomes).toEqual([{ type: 'committed', proposalId: 5, entry: { index: 4, term: 2, command: bytes('increment'), isNoOp: false, dedupKey: key } }]);
  });

  it('sets aside such an answer from a leader deposed since, and from the current one when it names a term ahead', () => {
    const node = restartedBehindSnapshot({ term: 3, leaderId: a });
    node.propose(11, 5, bytes('increment'), key);
    const [first] = forwardsIn(drainReady(node));
    expect(first).toBeDefined();
    // A newer term starts (c campaigns; a transfer's vote request is never denied as leader-alive)
    // before a's answer arrives: a no longer leads, and nothing here can check its claim.
    node.receive(11, c, { type: 'requestVote', term: 4, lastLogIndex: 6, lastLogTerm: 3, preVote: false, transfer: true });
    drainReady(node);
    expect(node.term).toBe(4);
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: first!.correlationId, outcome: { type: 'appended', index: 4, term: 2 } });
    expect(drainReady(node)?.outcomes ?? []).toEqual([]);
    // c leads term 4; the forward goes to it, which names an entry of a term not reached yet.
    node.receive(13, c, { type: 'appendEntries', term: 4, prevLogIndex: 6, prevLogTerm: 3, entries: [], leaderCommit: 6, readRound: 0 });
    const [second] = forwardsIn(drainReady(node));
    expect(second?.dedupKey).toEqual(key);
    node.receive(14, c, { type: 'forwardProposeResponse', correlationId: second!.correlationId, outcome: { type: 'appended', index: 4, term: 5 } });
    expect(drainReady(node)?.outcomes ?? []).toEqual([]);
    // Nor a term above the snapshot's (3, at index 6): terms never decrease along a log.
    node.receive(320, c, { type: 'appendEntries', term: 4, prevLogIndex: 6, prevLogTerm: 3, entries: [], leaderCommit: 6, readRound: 0 });
    drainReady(node);
    node.tick(330); // an election timeout after it was sent, the forward goes again
    const [retried] = forwardsIn(drainReady(node));
    expect(retried?.dedupKey).toEqual(key);
    node.receive(331, c, { type: 'forwardProposeResponse', correlationId: retried!.correlationId, outcome: { type: 'appended', index: 4, term: 4 } });
    expect(drainReady(node)?.outcomes ?? []).toEqual([]);
    // Its honest answer is taken.
    node.tick(2_000);
    const [third] = forwardsIn(drainReady(node));
    expect(third?.dedupKey).toEqual(key);
    node.receive(2_001, c, { type: 'forwardProposeResponse', correlationId: third!.correlationId, outcome: { type: 'appended', index: 4, term: 2 } });
    expect(drainReady(node)?.outcomes.map((outcome) => outcome.type)).toEqual(['committed']);
  });

  it('does not take a late answer as committed because a snapshot installed since covers its index', () => {
    // b forwards to a in term 1; a appends the request at 4 and answers, but the answer is slow.
    // Meanwhile b, cut off, misses term 2, in which the entry was overwritten, and hears a lead
    // again in term 3 (so its forward stays with a), and installs a's snapshot through 6. The
    // answer (4, term 1) then names an entry the snapshot says nothing about: the outcome is
    // unknown, never committed.
    const plainEntry = (index: number, term: number) => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
    const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: { term: 1, leaderId: a }, snapshotMeta: null, entries: [plainEntry(1, 1), plainEntry(2, 1)] });
    node.receive(10, a, { type: 'appendEntries', term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 2, readRound: 0 });
    drainReady(node);
    node.propose(11, 5, bytes('increment'), key);
    const [forward] = forwardsIn(drainReady(node));
    expect(forward).toBeDefined();
    node.receive(13, a, { type: 'installSnapshot', term: 3, meta: { lastIncludedIndex: 6, lastIncludedTerm: 3, config: { old: null, new: { voters: [a, b, c] } } }, totalBytes: 1, offset: 0, data: new Uint8Array([9]) });
    drainReady(node);
    expect(node.compactionFloor).toBe(6);
    expect(node.leader).toBe(a);
    node.receive(14, a, { type: 'forwardProposeResponse', correlationId: forward!.correlationId, outcome: { type: 'appended', index: 4, term: 1 } });
    const outcomes = drainReady(node)?.outcomes ?? [];
    expect(outcomes.filter((outcome) => outcome.type === 'committed')).toEqual([]);
  });

  it('settles at the entry it remembers for the request, without asking the leader, and refuses a claim its memory disproves', () => {
    const other = { clientId: clientId('client-q'), requestId: 1 };
    const entry = (index: number, dedupKey?: DedupKey): LogEntry => ({ index, term: 3, command: dedupKey === key ? bytes('increment') : new Uint8Array([index]), isNoOp: false, ...(dedupKey === undefined ? {} : { dedupKey }) });
    const compactedFollower = (entries: LogEntry[]): RaftCore => {
      const node = new RaftCore({ id: b, config: resolveRaftConfig({ snapshotTrailingEntries: 0 }), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries });
      node.receive(10, a, { type: 'appendEntries', term: 3, prevLogIndex: 6, prevLogTerm: 3, entries: [], leaderCommit: 6, readRound: 0 });
      drainReady(node);
      expect(node.publishSnapshot(11, 6, bytes('state'))).toBe(true);
      drainReady(node);
      expect(node.compactionFloor).toBe(6);
      return node;
    };
    const answer = (node: RaftCore, index: number): ProposalOutcome[] => {
      node.propose(20, 5, bytes('increment'), key);
      const ready = drainReady(node);
      const [forward] = forwardsIn(ready);
      // A request it remembers is settled at once; only the others go to the leader.
      if (forward === undefined) return (ready?.outcomes ?? []).filter((outcome) => outcome.type !== 'accepted');
      node.receive(21, a, { type: 'forwardProposeResponse', correlationId: forward.correlationId, outcome: { type: 'appended', index, term: 3 } });
      return (drainReady(node)?.outcomes ?? []).filter((outcome) => outcome.type !== 'accepted');
    };
    // Index 4 carried another request, which this node compacted and remembers: disproved.
    expect(answer(compactedFollower([entry(1), entry(2), entry(3), entry(4, other), entry(5), entry(6)]), 4)).toEqual([]);
    // An entry without a key, and every key from 1 through the floor remembered: disproved too.
    expect(answer(compactedFollower([entry(1), entry(2), entry(3), entry(4), entry(5), entry(6)]), 4)).toEqual([]);
    // The request itself is remembered at 5: it settles there, where it took effect, without a forward.
    expect(answer(compactedFollower([entry(1), entry(2), entry(3), entry(4), entry(5, key), entry(6)]), 4)).toEqual([{ type: 'committed', proposalId: 5, entry: { index: 5, term: 3, command: bytes('increment'), isNoOp: false, dedupKey: key } }]);
    // Committed twice (the copy no member remembering the original appended): the first counts.
    expect(answer(compactedFollower([entry(1), entry(2), entry(3, key), entry(4), entry(5, key), entry(6)]), 5)).toEqual([{ type: 'committed', proposalId: 5, entry: { index: 3, term: 3, command: bytes('increment'), isNoOp: false, dedupKey: key } }]);
  });
});

describe('a key proposed again with another command after its entry was compacted', () => {
  it('is not taken for the compacted entry (whose command it would report): the leader appends it', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.propose(harness.now, 31, bytes('increment'), key);
    harness.advance(100);
    const original = committedIndexOf(leader.outcomes, 31)!;
    compact(harness, leader);
    leader.core.propose(harness.now, 33, bytes('decrement'), key);
    harness.advance(100);
    const settled = settledOf(leader.outcomes, 33);
    expect(settled?.type).toBe('committed');
    if (settled?.type !== 'committed') return;
    expect(settled.entry.index).toBeGreaterThan(original);
    expect(settled.entry.command).toEqual(bytes('decrement'));
    expect(leader.core.entryAt(settled.entry.index)?.command).toEqual(bytes('decrement'));
  });
});

describe('a proposer that never held its entry, behind a snapshot of a later term', () => {
  it('forwards afresh and settles at the original entry the new leader remembers', () => {
    // P's forward is appended at i by L and committed, but P gets neither the entries nor the
    // answer; cut off, P misses L handing over to Q, which writes on and compacts past i. Back,
    // P installs Q's snapshot (a later term than i's) and Q answers its retry with i.
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [proposer, next] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    harness.dropWhen = (_from, to, message) => message.type === 'forwardProposeResponse' || (to === proposer.id && message.type !== 'forwardPropose');
    proposer.core.propose(harness.now, 11, bytes('claim task 4'), key);
    harness.advance(100);
    const [original] = copiesOf(leader, key);
    expect(original).toBeDefined();
    expect(proposer.core.lastIndex).toBeLessThan(original!);
    const originalTerm = leader.core.term;
    harness.dropWhen = null;
    harness.isolate(proposer.id);
    leader.core.transferLeadership(harness.now, 1, next.id);
    harness.advance(300);
    expect(next.core.role).toBe('leader');
    for (let write = 0; write < 5; write += 1) next.core.propose(harness.now, 100 + write, bytes(`write ${write}`), null);
    harness.advance(100);
    compact(harness, next);
    compact(harness, leader);
    expect(next.core.term).toBeGreaterThan(originalTerm);
    harness.heal();
    harness.advance(5_000);
    expect(proposer.snapshots.length).toBeGreaterThan(0);
    expect(settledOf(proposer.outcomes, 11)).toEqual({ type: 'committed', proposalId: 11, entry: { index: original, term: originalTerm, command: bytes('claim task 4'), isNoOp: false, dedupKey: key } });
    expect(copiesOf(next, key)).toEqual([]);
  });
});
