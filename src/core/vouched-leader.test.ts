// A node takes a leader its configuration does not list when a voter it knows names that leader
// for its term in a vote denial (elections.ts, followVouchedLeader), and only then: not on the
// word of a learner, not for a term older than its own, not over a leader already pinned.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array(0), isNoOp: true });

/** c: a voter of {a, b, c} with d a learner, at term 3, following no one. */
function voterThatMissedAPromotion(leaderPin: { term: number; leaderId: NodeId } | null = null): RaftCore {
  return new RaftCore({ id: c, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c], learners: [d] }, hardState: { term: 3, votedFor: null }, leaderPin, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3)] });
}

const denial = (term: number, leader: NodeId): RaftMessage => ({ type: 'requestVoteResponse', term, preVote: true, granted: false, denialReason: 'leaderAlive', leader });
const heartbeat = (term: number): RaftMessage => ({ type: 'appendEntries', term, prevLogIndex: 2, prevLogTerm: 3, entries: [], leaderCommit: 2, readRound: 0 });

/** Whether c takes d's heartbeat of `term` (it answers it) rather than refusing it. */
function takesHeartbeatFromD(core: RaftCore, term: number): boolean {
  core.takeReady();
  core.receive(10, d, heartbeat(term));
  const ready = core.takeReady();
  return core.leader === d && [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].some((outbound) => outbound.to === d && outbound.message.type === 'appendEntriesResponse');
}

describe('a leader vouched for by a voter', () => {
  it('without a vouch, the frames of a leader the configuration does not list are refused', () => {
    expect(takesHeartbeatFromD(voterThatMissedAPromotion(), 5)).toBe(false);
  });

  it('named by a voter for a later term: c moves to that term, pins the leader (persisted) and follows it', () => {
    const core = voterThatMissedAPromotion();
    core.receive(5, b, denial(5, d));
    const ready = core.takeReady();
    expect(core.term).toBe(5);
    expect(ready?.leaderForTerm).toEqual({ term: 5, leaderId: d });
    expect(ready?.hardState).toEqual({ term: 5, votedFor: null });
    expect(takesHeartbeatFromD(core, 5)).toBe(true);
  });

  it('named by a learner (not a voter of c configuration): ignored', () => {
    const core = new RaftCore({ id: c, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c], learners: [d, nodeId('e')] }, hardState: { term: 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3)] });
    core.receive(5, nodeId('e'), denial(5, d));
    expect(core.takeReady()?.leaderForTerm ?? null).toBeNull();
    expect(takesHeartbeatFromD(core, 5)).toBe(false);
  });

  it('for a term older than c own: ignored', () => {
    const core = voterThatMissedAPromotion();
    core.receive(5, b, denial(2, d));
    expect(core.term).toBe(3);
    expect(takesHeartbeatFromD(core, 3)).toBe(false);
  });

  it('for a term whose leader c already pinned: the pin stands', () => {
    const core = voterThatMissedAPromotion({ term: 3, leaderId: a });
    core.receive(5, b, denial(3, d));
    expect(takesHeartbeatFromD(core, 3)).toBe(false);
  });
});

describe('a learner that campaigns, believing itself a voter', () => {
  /** b: a voter of {a, b, c} with d a learner, following a in term 5. */
  function followerOfA(): RaftCore {
    const core = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c], learners: [d] }, hardState: { term: 5, votedFor: null }, leaderPin: { term: 5, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 5)] });
    core.receive(1, a, heartbeatOf(5));
    core.takeReady();
    return core;
  }
  const heartbeatOf = (term: number): RaftMessage => ({ type: 'appendEntries', term, prevLogIndex: 2, prevLogTerm: 5, entries: [], leaderCommit: 2, readRound: 0 });
  const campaign: RaftMessage = { type: 'requestVote', term: 4, lastLogIndex: 1, lastLogTerm: 1, preVote: true, transfer: false };
  const answersTo = (core: RaftCore, to: NodeId): RaftMessage[] => {
    const ready = core.takeReady();
    return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].filter((outbound) => outbound.to === to).map((outbound) => outbound.message);
  };

  it('is told who leads (no vote, no change of term): it was demoted while away and may know no one who leads', () => {
    const core = followerOfA();
    core.receive(2, d, campaign);
    expect(answersTo(core, d)).toEqual([{ type: 'requestVoteResponse', term: 5, preVote: true, granted: false, denialReason: 'leaderAlive', leader: a }]);
    expect(core.term).toBe(5);
  });

  it('a node outside our configuration is told too (it may ask for a member that trusts only it), and nobody is told when no leader is known', () => {
    const core = followerOfA();
    core.receive(2, nodeId('e'), campaign);
    expect(answersTo(core, nodeId('e'))).toEqual([{ type: 'requestVoteResponse', term: 5, preVote: true, granted: false, denialReason: 'leaderAlive', leader: a }]);
    expect(core.term).toBe(5);
    const leaderless = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c], learners: [d] }, hardState: { term: 5, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 5)] });
    leaderless.receive(2, d, campaign);
    expect(answersTo(leaderless, d)).toEqual([]);
  });
});

describe('a node outside its configuration that a member counts on (leader-question.ts, askWhoLeadsFromOutside)', () => {
  const e = nodeId('e');
  const stranger = nodeId('f');
  const electionTimeoutMinMs = resolveRaftConfig({}).electionTimeoutMinMs;
  /** e: outside {a, b, c} with learner d (removed, say), at term 3, hearing no leader. */
  function outsider(): RaftCore {
    const core = new RaftCore({ id: e, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c], learners: [d] }, hardState: { term: 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3)] });
    core.takeReady();
    return core;
  }
  const question = (term: number): RaftMessage => ({ type: 'requestVote', term, lastLogIndex: 1, lastLogTerm: 1, preVote: true, transfer: false });
  const probe: RaftMessage = { type: 'requestVote', term: 4, lastLogIndex: 2, lastLogTerm: 3, preVote: true, transfer: false };
  const sent = (core: RaftCore): Array<{ to: NodeId; message: RaftMessage }> => {
    const ready = core.takeReady();
    return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].map(({ to, message }) => ({ to, message }));
  };
  const probes = (core: RaftCore): NodeId[] => sent(core).filter(({ message }) => message.type === 'requestVote').map(({ to, message }) => {
    expect(message).toEqual(probe);
    return to;
  });

  it('asks the voters of its configuration who leads, once per shortest election timeout', () => {
    const core = outsider();
    core.receive(10, b, question(4));
    expect(probes(core)).toEqual([a, b, c]);
    core.receive(10 + electionTimeoutMinMs - 1, b, question(4));
    expect(probes(core)).toEqual([]);
    core.receive(10 + electionTimeoutMinMs, a, question(4));
    expect(probes(core)).toEqual([a, b, c]);
    // A question changes nothing of its own: no term, no role.
    expect(core.term).toBe(3);
    expect(core.role).toBe('learner');
  });

  it('asks too when it refuses the frames of a leader its configuration does not list (taken back while away), once per shortest election timeout', () => {
    const core = outsider();
    core.receive(10, d, heartbeat(5));
    expect(probes(core)).toEqual([a, b, c]);
    core.receive(11, d, heartbeat(5));
    expect(probes(core)).toEqual([]);
    core.receive(10 + electionTimeoutMinMs, d, heartbeat(5));
    expect(probes(core)).toEqual([a, b, c]);
    expect(core.term).toBe(3);
  });

  it('asks for a leader its configuration does not list at all (both admitted while it was away), and then follows it', () => {
    // f leads term 5 of a cluster that took e back while e was away; e's configuration {a, b, c}
    // + {d} has never heard of f. A voter of e's configuration names f; e follows f from then on.
    const core = outsider();
    core.receive(10, stranger, heartbeat(5));
    expect(probes(core)).toEqual([a, b, c]);
    core.receive(12, a, denial(5, stranger));
    expect(core.takeReady()?.leaderForTerm).toEqual({ term: 5, leaderId: stranger });
    core.receive(20, stranger, heartbeat(5));
    expect(core.leader).toBe(stranger);
    expect(sent(core)).toContainEqual({ to: stranger, message: expect.objectContaining({ type: 'appendEntriesResponse', term: 5, success: true }) });
  });

  it('takes no name from the sender itself, and asks nothing while it is a member of its configuration', () => {
    const core = outsider();
    core.receive(10, stranger, question(4));
    expect(probes(core)).toEqual([a, b, c]);
    core.receive(12, stranger, denial(5, stranger));
    expect(core.takeReady()?.leaderForTerm ?? null).toBeNull();
    core.receive(13, stranger, heartbeat(5));
    expect(core.leader).toBeNull();
    const member = voterThatMissedAPromotion();
    member.takeReady();
    member.receive(10, b, question(4));
    member.receive(11, d, heartbeat(5));
    expect(probes(member)).toEqual([]);
  });

  it('passes on the leader a voter of its configuration names, to the member that asks next', () => {
    const core = outsider();
    core.receive(10, b, question(4));
    sent(core);
    core.receive(12, a, denial(7, a));
    expect(core.term).toBe(7);
    expect(core.takeReady()?.leaderForTerm).toEqual({ term: 7, leaderId: a });
    core.receive(20, b, question(4));
    expect(sent(core).filter(({ to }) => to === b)).toContainEqual({ to: b, message: { type: 'requestVoteResponse', term: 7, preVote: true, granted: false, denialReason: 'staleTerm', leader: a } });
  });

  it('asks no more while the leader it knows is of a term as new as the asker\'s, and again for an asker past it', () => {
    const core = outsider();
    core.receive(10, b, question(4));
    sent(core);
    core.receive(12, a, denial(7, a));
    sent(core);
    for (const [at, term] of [[10 + electionTimeoutMinMs, 4], [10 + 2 * electionTimeoutMinMs, 7]] as const) {
      core.receive(at, b, question(term));
      expect(sent(core).filter(({ message }) => message.type === 'requestVote')).toEqual([]);
    }
    core.receive(10 + 3 * electionTimeoutMinMs, b, question(8));
    expect(sent(core).filter(({ message }) => message.type === 'requestVote').map(({ to }) => to)).toEqual([a, b, c]);
  });

  it('a live voter does not take the questions of a node outside its configuration for a wedge (a removed member campaigning forever at a removed node)', () => {
    // m: removed while away, still believing itself a voter of {a, b, c, m}; e: removed later, its
    // configuration {a, b, c, m}; b: a voter of the live cluster {a, b, c}, knowing neither.
    const m = nodeId('m');
    const relay = new RaftCore({ id: e, config: resolveRaftConfig({ wedgeSuspicionTimeouts: 2 }), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c, m] }, hardState: { term: 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3)] });
    const voter = new RaftCore({ id: b, config: resolveRaftConfig({ wedgeSuspicionTimeouts: 2 }), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 7, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3), entry(3, 7)] });
    relay.takeReady();
    voter.takeReady();
    let asked = 0;
    const wedges: unknown[] = [];
    for (let now = 10, term = 4; now < 5_000; now += 200, term += 1) {
      relay.receive(now, m, question(term));
      for (const { to, message } of sent(relay)) {
        if (to !== b || message.type !== 'requestVote') continue;
        asked += 1;
        voter.receive(now + 1, e, message);
      }
      wedges.push(...(voter.takeReady()?.metrics ?? []).filter((metric) => metric.type === 'wedgeSuspected'));
    }
    expect(asked).toBeGreaterThan(5);
    expect(wedges).toEqual([]);
  });
});

describe('a learner told who leads but hearing no frames of that leader', () => {
  it('names that leader to a voter of its configuration that asks (it never campaigns, so it suspects no one)', () => {
    // d: a learner of {a, b, c} + {d}; b names e as the leader of term 5, whose frames d never gets.
    const e = nodeId('e');
    const learner = new RaftCore({ id: d, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c], learners: [d] }, hardState: { term: 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [entry(1, 1), entry(2, 3)] });
    learner.takeReady();
    learner.receive(5, b, denial(5, e));
    expect(learner.takeReady()?.leaderForTerm).toEqual({ term: 5, leaderId: e });
    learner.receive(10, c, { type: 'requestVote', term: 4, lastLogIndex: 2, lastLogTerm: 3, preVote: true, transfer: false });
    const ready = learner.takeReady();
    const answers = [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].filter((outbound) => outbound.to === c).map((outbound) => outbound.message);
    expect(answers).toEqual([{ type: 'requestVoteResponse', term: 5, preVote: true, granted: false, denialReason: 'staleTerm', leader: e }]);
  });
});
