// A leader admits proposals while the entries past what is both committed and on its own disk
// are fewer than maxPendingProposals. Counting only uncommitted entries, a leader whose disk
// lagged while its followers committed kept appending, one queued write per proposal, until the
// driver stopped it (an outside review found it, 2026-12-07, third session; the driver's half is
// src/driver/write-backpressure.test.ts).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import { RaftCore } from './raft-core.ts';
import type { Ready } from './ready.ts';
import { nodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>];
const maxPendingProposals = 4;

/** a leads a, b and c in term 1, its no-op (index 1) on its disk and committed. */
function leaderOfThree(): RaftCore {
  const leader = new RaftCore({ id: a, config: resolveRaftConfig({ maxPendingProposals }), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
  leader.tick(1_000);
  leader.receive(1_000, b, { type: 'requestVoteResponse', term: 1, preVote: true, granted: true, denialReason: null });
  leader.takeReady();
  leader.receive(1_000, b, { type: 'requestVoteResponse', term: 1, preVote: false, granted: true, denialReason: null });
  expect(leader.role).toBe('leader');
  leader.takeReady();
  leader.persisted(1_000, { index: 1, term: 1 });
  followersAcknowledge(leader, 1_000);
  leader.takeReady();
  expect(leader.commitIndex).toBe(1);
  return leader;
}

/** Both followers hold the leader's whole log: it commits without the leader's own disk. */
function followersAcknowledge(leader: RaftCore, now: number): void {
  for (const follower of [b, c]) leader.receive(now, follower, { type: 'appendEntriesResponse', term: 1, success: true, matchIndex: leader.lastIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
}

const failures = (ready: Ready | null): string[] => (ready?.outcomes ?? []).flatMap((outcome) => (outcome.type === 'failed' ? [outcome.failure] : []));
const forwardAnswers = (ready: Ready | null): string[] =>
  (ready?.messages ?? []).flatMap((outbound) => (outbound.message.type === 'forwardProposeResponse' ? [outbound.message.outcome.type] : []));

describe('a leader whose own disk lags behind its committed log', () => {
  it('refuses proposals once maxPendingProposals entries are not yet on its disk, though its followers committed them', () => {
    const leader = leaderOfThree();
    for (let proposal = 1; proposal <= maxPendingProposals; proposal += 1) leader.propose(1_001, proposal, new Uint8Array([proposal]), null);
    followersAcknowledge(leader, 1_002);
    expect(leader.takeReady()?.entries.length).toBeGreaterThan(0); // written, never persisted
    expect(leader.commitIndex).toBe(1 + maxPendingProposals); // committed by b and c

    leader.propose(1_003, 99, new Uint8Array([99]), null);
    leader.receive(1_003, b, { type: 'forwardPropose', correlationId: 7, command: new Uint8Array([7]), dedupKey: null, proposerCommitIndex: 0 });
    const refused = leader.takeReady();
    expect(failures(refused)).toEqual(['overloaded']);
    expect(forwardAnswers(refused)).toEqual(['busy']);
    expect(leader.lastIndex).toBe(1 + maxPendingProposals);
  });

  it('admits again once its write lands', () => {
    const leader = leaderOfThree();
    for (let proposal = 1; proposal <= maxPendingProposals; proposal += 1) leader.propose(1_001, proposal, new Uint8Array([proposal]), null);
    followersAcknowledge(leader, 1_002);
    leader.takeReady();
    leader.persisted(1_003, { index: leader.lastIndex, term: 1 });

    leader.receive(1_004, b, { type: 'forwardPropose', correlationId: 8, command: new Uint8Array([8]), dedupKey: null, proposerCommitIndex: 0 });
    expect(forwardAnswers(leader.takeReady())).toEqual(['appended']);
  });

  it('still bounds uncommitted entries on its disk the same way (followers silent)', () => {
    const leader = leaderOfThree();
    for (let proposal = 1; proposal <= maxPendingProposals + 1; proposal += 1) leader.propose(1_001, proposal, new Uint8Array([proposal]), null);
    const ready = leader.takeReady();
    leader.persisted(1_002, { index: leader.lastIndex, term: 1 });
    expect(failures(ready)).toEqual(['overloaded']);
    expect(leader.lastIndex).toBe(1 + maxPendingProposals);
  });
});
