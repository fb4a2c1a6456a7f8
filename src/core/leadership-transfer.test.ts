// Guards how a new transferLeadership call meets a transfer already in progress. An outside
// review (2026-12-07, third session) found it going wrong, reduced here:
// - a transfer to the leader itself answered "this node leads" at once but left the earlier
//   transfer running, so proposals stayed held and leadership moved to its target after all
//   (etcd aborts the transfer in progress, then ignores the request to itself).
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';

/** Starts a transfer from the leader to `target` that stays in progress: the leader's frames
 * to the target are dropped, so it is still catching the target up after a proposal. */
function startStalledTransfer(harness: CoreHarness, leader: HarnessNode, target: HarnessNode): void {
  harness.blocked.add(`${leader.id}->${target.id}`);
  leader.core.propose(harness.now, 1, new Uint8Array([1]), null);
  harness.settle();
  leader.core.transferLeadership(harness.now, 1, target.id);
  harness.settle();
  expect(leader.transfers).toEqual([]);
}

describe('transferLeadership to the leader itself while another transfer is in progress', () => {
  it('cancels the transfer in progress, so the leader keeps leading and its proposals are no longer held', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 9);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const target = [...harness.nodes.values()].find((node) => node !== leader)!;
    startStalledTransfer(harness, leader, target);
    // The application changes its mind: leadership should stay here.
    leader.core.transferLeadership(harness.now, 2, leader.id);
    harness.settle();
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'cancelled' }, { transferId: 2, failure: null }]);
    // Proposals are accepted again as soon as the call says this node keeps leading.
    leader.core.propose(harness.now, 2, new Uint8Array([2]), null);
    harness.settle();
    expect(leader.outcomes.filter((outcome) => outcome.type === 'committed').map((outcome) => outcome.proposalId)).toContain(2);
    // Once the target hears the leader again, nothing hands leadership to it.
    harness.blocked.clear();
    harness.advance(200);
    expect(harness.leaders().map((node) => node.id)).toEqual([leader.id]);
  });
});
