// The leader's knowledge of witnesses (never-leads.ts) follows each peer's latest answer: a witness
// restarted as a voter may lead again, a voter restarted as a witness is refused at once, and a new
// leader learns a witness afresh from its first answer. From a review of the change (2026-12-07),
// which found them right and kept them as guards.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { RaftCore } from './raft-core.ts';
import { nodeId } from './types.ts';

/** The node's process restarts on its durable log with `witness` as given (a local setting). */
function restart(harness: CoreHarness, node: HarnessNode, witness: boolean, leader: HarnessNode): void {
  node.core = new RaftCore({
    id: node.id,
    config: resolveRaftConfig({ witness }),
    random: () => 0.25,
    now: harness.now,
    bootstrap: { voters: [...harness.nodes.keys()] },
    hardState: { term: node.core.term, votedFor: null },
    leaderPin: { term: node.core.term, leaderId: leader.id },
    snapshotMeta: null,
    entries: [...node.durable],
  });
}

const timeoutNowsTo = (harness: CoreHarness, target: string): number => harness.sent.filter(({ to, message }) => to === target && message.type === 'timeoutNow').length;

describe('the leader\'s word on a witness follows the peer\'s latest setting', () => {
  it('a witness restarted as a voter that may lead can take leadership once it answered', () => {
    const harness = createCoreHarness(['a', 'b', 'w'], 3, ['a', 'b', 'w'], {}, ['w']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const w = harness.node('w');
    leader.core.transferLeadership(harness.now, 1, w.id);
    harness.settle();
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }]);
    restart(harness, w, false, leader);
    harness.advance(200); // a few heartbeats: its answers no longer say neverLeads
    leader.core.transferLeadership(harness.now, 2, w.id);
    harness.advance(600);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }, { transferId: 2, failure: null }]);
    expect(w.core.role).toBe('leader');
  });

  it('a voter restarted as a witness is refused at once as a target, with no TimeoutNow', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 3);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const other = [...harness.nodes.values()].find((node) => node !== leader)!;
    restart(harness, other, true, leader);
    harness.advance(200);
    const before = timeoutNowsTo(harness, other.id);
    leader.core.transferLeadership(harness.now, 1, other.id);
    harness.settle();
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }]);
    expect(timeoutNowsTo(harness, other.id)).toBe(before);
    // And a change leaving it the only voter besides nobody that may lead is refused.
    leader.core.changeMembership(harness.now, 1, { voters: [other.id] });
    const ready = leader.core.takeReady();
    expect(ready?.membershipChanges.find((change) => change.changeId === 1)?.failure).toBe('noVoterMayLead');
  });

  it('a new leader learns the witness afresh from its first answer (progress reset at election)', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd', 'w'], 7, ['a', 'b', 'c', 'd', 'w'], {}, ['w']);
    harness.advance(400);
    const first = harness.leaders()[0]!;
    harness.isolate(first.id);
    harness.advance(1_500);
    const second = harness.leaders().find((node) => node !== first)!;
    expect(second).toBeDefined();
    second.core.transferLeadership(harness.now, 1, nodeId('w'));
    harness.settle();
    expect(second.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }]);
    expect(timeoutNowsTo(harness, 'w')).toBe(0);
  });
});
