// A proposal whose entry a leader appended, and maybe committed, but whose answer never reached
// the proposer is retried under the same dedup key: by the proposer's forward retry, by a new
// leader adopting its own pending forwards, or by the application re-proposing a durable request
// id after a LeadershipLostError. A leader elected since holds the entry (it was replicated to
// it), so it must answer the retry with that entry, not append the command a second time: the
// application's session table would skip the copy, and the proposer's acknowledgement would name
// the skipped copy's index instead of the entry that took effect (helper-49's browser campaign
// counted 247 such acknowledgements in 28,868, 2026-12-01).
import { describe, expect, it } from 'vitest';
import { createCoreHarness, drainReady, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { resolveRaftConfig } from './config.ts';
import { bytes, committedIndexOf, copiesOf, forwardAnsweredNever, forwardsIn, key } from './dedup-scenarios.test-support.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

/**
 * The forward of forwardAnsweredNever; then the leader is cut off and `winner` ('proposer' or
 * 'other') is the only one allowed to win the next election.
 */
function forwardAnsweredNeverThenElection(winner: 'proposer' | 'other') {
  const { harness, leader: oldLeader, proposer, other, original } = forwardAnsweredNever();
  harness.isolate(oldLeader.id);
  const loser = winner === 'proposer' ? other : proposer;
  harness.dropWhen = (from, _to, message) => from === loser.id && message.type === 'requestVote';
  harness.advance(1_500);
  const newLeader = harness.leaders().find((node) => node !== oldLeader)!;
  expect(newLeader).toBe(winner === 'proposer' ? proposer : other);
  return { harness, proposer, other, newLeader, original };
}

function expectOneCopyEverywhere(harness: CoreHarness, oldLeaderExcluded: HarnessNode, original: number): void {
  for (const node of harness.nodes.values()) if (node !== oldLeaderExcluded) expect(copiesOf(node, key)).toEqual([original]);
}

describe('a new leader answers a retried proposal with the entry it inherited', () => {
  it('the proposer’s forward, retried to a follower that became leader, is acknowledged at the original entry, appended once', () => {
    const { harness, proposer, other, original } = forwardAnsweredNeverThenElection('other');
    harness.advance(2_000);
    expect(committedIndexOf(proposer.outcomes, 11)).toBe(original);
    expectOneCopyEverywhere(harness, harness.nodes.get([...harness.nodes.keys()].find((id) => id !== proposer.id && id !== other.id)!)!, original);
  });

  it('a proposer that becomes leader itself waits on the entry its log holds instead of appending its pending forward again', () => {
    const { harness, proposer, other, original } = forwardAnsweredNeverThenElection('proposer');
    harness.advance(200);
    expect(committedIndexOf(proposer.outcomes, 11)).toBe(original);
    expect(copiesOf(proposer, key)).toEqual([original]);
    expect(copiesOf(other, key)).toEqual([original]);
  });

  it('a durable request re-proposed on the new leader after a LeadershipLostError waits on the entry the old term appended', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const oldLeader = harness.leaders()[0]!;
    // The old leader appends and replicates, but never hears its followers' answers: it cannot
    // commit, and its proposal fails when it steps down. The entry is on all three logs.
    harness.dropWhen = (_from, to, message) => to === oldLeader.id && message.type === 'appendEntriesResponse';
    oldLeader.core.propose(harness.now, 21, bytes('increment'), key);
    harness.advance(20);
    const [original] = copiesOf(oldLeader, key);
    for (const node of harness.nodes.values()) expect(copiesOf(node, key)).toEqual([original]);
    harness.isolate(oldLeader.id);
    harness.dropWhen = null;
    harness.advance(1_500);
    harness.heal();
    harness.advance(1_500);
    expect(oldLeader.outcomes.find((item) => item.proposalId === 21)).toMatchObject({ type: 'failed', failure: 'leadershipLost' });
    // The application replays the request id wherever it runs now; here, on the leader.
    const leader = harness.leaders()[0]!;
    leader.core.propose(harness.now, 22, bytes('increment'), key);
    harness.advance(200);
    expect(committedIndexOf(leader.outcomes, 22)).toBe(original);
    for (const node of harness.nodes.values()) expect(copiesOf(node, key)).toEqual([original]);
  });
});

describe('a leader asked again for a request it appended', () => {
  it('its own proposal retried under the same key (the caller timed out) waits on the first entry', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    // The followers are cut off: the entry cannot commit, and the application's call times out.
    harness.isolate(leader.id);
    leader.core.propose(harness.now, 31, bytes('increment'), key);
    harness.advance(20);
    leader.core.propose(harness.now, 32, bytes('increment'), key);
    expect(copiesOf(leader, key)).toHaveLength(1);
    harness.heal();
    // Frames dropped while cut off are sent again once their answers are overdue.
    harness.advance(1_000);
    expect(leader.core.role).toBe('leader');
    const [first] = copiesOf(leader, key);
    expect(committedIndexOf(leader.outcomes, 31)).toBe(first);
    expect(committedIndexOf(leader.outcomes, 32)).toBe(first);
    for (const node of harness.nodes.values()) expect(copiesOf(node, key)).toEqual([first]);
  });
});

describe('a leader’s own requests numbered out of order', () => {
  it('a lower request id it never appended is appended, not taken for a retry of a higher one', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const later = { ...key, requestId: 9 };
    const earlier = { ...key, requestId: 8 };
    leader.core.propose(harness.now, 41, bytes('nine'), later);
    leader.core.propose(harness.now, 42, bytes('eight'), earlier);
    harness.advance(100);
    const [nine] = copiesOf(leader, later);
    const [eight] = copiesOf(leader, earlier);
    expect(eight).toBe(nine! + 1);
    expect(committedIndexOf(leader.outcomes, 41)).toBe(nine);
    expect(committedIndexOf(leader.outcomes, 42)).toBe(eight);
  });
});

// ---- the proposer's check of a leader's answer naming an entry it already knows committed ----

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const plain = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

const drain = drainReady;


/** Follower b of leader a (term 3); its committed log holds `held` at index 3. */
function followerHolding(held: LogEntry): RaftCore {
  const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries: [plain(1, 1), plain(2, 2), held, plain(4, 3)] });
  const heartbeat: RaftMessage = { type: 'appendEntries', term: 3, prevLogIndex: 4, prevLogTerm: 3, entries: [], leaderCommit: 4, readRound: 0 };
  node.receive(10, a, heartbeat);
  drain(node);
  return node;
}

describe('a proposer told its re-proposed request is an entry it already holds committed', () => {
  it('settles committed at that entry, without asking the leader, when its log shows the request’s own dedup key and command', () => {
    const node = followerHolding({ index: 3, term: 2, command: bytes('increment'), isNoOp: false, dedupKey: key });
    node.propose(11, 5, bytes('increment'), key);
    const ready = drain(node);
    expect(forwardsIn(ready)).toEqual([]);
    expect(ready?.outcomes.filter((outcome) => outcome.type !== 'accepted')).toEqual([{ type: 'committed', proposalId: 5, entry: { index: 3, term: 2, command: bytes('increment'), isNoOp: false, dedupKey: key } }]);
  });

  it('settles at the first of two committed copies, where the request took effect (the session table skips the copy)', () => {
    const keyed = (index: number, term: number): LogEntry => ({ index, term, command: bytes('increment'), isNoOp: false, dedupKey: key });
    const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries: [plain(1, 1), plain(2, 2), keyed(3, 2), plain(4, 3), keyed(5, 3), plain(6, 3)] });
    node.receive(10, a, { type: 'appendEntries', term: 3, prevLogIndex: 6, prevLogTerm: 3, entries: [], leaderCommit: 6, readRound: 0 });
    drain(node);
    node.propose(11, 5, bytes('increment'), key);
    const ready = drain(node);
    expect(forwardsIn(ready)).toEqual([]);
    expect(ready?.outcomes.filter((outcome) => outcome.type === 'committed').map((outcome) => outcome.type === 'committed' && outcome.entry.index)).toEqual([3]);
  });

  it('asks the leader when the committed entry is not on its own disk yet (an install could replace it first), and never reports it lost', () => {
    const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries: [plain(1, 1), plain(2, 2)] });
    const received: LogEntry[] = [plain(3, 3), plain(4, 3), { index: 5, term: 3, command: bytes('increment'), isNoOp: false, dedupKey: key }, plain(6, 3)];
    node.receive(10, a, { type: 'appendEntries', term: 3, prevLogIndex: 2, prevLogTerm: 2, entries: received, leaderCommit: 6, readRound: 0 });
    const readies = [node.takeReady()]; // taken, not persisted: its write is still in flight
    node.propose(11, 5, bytes('increment'), key);
    readies.push(node.takeReady());
    expect(forwardsIn(readies[1]!).map((forward) => forward.dedupKey)).toEqual([key]);
    node.receive(12, a, { type: 'installSnapshot', term: 3, meta: { lastIncludedIndex: 8, lastIncludedTerm: 3, config: { old: null, new: { voters: [a, b, c] } } }, totalBytes: 1, offset: 0, data: new Uint8Array([0]) });
    readies.push(node.takeReady());
    node.persisted(13, { index: 6, term: 3 }, 0);
    readies.push(node.takeReady());
    node.persisted(14, null, 8);
    readies.push(node.takeReady());
    const outcomes = readies.flatMap((ready) => ready?.outcomes ?? []);
    expect(outcomes.filter((outcome) => outcome.type === 'failed')).toEqual([]);
  });

  it('settles committed at that entry when the leader names it, where the entry is older than its own look-back', () => {
    const newer = Array.from({ length: 5_000 }, (_, offset) => plain(5 + offset, 3));
    const node = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 3, votedFor: null }, leaderPin: { term: 3, leaderId: a }, snapshotMeta: null, entries: [plain(1, 1), plain(2, 2), { index: 3, term: 2, command: bytes('increment'), isNoOp: false, dedupKey: key }, plain(4, 3), ...newer] });
    node.receive(10, a, { type: 'appendEntries', term: 3, prevLogIndex: 5_004, prevLogTerm: 3, entries: [], leaderCommit: 5_004, readRound: 0 });
    drain(node);
    node.propose(11, 5, bytes('increment'), key);
    const [forward] = forwardsIn(drain(node));
    expect(forward?.dedupKey).toEqual(key);
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: forward!.correlationId, outcome: { type: 'appended', index: 3, term: 2 } });
    const outcomes = drain(node)?.outcomes ?? [];
    expect(outcomes).toEqual([{ type: 'committed', proposalId: 5, entry: { index: 3, term: 2, command: bytes('increment'), isNoOp: false, dedupKey: key } }]);
  });

  it('sets the answer aside when the committed entry it names is another request’s, and forwards again later', () => {
    const node = followerHolding({ index: 3, term: 2, command: bytes('other'), isNoOp: false, dedupKey: { ...key, requestId: 6 } });
    node.propose(11, 5, bytes('increment'), key);
    const [forward] = forwardsIn(drain(node));
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: forward!.correlationId, outcome: { type: 'appended', index: 3, term: 2 } });
    expect(drain(node)?.outcomes ?? []).toEqual([]);
    node.tick(2_000);
    expect(forwardsIn(drain(node)).map((message) => message.dedupKey)).toEqual([key]);
  });
});

// ---- a leader that steps down forgets its cache of forwarded requests, and loses nothing by it ----

describe('a leader that steps down', () => {
  /** The leader's private cache of forwarded requests (no public way shows its size). */
  const cacheSize = (node: HarnessNode): number => (node.core as unknown as { core: { leaderDedupCache: { size: number } } }).core.leaderDedupCache.size;

  /** Leadership goes from `leader` to `other` and back; the cache is checked empty in between. */
  function awayAndBack(harness: CoreHarness, leader: HarnessNode, other: HarnessNode, transferId: number): void {
    leader.core.transferLeadership(harness.now, transferId, other.id);
    harness.advance(300);
    expect(other.core.role).toBe('leader');
    expect(leader.core.role).toBe('follower');
    expect(cacheSize(leader)).toBe(0);
    other.core.transferLeadership(harness.now, transferId + 1, leader.id);
    harness.advance(300);
    expect(leader.core.role).toBe('leader');
  }

  it('forgets the forwarded requests it cached, and led again still answers a retried one with the entry it appended', () => {
    const { harness, leader, proposer, other, original } = forwardAnsweredNever();
    expect(cacheSize(leader)).toBeGreaterThan(0);
    awayAndBack(harness, leader, other, 61);
    // Refilled from its log when it took over again.
    expect(cacheSize(leader)).toBeGreaterThan(0);
    // The proposer's answer never came: the application replays the request on the leader.
    leader.core.propose(harness.now, 63, bytes('claim task 4'), key);
    harness.advance(200);
    expect(committedIndexOf(leader.outcomes, 63)).toBe(original);
    for (const node of [leader, proposer, other]) expect(copiesOf(node, key)).toEqual([original]);
  });

  it('led again, it answers the proposer’s own forward, retried to it, with the entry it appended', () => {
    const { harness, leader, proposer, other, original } = forwardAnsweredNever();
    // Every answer to the forward is lost until leadership has gone away and come back.
    harness.dropWhen = (_from, _to, message) => message.type === 'forwardProposeResponse';
    awayAndBack(harness, leader, other, 71);
    harness.dropWhen = null;
    // The proposer's next retry reaches the leader again, which answers it from its refilled cache.
    harness.advance(2_000);
    expect(committedIndexOf(proposer.outcomes, 11)).toBe(original);
    for (const node of [leader, proposer, other]) expect(copiesOf(node, key)).toEqual([original]);
  });
});
