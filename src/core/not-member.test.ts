// A node removed from the cluster must not wait forever: no leader replicates to it or answers
// it, so its proposals and reads fail with 'notMember' once it learns (from a configuration it
// holds, or from a leader's `notMember` answer) that it is outside the cluster.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import type { RaftMetric } from './events.ts';
import type { RaftMessage } from './messages.ts';
import { maxDepartedMembers, rememberDeparted } from './membership-change.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type ConfigPayload, type LogEntry, type NodeId } from './types.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const removals = (node: HarnessNode): RaftMetric[] => node.metrics.filter((metric) => metric.type === 'removedFromCluster');

const failureOf = (node: HarnessNode, proposalId: number): string | undefined => {
  const outcome = node.outcomes.find((candidate) => candidate.proposalId === proposalId);
  if (outcome === undefined) return undefined;
  return outcome.type === 'failed' ? outcome.failure : outcome.type;
};

const refusedBy = (node: HarnessNode, from: NodeId): RaftMetric[] => node.metrics.filter((metric) => metric.type === 'frameRefused' && metric.from === from);

const notMembersSentBy = (harness: CoreHarness, from: NodeId, sinceMessage = 0): Array<{ to: NodeId; message: RaftMessage }> =>
  harness.sent.slice(sinceMessage).filter((item) => item.from === from && item.message.type === 'notMember');

/** A 4-voter cluster with a leader and one follower chosen to be removed. */
function clusterWithVictim(seed: number): { harness: CoreHarness; leader: HarnessNode; victim: HarnessNode; rest: NodeId[] } {
  const harness = createCoreHarness(['a', 'b', 'c', 'd'], seed);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const victim = [...harness.nodes.values()].find((node) => node !== leader)!;
  const rest = [...harness.nodes.keys()].filter((id) => id !== victim.id);
  return { harness, leader, victim, rest };
}

/** Lets the leader remove `victim` from the voters and waits for C_new to commit. */
function removeVictim(harness: CoreHarness, leader: HarnessNode, rest: readonly NodeId[]): void {
  leader.core.changeMembership(harness.now, 1, { voters: [...rest] });
  harness.advance(300);
  expect(leader.core.membership.voters).toEqual(rest);
  expect(leader.core.membershipPayload.old).toBeNull();
}

describe('a voter removed while connected', () => {
  it('fails a new proposal and a new read at once with notMember and reports its removal once', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(3);
    removeVictim(harness, leader, rest);
    // It received C_new before the leader stopped replicating to it.
    expect(victim.core.membership.voters).toEqual(rest);
    expect(victim.core.role).toBe('learner');
    victim.core.propose(harness.now, 1, bytes('after removal'), null);
    victim.core.requestRead(harness.now, 2);
    harness.settle();
    expect(failureOf(victim, 1)).toBe('notMember');
    expect(victim.reads).toEqual([{ readId: 2, failure: 'notMember' }]);
    harness.advance(1_000);
    expect(removals(victim)).toEqual([{ type: 'removedFromCluster', toldBy: null, term: victim.core.term, configIndex: expect.any(Number) as number }]);
    for (const node of harness.nodes.values()) if (node !== victim) expect(removals(node)).toEqual([]);
  });
});

describe('a voter removed while isolated', () => {
  it('learns it from the leader answering its pre-vote, fails what it was waiting for and never campaigns for real', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(5);
    harness.isolate(victim.id);
    removeVictim(harness, leader, rest);
    // Its election timer fires while cut off: it pre-votes and forgets the leader.
    harness.advance(400);
    expect(victim.core.leader).toBeNull();
    expect(victim.core.membership.voters).toHaveLength(4);
    victim.core.propose(harness.now, 1, bytes('while isolated'), null);
    victim.core.requestRead(harness.now, 2);
    harness.advance(400);
    expect(victim.outcomes).toEqual([]);
    expect(victim.reads).toEqual([]);
    const healedAt = harness.sent.length;
    victim.core.tracing = true;
    harness.heal();
    harness.advance(400);
    expect(notMembersSentBy(harness, leader.id, healedAt).map((item) => item.to)).toContain(victim.id);
    // No leader was known, so the forward never left: it is known not to be in the log.
    expect(failureOf(victim, 1)).toBe('notMember');
    expect(victim.reads).toEqual([{ readId: 2, failure: 'notMember' }]);
    expect(removals(victim)).toEqual([{ type: 'removedFromCluster', toldBy: leader.id, term: leader.core.term, configIndex: expect.any(Number) as number }]);
    const toldAt = harness.sent.length;
    const termWhenTold = victim.core.term;
    const tracedWhenTold = victim.trace.length;
    const measuredWhenTold = victim.metrics.length;
    harness.advance(3_000);
    // Once its notice is an election timeout old it asks the voters who leads (its sender may have
    // died), a pre-vote as a question; the live leader answers each with a fresh notice, so it
    // never campaigns again: no timeout, no pre-vote of its own, no real vote (SPEC: removed nodes
    // stop campaigning). It used to pre-vote every ~450 ms.
    const questions = harness.sent.slice(toldAt).filter((item) => item.from === victim.id && item.message.type === 'requestVote');
    expect(questions.length).toBeGreaterThanOrEqual(3 * 5);
    expect(questions.every((item) => item.message.type === 'requestVote' && item.message.preVote)).toBe(true);
    expect(notMembersSentBy(harness, leader.id, toldAt).length).toBeGreaterThanOrEqual(5);
    const campaignSteps = victim.trace.slice(tracedWhenTold).filter((event) => event.type === 'timeout' || event.type === 'preVoteStarted' || event.type === 'requestVote');
    expect(campaignSteps).toEqual([]);
    expect(victim.metrics.slice(measuredWhenTold).filter((metric) => metric.type === 'electionTimedOut' || metric.type === 'electionStarted')).toEqual([]);
    expect(victim.core.term).toBe(termWhenTold);
    expect(victim.core.role).not.toBe('candidate');
    expect(removals(victim)).toHaveLength(1);
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
  });

  it('fails a proposal forwarded to the leader before the link died as removedWhileInFlight', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(5);
    harness.isolate(victim.id);
    // Right after isolation it still knows the leader, so the forward goes out (and is lost).
    victim.core.propose(harness.now, 1, bytes('lost forward'), null);
    removeVictim(harness, leader, rest);
    expect(harness.sent.some((item) => item.from === victim.id && item.message.type === 'forwardPropose')).toBe(true);
    harness.advance(400);
    harness.heal();
    harness.advance(400);
    expect(failureOf(victim, 1)).toBe('removedWhileInFlight');
  });
});

describe('a forward already with the leader when the node is removed', () => {
  it('fails as removedWhileInFlight: the outcome is unknown', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(3);
    victim.core.propose(harness.now, 1, bytes('in flight'), null);
    // The forward leaves the node and is lost on the way.
    const ready = victim.core.takeReady()!;
    expect(ready.messages.map((outbound) => [outbound.to, outbound.message.type])).toEqual([[leader.id, 'forwardPropose']]);
    removeVictim(harness, leader, rest);
    expect(victim.core.membership.voters).toEqual(rest);
    expect(failureOf(victim, 1)).toBe('removedWhileInFlight');
    expect(removals(victim)).toHaveLength(1);
  });
});

describe('who says notMember', () => {
  const stranger = nodeId('d');

  it('the leader answers a non-member forward, read and vote request; a follower answers none with notMember', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader && node.id !== stranger)!;
    const requests: RaftMessage[] = [
      { type: 'forwardPropose', correlationId: 7, command: bytes('from outside'), dedupKey: null, proposerCommitIndex: 0 },
      { type: 'readIndexRequest', correlationId: 8 },
      { type: 'requestVote', term: leader.core.term + 1, lastLogIndex: 99, lastLogTerm: leader.core.term, preVote: true, transfer: false },
    ];
    for (const request of requests) {
      const before = harness.sent.length;
      follower.core.receive(harness.now, stranger, request);
      harness.settle();
      expect(notMembersSentBy(harness, follower.id, before)).toEqual([]);
      leader.core.receive(harness.now, stranger, request);
      harness.settle();
      expect(notMembersSentBy(harness, leader.id, before)).toEqual([{ from: leader.id, to: stranger, message: { type: 'notMember', term: leader.core.term, configIndex: 0 } }]);
    }
    // Nothing from outside reached the log.
    expect(leader.core.entryAt(leader.core.commitIndex)?.isNoOp).toBe(true);
  });

  it('the leader does not tell a learner of its configuration that it is not a member', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [stranger] });
    harness.advance(200);
    const learner = harness.node('d');
    expect(learner.core.role).toBe('learner');
    const before = harness.sent.length;
    learner.core.propose(harness.now, 1, bytes('from a learner'), null);
    learner.core.requestRead(harness.now, 2);
    harness.advance(200);
    expect(notMembersSentBy(harness, leader.id, before)).toEqual([]);
    expect(failureOf(learner, 1)).toBe('committed');
    expect(learner.reads).toEqual([{ readId: 2, readIndex: expect.any(Number) as number }]);
    expect(removals(learner)).toEqual([]);
  });
});

describe('who is believed', () => {
  it('refuses a notMember from a stranger and changes nothing', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const follower = [...harness.nodes.values()].find((node) => node.core.role === 'follower')!;
    follower.core.receive(harness.now, nodeId('d'), { type: 'notMember', term: follower.core.term + 1, configIndex: 50 });
    follower.core.propose(harness.now, 1, bytes('still a member'), null);
    follower.core.requestRead(harness.now, 2);
    harness.advance(200);
    expect(follower.metrics).toContainEqual({ type: 'frameRefused', from: nodeId('d'), reason: 'senderNotMember' });
    expect(failureOf(follower, 1)).toBe('committed');
    expect(follower.reads).toEqual([{ readId: 2, readIndex: expect.any(Number) as number }]);
    expect(removals(follower)).toEqual([]);
  });

  it('ignores a notMember of a term older than its own, even from a member', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    expect(follower.core.term).toBeGreaterThan(0);
    follower.core.receive(harness.now, leader.id, { type: 'notMember', term: follower.core.term - 1, configIndex: 0 });
    follower.core.propose(harness.now, 1, bytes('still a member'), null);
    follower.core.requestRead(harness.now, 2);
    harness.advance(200);
    expect(failureOf(follower, 1)).toBe('committed');
    expect(follower.reads).toEqual([{ readId: 2, readIndex: expect.any(Number) as number }]);
    expect(removals(follower)).toEqual([]);
  });

  it('refuses (termJump) a notMember from a voter for a term beyond maxTermJump, as it refuses any frame that far ahead, and stays in the cluster', () => {
    // No leader is pinned for a term that far off, so only the term gate stands between a
    // voter's forged notice and a node that fails its own proposals and reads while its leader lives.
    const maxTermJump = 100;
    const harness = createCoreHarness(['a', 'b', 'c'], 1, ['a', 'b', 'c'], { maxTermJump });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [follower, other] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    const termBefore = follower.core.term;
    follower.core.receive(harness.now, other.id, { type: 'notMember', term: termBefore + maxTermJump + 1, configIndex: 0 });
    follower.core.propose(harness.now, 1, bytes('still a member'), null);
    follower.core.requestRead(harness.now, 2);
    harness.advance(200);
    expect(refusedBy(follower, other.id)).toEqual([{ type: 'frameRefused', from: other.id, reason: 'termJump' }]);
    expect(follower.core.term).toBe(termBefore);
    expect(failureOf(follower, 1)).toBe('committed');
    expect(follower.reads).toEqual([{ readId: 2, readIndex: expect.any(Number) as number }]);
    expect(removals(follower)).toEqual([]);
  });

  it('believes a notMember of its current term from a member (the contrast to the ones above)', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    follower.core.receive(harness.now, leader.id, { type: 'notMember', term: follower.core.term, configIndex: 0 });
    follower.core.propose(harness.now, 1, bytes('told otherwise'), null);
    harness.settle();
    expect(failureOf(follower, 1)).toBe('notMember');
    expect(removals(follower)).toEqual([{ type: 'removedFromCluster', toldBy: leader.id, term: follower.core.term, configIndex: 0 }]);
  });
});

describe('a learner is not believed', () => {
  it('refuses a notMember from a learner of its configuration, even for a newer term, and keeps campaigning when the leader is gone', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 1, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.changeMembership(harness.now, 1, { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [nodeId('d')] });
    harness.advance(200);
    const learner = nodeId('d');
    const [follower, other] = [...harness.nodes.values()].filter((node) => node !== leader && node.id !== learner) as [HarnessNode, HarnessNode];
    // The leader is gone; the learner tells both voters, every 100 ms, that they are outside a
    // configuration of the next term. Believed, they would never campaign.
    harness.isolate(leader.id);
    const termBefore = follower.core.term;
    for (let elapsed = 0; elapsed < 3_000; elapsed += 100) {
      for (const voter of [follower, other]) voter.core.receive(harness.now, learner, { type: 'notMember', term: voter.core.term + 1, configIndex: Number.MAX_SAFE_INTEGER });
      harness.advance(100);
    }
    expect(follower.metrics).toContainEqual({ type: 'frameRefused', from: learner, reason: 'notMemberNotFromLeader' });
    expect(removals(follower)).toEqual([]);
    expect(removals(other)).toEqual([]);
    const newLeader = harness.leaders().find((node) => node !== leader);
    expect(newLeader === follower || newLeader === other).toBe(true);
    expect(newLeader!.core.term).toBeGreaterThan(termBefore);
  });
});

describe('only the leader pinned for the term is believed', () => {
  it('refuses a notMember from a member that is not the leader it pinned for that term, and keeps working', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [follower, other] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    // A faulty follower claims to speak for the current term's configuration: only a leader says
    // notMember, and this term's leader is pinned, so the claim is disproved.
    follower.core.receive(harness.now, other.id, { type: 'notMember', term: follower.core.term, configIndex: 0 });
    follower.core.propose(harness.now, 1, bytes('still a member'), null);
    follower.core.requestRead(harness.now, 2);
    harness.advance(200);
    expect(follower.metrics).toContainEqual({ type: 'frameRefused', from: other.id, reason: 'notMemberNotFromLeader' });
    expect(failureOf(follower, 1)).toBe('committed');
    expect(follower.reads).toEqual([{ readId: 2, readIndex: expect.any(Number) as number }]);
    expect(removals(follower)).toEqual([]);
  });
});

describe('a notMember for term + 1 from a voter that does not lead (no leader pinned there yet)', () => {
  it('the leader ignores it: still leading, same term', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const other = [...harness.nodes.values()].find((node) => node !== leader)!;
    const term = leader.core.term;
    leader.core.receive(harness.now, other.id, { type: 'notMember', term: term + 1, configIndex: 999 });
    harness.advance(500);
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
    expect(leader.core.term).toBe(term);
  });

  // Believed by a follower (the sender is a voter: out of scope, SPEC "Untrusted peers", a voter
  // lying in well-formed ways), but it deposes and re-terms nobody, and the live leader's next
  // frame clears it.
  it('a follower keeps its term and role; the live leader clears the notice within a heartbeat', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [victim, liar] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    const term = victim.core.term;
    victim.core.receive(harness.now, liar.id, { type: 'notMember', term: term + 1, configIndex: 999 });
    // Believed until the leader's next frame: a call made now fails at once.
    victim.core.propose(harness.now, 1, bytes('x'), null);
    harness.settle();
    expect(victim.outcomes).toEqual([{ type: 'failed', proposalId: 1, failure: 'notMember' }]);
    expect(victim.core.term).toBe(term);
    expect(victim.core.role).toBe('follower');
    harness.advance(100); // one heartbeat interval
    victim.core.propose(harness.now, 2, bytes('y'), null);
    harness.advance(200);
    expect(victim.outcomes.find((outcome) => outcome.proposalId === 2)?.type).toBe('committed');
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
    expect(leader.core.term).toBe(term);
  });
});

describe('configurations from before a node was admitted', () => {
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
  const configEntry = (index: number, config: ConfigPayload): LogEntry => ({ index, term: 1, command: new Uint8Array(0), isNoOp: false, config });
  const restarted = (entries: readonly LogEntry[]): RaftCore =>
    new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [...entries] });

  it('do not make a newcomer removed: none of them ever had it in', () => {
    const core = restarted([configEntry(1, { old: null, new: { voters: [a, b, c], learners: [e] } })]);
    core.propose(0, 1, bytes('waits for a leader'), null);
    expect(core.takeReady()?.outcomes ?? []).toEqual([]);
  });

  it('a later one leaving out a node that an earlier one had in makes it removed', () => {
    const core = restarted([configEntry(1, { old: null, new: { voters: [a, b, c, d] } }), configEntry(2, { old: null, new: { voters: [a, b, c] } })]);
    core.propose(0, 1, bytes('fails at once'), null);
    const ready = core.takeReady()!;
    expect(ready.outcomes).toEqual([{ type: 'failed', proposalId: 1, failure: 'notMember' }]);
    expect(ready.metrics).toContainEqual({ type: 'removedFromCluster', toldBy: null, term: 1, configIndex: 2 });
  });

  it('a snapshot configuration that had it in counts as the earlier one when the log leaves it out', () => {
    const core = new RaftCore({
      id: d,
      config: resolveRaftConfig({}),
      random: () => 0.5,
      now: 0,
      bootstrap: { voters: [a, b, c] },
      hardState: { term: 1, votedFor: null },
      leaderPin: null,
      snapshotMeta: { lastIncludedIndex: 4, lastIncludedTerm: 1, config: { old: null, new: { voters: [a, b, c, d] } } },
      snapshotState: new Uint8Array(0),
      entries: [configEntry(5, { old: null, new: { voters: [a, b, c] } })],
    });
    core.requestRead(0, 1);
    expect(core.takeReady()?.reads).toEqual([{ readId: 1, failure: 'notMember' }]);
  });

  it('a newcomer learner catches up through them, is never reported removed, and its proposals commit', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd', 'e'], 2, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    // Two configurations without d enter the log before it is admitted.
    leader.core.changeMembership(harness.now, 1, { voters: [a, b, c], learners: [e] });
    harness.advance(200);
    leader.core.changeMembership(harness.now, 2, { voters: [a, b, c] });
    harness.advance(200);
    leader.core.changeMembership(harness.now, 3, { voters: [a, b, c], learners: [d] });
    harness.advance(300);
    const newcomer = harness.node('d');
    expect(newcomer.core.membership.learners).toEqual([d]);
    expect(newcomer.core.commitIndex).toBe(leader.core.commitIndex);
    newcomer.core.propose(harness.now, 1, bytes('from the newcomer'), null);
    harness.advance(200);
    expect(failureOf(newcomer, 1)).toBe('committed');
    expect(removals(newcomer)).toEqual([]);
    // e, on the other hand, was admitted and then removed.
    expect(removals(harness.node('e'))).toEqual([{ type: 'removedFromCluster', toldBy: null, term: leader.core.term, configIndex: expect.any(Number) as number }]);
  });
});

describe('a node told it is not a member and then re-added', () => {
  it('is a member again once the leader replicates to it: its proposals commit', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(5);
    harness.isolate(victim.id);
    removeVictim(harness, leader, rest);
    harness.advance(400);
    harness.heal();
    // Proposes as soon as the notice arrives (it lapses an election timeout later unless renewed).
    for (let waited = 0; waited < 1_000 && removals(victim).length === 0; waited += 5) harness.advance(5);
    expect(removals(victim)).toEqual([expect.objectContaining({ toldBy: leader.id })]);
    victim.core.propose(harness.now, 1, bytes('before re-admission'), null);
    harness.settle();
    expect(failureOf(victim, 1)).toBe('notMember');
    leader.core.changeMembership(harness.now, 2, { voters: [...rest, victim.id] });
    harness.advance(400);
    expect(leader.core.membership.voters).toContain(victim.id);
    expect(victim.core.membership.voters).toContain(victim.id);
    expect(victim.core.role).toBe('follower');
    victim.core.propose(harness.now, 2, bytes('after re-admission'), null);
    victim.core.requestRead(harness.now, 3);
    harness.advance(200);
    expect(failureOf(victim, 2)).toBe('committed');
    expect(victim.reads).toEqual([{ readId: 3, readIndex: expect.any(Number) as number }]);
    expect(removals(victim)).toHaveLength(1);
    // A notice from before the re-admission, delivered late, is not believed.
    victim.core.receive(harness.now, leader.id, { type: 'notMember', term: leader.core.term, configIndex: 3 });
    victim.core.propose(harness.now, 4, bytes('after a late notice'), null);
    harness.advance(200);
    expect(failureOf(victim, 4)).toBe('committed');
    expect(removals(victim)).toHaveLength(1);
  });
});

describe('a leader that removes itself', () => {
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
  const configEntry = (index: number, config: ConfigPayload): LogEntry => ({ index, term: 1, command: new Uint8Array(0), isNoOp: false, config });
  const granted = (term: number, preVote: boolean): RaftMessage => ({ type: 'requestVoteResponse', term, preVote, granted: true, denialReason: null });

  it('takes its own proposals while it leads with a configuration that leaves it out', () => {
    // d restarted with C_old,new and C_new (without d) uncommitted: it may still lead until C_new commits.
    const oldVoters = { voters: [a, b, d] };
    const newVoters = { voters: [b, c, e] };
    const core = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: oldVoters, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [configEntry(1, { old: oldVoters, new: newVoters }), configEntry(2, { old: null, new: newVoters })] });
    expect(core.membership.voters).toEqual([b, c, e]);
    core.tick(1_000);
    core.receive(1_001, b, granted(2, true));
    core.receive(1_002, c, granted(2, true));
    core.receive(1_003, b, granted(2, false));
    core.receive(1_004, c, granted(2, false));
    expect(core.role).toBe('leader');
    core.propose(1_005, 1, bytes('from the outgoing leader'), null);
    core.requestRead(1_005, 2);
    const metrics: RaftMetric[] = [];
    for (let ready = core.takeReady(); ready !== null; ready = core.takeReady()) {
      expect(ready.outcomes).toEqual([]);
      expect(ready.reads).toEqual([]);
      metrics.push(...ready.metrics);
      if (ready.hardState !== null || ready.entries.length > 0 || ready.leaderForTerm !== null) core.persisted(1_005, ready.entries.at(-1) ?? null);
    }
    expect(metrics.filter((metric) => metric.type === 'removedFromCluster')).toEqual([]);
    expect(core.entryAt(4)?.command).toEqual(bytes('from the outgoing leader'));
  });

  it('counts as outside only after it stepped down', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 7);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const others = [...harness.nodes.keys()].filter((id) => id !== leader.id);
    leader.core.changeMembership(harness.now, 1, { voters: others });
    leader.core.propose(harness.now, 1, bytes('during the change'), null);
    harness.advance(100);
    expect(leader.core.role).toBe('learner');
    expect(failureOf(leader, 1)).toBe('committed');
    expect(removals(leader)).toEqual([{ type: 'removedFromCluster', toldBy: null, term: leader.core.term, configIndex: expect.any(Number) as number }]);
    leader.core.propose(harness.now, 2, bytes('after stepping down'), null);
    harness.settle();
    expect(failureOf(leader, 2)).toBe('notMember');
  });
});

describe('a removal known from the log, and a notice, against a leader still (or no longer) there', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId];
  const configEntry = (index: number, config: ConfigPayload): LogEntry => ({ index, term: 1, command: new Uint8Array(0), isNoOp: false, config });
  const appendFromA = (prevLogIndex: number, entries: LogEntry[], leaderCommit: number): RaftMessage => ({ type: 'appendEntries', term: 1, prevLogIndex, prevLogTerm: prevLogIndex === 0 ? 0 : 1, entries, leaderCommit, readRound: 0 });

  it('a re-admitted node catching up through its own removal is not outside while the leader replicates to it', () => {
    const core = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c, d] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    // One batch ends on the configuration that removed d; the one that re-admits it comes next.
    core.receive(10, a, appendFromA(0, [configEntry(1, { old: { voters: [a, b, c, d] }, new: { voters: [a, b, c] } }), configEntry(2, { old: null, new: { voters: [a, b, c] } })], 2));
    core.propose(10, 1, bytes('while catching up'), null);
    const between = core.takeReady()!;
    expect(between.outcomes).toEqual([]);
    expect(between.metrics.filter((metric) => metric.type === 'removedFromCluster')).toEqual([]);
    core.receive(20, a, appendFromA(2, [configEntry(3, { old: null, new: { voters: [a, b, c], learners: [d] } })], 3));
    const after = core.takeReady()!;
    expect(after.outcomes).toEqual([]);
    expect(after.metrics.filter((metric) => metric.type === 'removedFromCluster')).toEqual([]);
  });

  it('the same node counts as outside once the leader stops replicating to it after its removal', () => {
    const core = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c, d] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    core.receive(10, a, appendFromA(0, [configEntry(1, { old: { voters: [a, b, c, d] }, new: { voters: [a, b, c] } }), configEntry(2, { old: null, new: { voters: [a, b, c] } })], 2));
    core.propose(10, 1, bytes('forwarded to the leader'), null);
    core.takeReady();
    // No frame from the leader for an election timeout: the removal is the last word.
    core.tick(10 + resolveRaftConfig({}).electionTimeoutMinMs);
    const ready = core.takeReady()!;
    expect(ready.outcomes).toEqual([{ type: 'failed', proposalId: 1, failure: 'removedWhileInFlight' }]);
    expect(ready.metrics).toContainEqual({ type: 'removedFromCluster', toldBy: null, term: 1, configIndex: 2 });
  });

  it('a notice its sender stops renewing lapses: the node asks who leads, and with no leader answering, campaigns again', () => {
    // d holds no configuration leaving it out (it was away when the leader removed it), so only
    // the notice keeps it from campaigning; the leader that sent it then dies.
    const core = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c, d] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    core.tracing = true;
    core.receive(10, a, appendFromA(0, [], 0));
    core.receive(11, a, { type: 'notMember', term: 1, configIndex: 2 });
    core.takeReady();
    const electionTimeoutMaxMs = resolveRaftConfig({}).electionTimeoutMaxMs;
    const steps: Array<{ at: number; questions: number; preVoteStarted: boolean }> = [];
    const renewUntil = 11 + 4 * electionTimeoutMaxMs;
    for (let now = 12; now < 11 + 10 * electionTimeoutMaxMs; now += 5) {
      core.tick(now);
      const ready = core.takeReady();
      const questions = (ready?.messages ?? []).filter((outbound) => outbound.message.type === 'requestVote' && outbound.message.preVote).length;
      const preVoteStarted = (ready?.trace ?? []).some((event) => event.type === 'preVoteStarted');
      if (questions > 0 || preVoteStarted) steps.push({ at: now, questions, preVoteStarted });
      // The leader lives until renewUntil: each question is answered with a fresh notice.
      if (questions > 0 && !preVoteStarted && now < renewUntil) core.receive(now + 1, a, { type: 'notMember', term: 1, configIndex: 2 });
      if (preVoteStarted) break;
    }
    const asked = steps.filter((step) => !step.preVoteStarted);
    const campaign = steps.find((step) => step.preVoteStarted);
    // While answered: questions to its three voters, at least one per two election timeouts, no campaign.
    expect(asked.filter((step) => step.at < renewUntil).length).toBeGreaterThanOrEqual(2);
    expect(asked.every((step) => step.questions === 3)).toBe(true);
    // Unanswered: one more question, then a pre-vote.
    const lastQuestion = asked.at(-1)!;
    expect(lastQuestion.at).toBeGreaterThanOrEqual(renewUntil);
    expect(campaign).toBeDefined();
    // Unanswered for the shortest election timeout, the notice lapses; the pre-vote comes at the
    // first election deadline after that (this test ticks every 5 ms, so the question went out
    // between two deadlines).
    const electionTimeoutMinMs = resolveRaftConfig({}).electionTimeoutMinMs;
    expect(campaign!.at - lastQuestion.at).toBeGreaterThanOrEqual(electionTimeoutMinMs);
    expect(campaign!.at - lastQuestion.at).toBeLessThanOrEqual(electionTimeoutMinMs + electionTimeoutMaxMs);
  });

  it('a notice lapses when its sender goes silent: an outgoing voter may campaign to elect the next leader', () => {
    const core = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c, d] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    // C_new removing d has reached d but is not committed there; then the leader says notMember and dies.
    core.receive(10, a, appendFromA(0, [configEntry(1, { old: { voters: [a, b, c, d] }, new: { voters: [a, b, c] } }), configEntry(2, { old: null, new: { voters: [a, b, c] } })], 1));
    core.receive(11, a, { type: 'notMember', term: 1, configIndex: 2 });
    core.propose(11, 1, bytes('told outside'), null);
    expect(core.takeReady()!.outcomes).toEqual([{ type: 'failed', proposalId: 1, failure: 'notMember' }]);
    const electionTimeoutMaxMs = resolveRaftConfig({}).electionTimeoutMaxMs;
    const preVotes: RaftMessage[] = [];
    for (let now = 12; now < 12 + 3 * electionTimeoutMaxMs; now += 5) {
      core.tick(now);
      for (const outbound of core.takeReady()?.messages ?? []) if (outbound.message.type === 'requestVote') preVotes.push(outbound.message);
    }
    // Its own log lets it campaign as an outgoing voter (C_new uncommitted there), and the teller is silent.
    expect(preVotes.length).toBeGreaterThan(0);
  });
});

describe('a voter removed while one entry short of the configuration removing it', () => {
  it('gets a farewell append once C_new commits: it learns the removal committed and ends a learner, without campaigning', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(5);
    // Every frame to the victim that carries C_new is lost until C_new commits, as if the
    // victim's link lagged just then.
    const carriesNewConfig = (message: RaftMessage): boolean => message.type === 'appendEntries' && message.entries.some((entry) => entry.config !== undefined && entry.config.old === null);
    let newConfigIndex = Number.POSITIVE_INFINITY;
    harness.dropWhen = (from, to, message) => {
      if (from !== leader.id || to !== victim.id || !carriesNewConfig(message)) return false;
      if (message.type === 'appendEntries') for (const entry of message.entries) if (entry.config?.old === null) newConfigIndex = Math.min(newConfigIndex, entry.index);
      return leader.core.commitIndex < newConfigIndex;
    };
    const sentBefore = harness.sent.length;
    removeVictim(harness, leader, rest);
    expect(newConfigIndex).toBeLessThan(Number.POSITIVE_INFINITY);
    harness.advance(2_000);
    expect(victim.core.membership.voters).toEqual(rest);
    expect(victim.core.commitIndex).toBeGreaterThanOrEqual(newConfigIndex);
    expect(victim.core.role).toBe('learner');
    // It never asked for votes: it knew itself out before its election timer ran down.
    expect(harness.sent.slice(sentBefore).filter((item) => item.from === victim.id && item.message.type === 'requestVote')).toEqual([]);
    expect(leader.core.role).toBe('leader');
    // Its answer to the farewell was expected: not refused as a stranger's.
    expect(refusedBy(leader, victim.id)).toEqual([]);
  });

  it('is told from a stranger: the leader drops a departed member’s late answer quietly and refuses the same answer from a node it never replicated to', () => {
    const { harness, leader, victim, rest } = clusterWithVictim(7);
    removeVictim(harness, leader, rest);
    harness.advance(500);
    const stranger = nodeId('e');
    const answer: RaftMessage = { type: 'appendEntriesResponse', term: leader.core.term, success: true, matchIndex: 1, conflictIndex: 0, conflictTerm: 0, readRound: 0 };
    leader.core.receive(harness.now, victim.id, answer);
    leader.core.receive(harness.now, stranger, answer);
    const metrics = leader.core.takeReady()?.metrics ?? [];
    expect(metrics.filter((metric) => metric.type === 'frameRefused')).toEqual([{ type: 'frameRefused', from: stranger, reason: 'senderNotMember' }]);
  });
});

describe('the departed members a leader remembers', () => {
  it('are bounded: past the bound the longest gone is forgotten first, and one removed again counts as the newest', () => {
    const core = { departed: new Set<NodeId>() };
    const member = (number: number): NodeId => nodeId(`member-${number}`);
    for (let number = 0; number < maxDepartedMembers; number += 1) rememberDeparted(core, member(number));
    rememberDeparted(core, member(0));
    rememberDeparted(core, member(maxDepartedMembers));
    expect(core.departed.size).toBe(maxDepartedMembers);
    expect([core.departed.has(member(0)), core.departed.has(member(1)), core.departed.has(member(maxDepartedMembers))]).toEqual([true, false, true]);
  });
});

