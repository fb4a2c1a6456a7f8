// A proposal waits for its entry (index i, term T) to commit. When a committed entry of a later
// term sits at or below i, the entry can never commit (terms in a log never decrease, and every
// committed entry is in the log of every later leader): the proposal settles then, even in an idle
// cluster where nothing else will ever be appended as far as index i.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, drainReady, type HarnessNode } from './core-harness.test-support.ts';
import { resolveRaftConfig } from './config.ts';
import type { RaftMetric } from './events.ts';
import type { ForwardPropose, RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { clientId, nodeId, type LogEntry, type NodeId } from './types.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
const dedupKey = { clientId: clientId('client-b'), requestId: 1 };

function append(term: number, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[], leaderCommit: number): RaftMessage {
  return { type: 'appendEntries', term, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound: 0 };
}

/** Follower b of leader a (term 2), log [1:1, 2:2] committed through 2. */
function follower(overrides = {}): RaftCore {
  const node = new RaftCore({ id: b, config: resolveRaftConfig(overrides), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: { term: 2, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2)] });
  node.receive(10, a, append(2, 2, 2, [], 2));
  drain(node);
  return node;
}

const drain = drainReady;

function forwardsIn(node: RaftCore): Array<{ to: NodeId; message: ForwardPropose }> {
  const ready = drain(node);
  const all = [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])];
  return all.filter((outbound) => outbound.message.type === 'forwardPropose').map((outbound) => ({ to: outbound.to, message: outbound.message as ForwardPropose }));
}

function refusals(metrics: readonly RaftMetric[]): string[] {
  return metrics.filter((metric): metric is Extract<RaftMetric, { type: 'frameRefused' }> => metric.type === 'frameRefused').map((metric) => metric.reason);
}

/** b proposes; a answers that it appended the command at `index` in `term`. */
function proposeAndAnswer(node: RaftCore, index: number, term: number): ForwardPropose {
  node.propose(11, 1, bytes('b'), dedupKey);
  const [sent] = forwardsIn(node);
  expect(sent?.to).toBe(a);
  node.receive(12, a, { type: 'forwardProposeResponse', correlationId: sent!.message.correlationId, outcome: { type: 'appended', index, term } });
  expect(forwardsIn(node)).toEqual([]);
  return sent!.message;
}

/** A follower with two forwards that a, leading term 2, answered out of order: appended at 6, then at 5. */
function followerWithTwoAnsweredForwards() {
  const node = follower();
  node.propose(11, 1, bytes('first'), dedupKey);
  node.propose(11, 2, bytes('second'), { ...dedupKey, requestId: 2 });
  const [first, second] = forwardsIn(node);
  node.receive(12, a, { type: 'forwardProposeResponse', correlationId: second!.message.correlationId, outcome: { type: 'appended', index: 6, term: 2 } });
  node.receive(12, a, { type: 'forwardProposeResponse', correlationId: first!.message.correlationId, outcome: { type: 'appended', index: 5, term: 2 } });
  expect(forwardsIn(node)).toEqual([]);
  return node;
}

describe('a proposal waiting on an entry a later term outlived', () => {
  it('an idle cluster: the old leader appended the forward past the new leader log; it is forwarded again once the new no-op commits', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const oldLeader = harness.leaders()[0]!;
    const [proposer, other] = [...harness.nodes.values()].filter((node) => node !== oldLeader) as [HarnessNode, HarnessNode];
    const oldTerm = oldLeader.core.term;
    const committedBefore = oldLeader.core.commitIndex;
    // The old leader's replication never arrives: what it appends now stays in its log alone.
    harness.dropWhen = (from, _to, message) => from === oldLeader.id && message.type === 'appendEntries';
    oldLeader.core.propose(harness.now, 101, bytes('l1'), null);
    oldLeader.core.propose(harness.now, 102, bytes('l2'), null);
    proposer.core.propose(harness.now, 7, bytes('f'), dedupKey);
    harness.settle();
    const answer = harness.sent.find((sent) => sent.to === proposer.id && sent.message.type === 'forwardProposeResponse')?.message;
    expect(answer).toEqual({ type: 'forwardProposeResponse', correlationId: expect.any(Number) as number, outcome: { type: 'appended', index: committedBefore + 3, term: oldTerm } });
    // The others elect a leader of a later term; its log ends below the answered index, and it
    // commits only its no-op there. Nobody proposes anything else.
    harness.advance(3_000);
    const newLeader = harness.leaders().find((node) => node.core.term > oldTerm)!;
    expect(newLeader).toBeDefined();
    expect(newLeader.core.entryAt(committedBefore + 1)?.isNoOp).toBe(true);
    const outcome = proposer.outcomes.find((item) => item.proposalId === 7);
    expect(outcome, 'the forwarded proposal is still waiting for an entry that can never commit').toBeDefined();
    expect(outcome?.type).toBe('committed');
    const committed = outcome?.type === 'committed' ? outcome.entry : undefined;
    expect(committed?.term).toBeGreaterThan(oldTerm);
    expect(committed?.dedupKey).toEqual(dedupKey);
    // Forwarded again under the same dedup key, and in the log once.
    const copies = [...Array(newLeader.core.lastIndex).keys()].map((offset) => newLeader.core.entryAt(offset + 1)).filter((item) => item?.dedupKey?.clientId === dedupKey.clientId);
    expect(copies).toHaveLength(1);
    for (const node of [proposer, other, oldLeader]) expect(node.core.commitIndex).toBe(newLeader.core.commitIndex);
    // The old leader's own proposals failed when it stepped down, as before.
    expect(oldLeader.outcomes.filter((item) => item.proposalId === 101 || item.proposalId === 102).map((item) => item.type === 'failed' && item.failure)).toEqual(['leadershipLost', 'leadershipLost']);
  });

  it('only a committed entry of a later term counts: one the current leader sent but has not committed does not', () => {
    const node = follower();
    proposeAndAnswer(node, 5, 2);
    // c leads term 3 and sends its no-op at 3. Until it commits, a node holding (5, 2) could
    // still win term 4 and commit it: forwarding again would append the command twice.
    node.receive(30, c, append(3, 2, 2, [entry(3, 3)], 2));
    expect(forwardsIn(node)).toEqual([]);
    node.receive(40, c, append(3, 3, 3, [], 3));
    const [again] = forwardsIn(node);
    expect(again?.to).toBe(c);
    expect(again?.message).toMatchObject({ command: bytes('b'), dedupKey });
    expect(node.takeReady()?.outcomes ?? []).toEqual([]);
  });

  it('settles once: the outlived wait is gone, so the later entry at its index neither re-forwards nor fails it again', () => {
    const node = follower();
    proposeAndAnswer(node, 5, 2);
    node.receive(30, c, append(3, 2, 2, [entry(3, 3)], 3));
    const [again] = [...forwardsIn(node), ...forwardsIn(node)];
    expect(again?.to).toBe(c);
    node.receive(31, c, { type: 'forwardProposeResponse', correlationId: again!.message.correlationId, outcome: { type: 'appended', index: 4, term: 3 } });
    // c commits the forward at 4 and another entry at 5, the index the first answer named.
    node.receive(40, c, append(3, 3, 3, [{ index: 4, term: 3, command: bytes('b'), isNoOp: false, dedupKey }, entry(5, 3)], 5));
    const readies = [drain(node), drain(node), drain(node)];
    const outcomes = readies.flatMap((ready) => ready?.outcomes ?? []);
    expect(outcomes.map((outcome) => [outcome.proposalId, outcome.type])).toEqual([[1, 'committed']]);
    expect(readies.flatMap((ready) => ready?.messages ?? []).filter((outbound) => outbound.message.type === 'forwardPropose')).toEqual([]);
  });

  it('forwards the outlived proposals again in index order, whatever order their answers came in', () => {
    const node = followerWithTwoAnsweredForwards();
    node.receive(30, c, append(3, 2, 2, [entry(3, 3)], 3));
    const again = [...forwardsIn(node), ...forwardsIn(node)];
    expect(again.map((sent) => sent.message.dedupKey?.requestId)).toEqual([1, 2]);
  });

  it('an answer that arrives already outlived is forwarded again at once', () => {
    const node = follower();
    node.propose(11, 1, bytes('b'), dedupKey);
    const [sent] = forwardsIn(node);
    // a, re-elected for term 3, commits its no-op at 3 before its answer about term 2 arrives.
    node.receive(20, a, append(3, 2, 2, [entry(3, 3)], 3));
    expect(forwardsIn(node)).toEqual([]);
    node.receive(21, a, { type: 'forwardProposeResponse', correlationId: sent!.message.correlationId, outcome: { type: 'appended', index: 5, term: 2 } });
    const [again] = forwardsIn(node);
    expect(again?.to).toBe(a);
    expect(again?.message.correlationId).not.toBe(sent!.message.correlationId);
  });

  it('a committed entry of a later term at the awaited index itself still settles it as before', () => {
    const node = follower();
    proposeAndAnswer(node, 3, 2);
    node.receive(30, c, append(3, 2, 2, [entry(3, 3)], 3));
    // Settled once the entry at 3 is durable here (the next ready), as before.
    const [again] = [...forwardsIn(node), ...forwardsIn(node)];
    expect(again?.to).toBe(c);
  });
});

describe('a snapshot far ahead while a forward waits', () => {
  it('settles the wait without visiting every index up to the snapshot', { timeout: 5_000 }, () => {
    // Answered out of order: the waits are taken in index order all the same.
    const node = followerWithTwoAnsweredForwards();
    // A newcomer catching up on a long-lived cluster's snapshot while its user writes (or a
    // leader lying about the index, up to the ceiling): the applicable index jumps by 2^28.
    const snapshotIndex = 2 ** 28;
    node.receive(30, a, { type: 'installSnapshot', term: 2, meta: { lastIncludedIndex: snapshotIndex, lastIncludedTerm: 2 }, totalBytes: 1, offset: 0, data: new Uint8Array([7]) });
    const ready = node.takeReady();
    expect(ready?.snapshot?.meta.lastIncludedIndex).toBe(snapshotIndex);
    node.persisted(31, null, snapshotIndex);
    const started = performance.now();
    const outcomes = node.takeReady()?.outcomes ?? [];
    expect(performance.now() - started).toBeLessThan(1_000);
    // The snapshot's last term is the one both forwards were appended in, by the same leader: both
    // committed (raft-core.ts settleAwaited), and their entries are rebuilt from the forwards.
    expect(outcomes.map((outcome) => [outcome.proposalId, outcome.type, outcome.type === 'committed' ? outcome.entry.index : null])).toEqual([
      [1, 'committed', 5],
      [2, 'committed', 6],
    ]);
  });
});

describe('a lying leader answering a forward', () => {
  it('an index this node could never hold is refused and counted; the forward is sent again later', () => {
    const node = follower();
    node.propose(11, 1, bytes('b'), dedupKey);
    const [sent] = forwardsIn(node);
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: sent!.message.correlationId, outcome: { type: 'appended', index: 2 ** 53 - 2, term: 2 } });
    expect(refusals(node.takeReady()?.metrics ?? [])).toEqual(['outOfRange']);
    node.tick(12 + 2_000);
    const [again] = forwardsIn(node);
    expect(again?.to).toBe(a);
  });

  it('a huge index under the ceiling waits only until a later term commits below it', () => {
    const node = follower();
    proposeAndAnswer(node, 2 ** 52, 2);
    node.tick(60_000);
    expect(forwardsIn(node)).toEqual([]);
    node.receive(60_001, c, append(3, 2, 2, [entry(3, 3)], 3));
    const [again] = forwardsIn(node);
    expect(again?.to).toBe(c);
  });

  it('its own term from a node not pinned for it is set aside: another may lead it', () => {
    const node = follower();
    node.propose(11, 1, bytes('b'), dedupKey);
    const [sent] = forwardsIn(node);
    // c campaigns for term 3 once a has gone quiet; b adopts the term, no leader known yet.
    node.receive(2_000, c, { type: 'requestVote', term: 3, lastLogIndex: 2, lastLogTerm: 2, preVote: false, transfer: false });
    drain(node);
    expect(node.term).toBe(3);
    // a's answer claims term 3 before b knows who leads it: not taken, not counted.
    node.receive(2_001, a, { type: 'forwardProposeResponse', correlationId: sent!.message.correlationId, outcome: { type: 'appended', index: 2 ** 40, term: 3 } });
    expect(drain(node)?.metrics ?? []).toEqual([]);
    // An older term can be honest (a leader's dedup cache): taken, and outlived once c commits.
    node.receive(2_002, a, { type: 'forwardProposeResponse', correlationId: sent!.message.correlationId, outcome: { type: 'appended', index: 2 ** 40, term: 2 } });
    expect(forwardsIn(node)).toEqual([]);
    node.receive(2_003, c, append(3, 2, 2, [entry(3, 3)], 3));
    const [again] = [...forwardsIn(node), ...forwardsIn(node)];
    expect(again?.to).toBe(c);
  });

  it('a term this node has not reached is set aside (not counted) and the forward is sent again', () => {
    const node = follower();
    node.propose(11, 1, bytes('b'), dedupKey);
    const [sent] = forwardsIn(node);
    node.receive(12, a, { type: 'forwardProposeResponse', correlationId: sent!.message.correlationId, outcome: { type: 'appended', index: 3, term: 1_000_000 } });
    expect(node.takeReady()?.metrics ?? []).toEqual([]);
    node.tick(12 + 2_000);
    const [again] = forwardsIn(node);
    expect(again?.to).toBe(a);
    // Answered in a term b knows a leads, it is taken.
    node.receive(2_020, a, { type: 'forwardProposeResponse', correlationId: again!.message.correlationId, outcome: { type: 'appended', index: 3, term: 2 } });
    node.receive(2_021, a, append(2, 2, 2, [{ index: 3, term: 2, command: bytes('b'), isNoOp: false, dedupKey }], 3));
    const outcomes = [...(drain(node)?.outcomes ?? []), ...(drain(node)?.outcomes ?? [])];
    expect(outcomes).toContainEqual({ type: 'committed', proposalId: 1, entry: { index: 3, term: 2, command: bytes('b'), isNoOp: false, dedupKey } });
  });
});
