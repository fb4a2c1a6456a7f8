// Guards how a new transferLeadership call meets a transfer already in progress. An outside
// review (2026-12-07, third session) found two ways it went wrong, each reduced here:
// - a transfer to the leader itself answered "this node leads" at once but left the earlier
//   transfer running, so proposals stayed held and leadership moved to its target after all
//   (etcd aborts the transfer in progress, then ignores the request to itself);
// - a request that could not start (a learner: notVoter) first cancelled a valid transfer, so
//   one bad call undid another caller's transfer (etcd checks the new transferee first).
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { nodeId, type NodeId } from './types.ts';

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

describe('an invalid transferLeadership while a valid transfer is in progress', () => {
  function clusterWithLearner(): { harness: CoreHarness; leader: HarnessNode; target: HarnessNode; learner: NodeId } {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 9, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const voters = [...harness.nodes.values()].filter((node) => node !== leader && node.id !== 'd');
    leader.core.changeMembership(harness.now, 1, { voters: [leader.id, ...voters.map((node) => node.id)], learners: [nodeId('d')] });
    harness.advance(300);
    expect(harness.node('d').core.role).toBe('learner');
    return { harness, leader, target: voters[0]!, learner: nodeId('d') };
  }

  // A learner; a node outside the cluster; the '' a worker node's page sends for a target that
  // is not a string (remote-node.ts), which no member can have.
  const refusedTargets: ReadonlyArray<readonly [string, (learner: NodeId) => NodeId]> = [
    ['a learner', (learner) => learner],
    ['a node outside the cluster', () => nodeId('stranger')],
    ["the worker's '' for a non-string target", () => '' as NodeId],
  ];
  for (const [label, refused] of refusedTargets) {
    it(`to ${label} is refused (notVoter) without cancelling the transfer in progress, which still hands leadership over`, () => {
      const { harness, leader, target, learner } = clusterWithLearner();
      startStalledTransfer(harness, leader, target);
      leader.core.transferLeadership(harness.now, 2, refused(learner));
      harness.settle();
      expect(leader.transfers).toEqual([{ transferId: 2, failure: 'notVoter' }]);
      harness.blocked.clear();
      harness.advance(200);
      expect(leader.transfers).toEqual([{ transferId: 2, failure: 'notVoter' }, { transferId: 1, failure: null }]);
      expect(target.core.role).toBe('leader');
    });
  }

  it('to another voter still cancels the transfer in progress and starts its own', () => {
    const { harness, leader, target } = clusterWithLearner();
    const other = [...harness.nodes.values()].find((node) => node !== leader && node !== target && node.id !== 'd')!;
    startStalledTransfer(harness, leader, target);
    leader.core.transferLeadership(harness.now, 2, other.id);
    harness.settle();
    harness.blocked.clear();
    harness.advance(200);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'cancelled' }, { transferId: 2, failure: null }]);
    expect(other.core.role).toBe('leader');
  });
});
