// A node that never campaigns (a learner of its configuration, or a witness) asks the voters it
// knows who leads when its election timer runs out (elections.ts, probeForLeader): a pre-vote
// never followed by an election, answered as any pre-vote, that changes no one's term, vote or
// timer, and whose grants count for nothing.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage, RequestVote } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { Ready } from './ready.ts';
import { nodeId, type ClusterConfig, type LogEntry, type NodeId } from './types.ts';

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array(0), isNoOp: true });
const log = [entry(1, 1), entry(2, 3)];

function node(id: NodeId, bootstrap: ClusterConfig, options: { witness?: boolean; term?: number; leaderPin?: { term: number; leaderId: NodeId } | null } = {}): RaftCore {
  return new RaftCore({ id, config: resolveRaftConfig({ witness: options.witness ?? false, wedgeSuspicionTimeouts: 2 }), random: () => 0.5, now: 0, bootstrap, hardState: { term: options.term ?? 3, votedFor: null }, leaderPin: options.leaderPin ?? null, snapshotMeta: null, entries: log });
}

function outbound(ready: Ready | null): Array<{ to: NodeId; message: RaftMessage }> {
  return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].map(({ to, message }) => ({ to, message }));
}

/** Ticks at the node's next deadline (which must be finite) and returns what it sent. */
function tickAtDeadline(core: RaftCore): Array<{ to: NodeId; message: RaftMessage }> {
  core.takeReady();
  const deadline = core.nextDeadline();
  expect(Number.isFinite(deadline)).toBe(true);
  core.tick(deadline);
  return outbound(core.takeReady());
}

const probe = (term: number): RequestVote => ({ type: 'requestVote', term, lastLogIndex: 2, lastLogTerm: 3, preVote: true, transfer: false });
const grant = (term: number): RaftMessage => ({ type: 'requestVoteResponse', term, preVote: true, granted: true, denialReason: null });
const heartbeat = (term: number): RaftMessage => ({ type: 'appendEntries', term, prevLogIndex: 2, prevLogTerm: 3, entries: [], leaderCommit: 2, readRound: 0 });

describe('a learner of its configuration whose election timer runs out', () => {
  const config: ClusterConfig = { voters: [a, b, c], learners: [d] };

  it('asks the voters of its configuration, with a pre-vote for the next term, and nothing more', () => {
    const learner = node(d, config);
    learner.tracing = true;
    learner.takeReady();
    learner.tick(learner.nextDeadline());
    const ready = learner.takeReady();
    expect(outbound(ready)).toEqual([a, b, c].map((to) => ({ to, message: probe(4) })));
    // No state changed, so no trace event: not `timeout` and `preVoteStarted`, a campaign's start.
    expect((ready?.trace ?? []).map((event) => event.type)).toEqual([]);
    expect(learner.role).toBe('learner');
    expect(learner.term).toBe(3);
    expect(ready?.hardState ?? null).toBeNull();
  });

  it('asks once per election timeout: its timer restarts', () => {
    const learner = node(d, config);
    const deadline = learner.nextDeadline();
    tickAtDeadline(learner);
    learner.tick(deadline + 1);
    expect(outbound(learner.takeReady())).toEqual([]);
    expect(learner.nextDeadline()).toBeGreaterThan(deadline + 1);
    expect(tickAtDeadline(learner)).toHaveLength(3);
  });

  it('does not ask while it hears its leader', () => {
    const learner = node(d, config);
    for (let now = 50; now <= 3_000; now += 50) {
      learner.receive(now, a, heartbeat(3));
      learner.tick(now);
      expect(outbound(learner.takeReady()).filter(({ message }) => message.type === 'requestVote')).toEqual([]);
    }
  });

  it('a denial naming the leader its configuration does not list: it follows that leader', () => {
    const learner = node(d, { voters: [a, b, c], learners: [d, e] });
    tickAtDeadline(learner);
    learner.receive(400, e, heartbeat(5));
    expect(learner.leader).toBeNull();
    learner.receive(401, b, { type: 'requestVoteResponse', term: 5, preVote: true, granted: false, denialReason: 'leaderAlive', leader: e });
    learner.takeReady();
    learner.receive(402, e, heartbeat(5));
    expect(learner.leader).toBe(e);
    expect(learner.role).toBe('learner');
    expect(outbound(learner.takeReady())).toContainEqual({ to: e, message: expect.objectContaining({ type: 'appendEntriesResponse', success: true }) });
  });

  it('a grant changes nothing: no term, no campaign', () => {
    const learner = node(d, config);
    tickAtDeadline(learner);
    learner.receive(400, a, grant(4));
    learner.receive(401, b, grant(4));
    expect(learner.term).toBe(3);
    expect(learner.role).toBe('learner');
    expect(outbound(learner.takeReady())).toEqual([]);
  });

  it('outside its own configuration (removed, or waiting to be admitted): no deadline, no question, as before', () => {
    const outsider = node(e, config);
    expect(outsider.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
    outsider.takeReady();
    outsider.tick(10_000);
    expect(outbound(outsider.takeReady())).toEqual([]);
  });

  it('told by the leader it is outside the cluster: does not ask', () => {
    const learner = node(d, config, { leaderPin: { term: 3, leaderId: a } });
    learner.receive(1, a, { type: 'notMember', term: 3, configIndex: 5 });
    learner.takeReady();
    learner.tick(learner.nextDeadline());
    expect(outbound(learner.takeReady())).toEqual([]);
  });
});

describe('a witness whose election timer runs out', () => {
  const config: ClusterConfig = { voters: [a, b, c] };

  it('asks the other voters, and never campaigns, whatever they answer', () => {
    const witness = node(c, config, { witness: true });
    for (let round = 0; round < 20; round += 1) {
      const sent = tickAtDeadline(witness);
      expect(sent).toEqual([a, b].map((to) => ({ to, message: probe(3 + 1) })));
      witness.receive(witness.nextDeadline() - 1, a, grant(4));
      witness.receive(witness.nextDeadline() - 1, b, grant(4));
      expect(witness.role).toBe('follower');
      expect(witness.term).toBe(3);
      expect(outbound(witness.takeReady())).toEqual([]);
    }
  });

  it('a denial naming a leader its configuration does not list: it follows and acknowledges it', () => {
    const witness = node(c, { voters: [a, b, c], learners: [d] }, { witness: true });
    tickAtDeadline(witness);
    witness.receive(400, a, { type: 'requestVoteResponse', term: 6, preVote: true, granted: false, denialReason: 'staleTerm', leader: d });
    expect(witness.term).toBe(6);
    witness.takeReady();
    witness.receive(401, d, heartbeat(6));
    expect(witness.leader).toBe(d);
    expect(witness.role).toBe('follower');
  });
});

describe('the voters a probe reaches', () => {
  /** a: leader of term 4 in {a, b, c} with learner d. */
  function leaderA(): RaftCore {
    const leader = node(a, { voters: [a, b, c], learners: [d] });
    leader.tick(leader.nextDeadline());
    leader.receive(1_000, b, grant(4));
    leader.receive(1_001, b, { type: 'requestVoteResponse', term: 4, preVote: false, granted: true, denialReason: null });
    expect(leader.role).toBe('leader');
    leader.takeReady();
    return leader;
  }

  it('a leader denies a witness probe naming itself, and stays leader in its term', () => {
    const leader = leaderA();
    leader.receive(1_010, c, probe(5));
    expect(outbound(leader.takeReady())).toEqual([{ to: c, message: { type: 'requestVoteResponse', term: 4, preVote: true, granted: false, denialReason: 'leaderAlive', leader: a } }]);
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(4);
  });

  it('a follower answers without changing its term, its vote or its election timer', () => {
    const follower = node(b, { voters: [a, b, c], learners: [d] }, { term: 3, leaderPin: { term: 3, leaderId: a } });
    follower.receive(10, a, heartbeat(3));
    follower.takeReady();
    const deadline = follower.nextDeadline();
    follower.receive(20, c, probe(4));
    const ready = follower.takeReady();
    expect(outbound(ready)).toEqual([{ to: c, message: { type: 'requestVoteResponse', term: 3, preVote: true, granted: false, denialReason: 'leaderAlive', leader: a } }]);
    expect(ready?.hardState ?? null).toBeNull();
    expect(follower.nextDeadline()).toBe(deadline);
    expect(follower.term).toBe(3);
  });

  it('a learner asking for many election timeouts is refused and answered, but is no wedge of the voter', () => {
    const voter = node(b, { voters: [a, b, c], learners: [d] }, { term: 3, leaderPin: { term: 3, leaderId: a } });
    const metrics: string[] = [];
    let answers = 0;
    for (let now = 10; now <= 5_000; now += 150) {
      voter.receive(now, a, heartbeat(3));
      voter.receive(now, d, probe(4));
      const ready = voter.takeReady();
      metrics.push(...(ready?.metrics ?? []).map((metric) => metric.type));
      answers += outbound(ready).filter(({ to, message }) => to === d && message.type === 'requestVoteResponse').length;
    }
    expect(answers).toBeGreaterThan(30);
    expect(metrics).toContain('frameRefused');
    expect(metrics).not.toContain('wedgeSuspected');
  });
});
