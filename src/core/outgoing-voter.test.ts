// A node that the newest configuration in its log demotes (a learner in C_new) may still have to
// lead: while C_new is uncommitted, the cluster may need its vote and its log. The 5-node
// simulation, seed 90198 with --duration 60000, reached a state where C_new had reached only the
// two voters it demotes. Their logs were the most up to date, so they refused every other
// candidate, and as learners they never campaigned: no leader was ever elected again.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage, RequestVote } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId, type ConfigPayload, type LogEntry, type NodeId } from './types.ts';

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const oldVoters = { voters: [a, b, d] };
const newConfig = { voters: [b, c, e], learners: [a, d] };

const configEntry = (index: number, config: ConfigPayload): LogEntry => ({ index, term: 1, command: new Uint8Array(0), isNoOp: false, config });

function requestsIn(core: RaftCore): Array<{ to: NodeId; request: RequestVote }> {
  const ready = core.takeReady();
  return (ready?.messages ?? []).flatMap((outbound) => (outbound.message.type === 'requestVote' ? [{ to: outbound.to, request: outbound.message }] : []));
}

const granted = (term: number, preVote: boolean): RaftMessage => ({ type: 'requestVoteResponse', term, preVote, granted: true, denialReason: null });

/** Node `self` restarted with C_old,new and then C_new in its log, neither known committed. */
function nodeWith(self: NodeId, entries: readonly LogEntry[]): RaftCore {
  return new RaftCore({ id: self, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: oldVoters, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [...entries] });
}

/**
 * A learner of its configuration only asks the voters who leads (elections.ts, probeForLeader): a
 * pre-vote that no grant turns into an election. Granted by every voter, it still campaigns not.
 */
function expectNoCampaign(core: RaftCore, voters: readonly NodeId[]): void {
  const term = core.term;
  const asked = requestsIn(core);
  expect(asked.map(({ to }) => to).sort()).toEqual([...voters].sort());
  for (const { request } of asked) expect(request).toMatchObject({ term: term + 1, preVote: true, transfer: false });
  for (const voter of voters) core.receive(5_001, voter, granted(term + 1, true));
  expect(requestsIn(core)).toEqual([]);
  expect(core.term).toBe(term);
}

const joint = configEntry(1, { old: oldVoters, new: newConfig });
const final = configEntry(2, { old: null, new: newConfig });

describe('a voter that an uncommitted configuration demotes', () => {
  it('still campaigns, for the votes of that configuration, and can lead until it commits', () => {
    const core = nodeWith(d, [joint, final]);
    expect(core.role).toBe('learner');
    core.tick(1_000);
    const preVotes = requestsIn(core);
    expect(preVotes.map(({ to }) => to).sort()).toEqual([b, c, e]);
    expect(preVotes.every(({ request }) => request.preVote && request.term === 2 && request.lastLogIndex === 2)).toBe(true);
    core.receive(1_001, b, granted(2, true));
    core.receive(1_002, c, granted(2, true));
    expect(core.role).toBe('candidate');
    core.receive(1_003, b, granted(2, false));
    core.receive(1_004, c, granted(2, false));
    expect(core.role).toBe('leader');
    expect(core.term).toBe(2);
  });

  it('does not campaign once that configuration is committed', () => {
    const core = nodeWith(d, [joint, final]);
    // A leader of term 1 tells it that everything through C_new is committed.
    core.receive(10, b, { type: 'appendEntries', term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 2, readRound: 0 });
    core.takeReady();
    core.tick(5_000);
    expectNoCampaign(core, [b, c, e]);
    expect(core.role).toBe('learner');
  });

  it('a learner that was no voter before does not campaign either', () => {
    const core = nodeWith(c, [configEntry(1, { old: null, new: { voters: [a, b, d], learners: [c] } })]);
    expect(core.role).toBe('learner');
    core.tick(5_000);
    expectNoCampaign(core, [a, b, d]);
  });
});
