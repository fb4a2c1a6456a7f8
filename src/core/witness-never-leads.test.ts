// A leader learns which peers are witnesses from their own AppendEntries answers (`neverLeads`,
// never-leads.ts), and uses it twice. Before, only the witness knew: a transfer to it held the
// leader's proposals until its deadline and failed as `timeout`, and a change leaving only
// witnesses as voters made a cluster that could never elect a leader again.
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { defaultResolvedRaftConfig } from './config.ts';
import { nodeId } from './types.ts';

const timeoutNowsTo = (harness: CoreHarness, target: string): number => harness.sent.filter(({ to, message }) => to === target && message.type === 'timeoutNow').length;
const committedProposals = (node: HarnessNode): number[] => node.outcomes.flatMap((outcome) => (outcome.type === 'committed' ? [outcome.proposalId] : []));

/** a, b and the witness w, all voters; a leader elected among a and b. */
function clusterWithWitness(seed = 3): { harness: CoreHarness; leader: HarnessNode; other: HarnessNode; witness: HarnessNode } {
  const harness = createCoreHarness(['a', 'b', 'w'], seed, ['a', 'b', 'w'], {}, ['w']);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const other = harness.node(leader.id === 'a' ? 'b' : 'a');
  return { harness, leader, other, witness: harness.node('w') };
}

describe('a witness says so in its AppendEntries answers', () => {
  it('every answer of the witness carries neverLeads, and no answer of a voter that may lead does', () => {
    const { harness, leader } = clusterWithWitness();
    const answers = harness.sent.filter(({ to, message }) => to === leader.id && message.type === 'appendEntriesResponse');
    const fromWitness = answers.filter(({ from }) => from === 'w');
    const fromOthers = answers.filter(({ from }) => from !== 'w');
    expect(fromWitness.length).toBeGreaterThan(0);
    expect(fromOthers.length).toBeGreaterThan(0);
    expect(fromWitness.every(({ message }) => message.type === 'appendEntriesResponse' && message.neverLeads === true)).toBe(true);
    expect(fromOthers.every(({ message }) => !('neverLeads' in message))).toBe(true);
  });
});

describe('transferLeadership to a witness', () => {
  it('fails at once with neverLeads once the leader has heard the witness: no TimeoutNow, proposals not held', () => {
    const { harness, leader, witness } = clusterWithWitness();
    leader.core.transferLeadership(harness.now, 1, witness.id);
    harness.settle();
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }]);
    expect(timeoutNowsTo(harness, 'w')).toBe(0);
    leader.core.propose(harness.now, 1, new Uint8Array([1]), null);
    harness.settle();
    expect(committedProposals(leader)).toEqual([1]);
    expect(harness.leaders()).toEqual([leader]);
  });

  it('known only after the witness first answers: the transfer starts, then ends at that answer, long before its deadline', () => {
    // The witness is cut off from the start, so the leader has never heard it when the call comes.
    const harness = createCoreHarness(['a', 'b', 'w'], 3, ['a', 'b', 'w'], {}, ['w']);
    harness.isolate('w');
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.transferLeadership(harness.now, 1, nodeId('w'));
    harness.settle();
    expect(leader.transfers).toEqual([]); // assumed able to lead until it says otherwise
    const startedAt = harness.now;
    harness.heal();
    harness.advance(defaultResolvedRaftConfig.heartbeatIntervalMs);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }]);
    expect(harness.now - startedAt).toBeLessThan(defaultResolvedRaftConfig.electionTimeoutMaxMs);
    expect(timeoutNowsTo(harness, 'w')).toBe(0);
    expect(leader.core.role).toBe('leader');
  });

  it('while a transfer to a voter that may lead is in progress: refused without touching it, which still hands leadership over', () => {
    const { harness, leader, other, witness } = clusterWithWitness();
    // The leader's frames to the target are dropped, so the transfer waits on its catch-up.
    harness.blocked.add(`${leader.id}->${other.id}`);
    leader.core.propose(harness.now, 1, new Uint8Array([1]), null);
    harness.settle();
    leader.core.transferLeadership(harness.now, 1, other.id);
    harness.settle();
    leader.core.transferLeadership(harness.now, 2, witness.id);
    harness.settle();
    expect(leader.transfers).toEqual([{ transferId: 2, failure: 'neverLeads' }]);
    harness.blocked.clear();
    harness.advance(200);
    expect(leader.transfers).toEqual([{ transferId: 2, failure: 'neverLeads' }, { transferId: 1, failure: null }]);
    expect(other.core.role).toBe('leader');
  });

  it('a transfer already waiting on the same witness ends at its next answer, every caller with neverLeads', () => {
    const harness = createCoreHarness(['a', 'b', 'w'], 3, ['a', 'b', 'w'], {}, ['w']);
    harness.isolate('w');
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.transferLeadership(harness.now, 1, nodeId('w'));
    leader.core.transferLeadership(harness.now, 2, nodeId('w'));
    harness.settle();
    harness.heal();
    harness.advance(defaultResolvedRaftConfig.heartbeatIntervalMs);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }, { transferId: 2, failure: 'neverLeads' }]);
  });
});

describe('changeMembership leaving no voter that may lead', () => {
  it('is refused when the target lists only the witness, naming it; nothing is appended', () => {
    const { harness, leader, witness } = clusterWithWitness();
    const lastIndex = leader.core.lastIndex;
    // The driver turns this into a RangeError naming the witnesses (settle-calls.ts).
    expect(refusedChange(harness, leader, { voters: [witness.id] }, 1)).toEqual({ changeId: 1, failure: 'noVoterMayLead', witnesses: ['w'] });
    harness.advance(200);
    expect(leader.core.lastIndex).toBe(lastIndex);
    expect(leader.core.membership.voters).toEqual(['a', 'b', 'w']);
    expect(leader.core.role).toBe('leader');
  });

  it('is refused when it removes the last voter that may lead, leaving two witnesses', () => {
    const harness = createCoreHarness(['a', 'v', 'w'], 5, ['a', 'v', 'w'], {}, ['v', 'w']);
    harness.advance(400);
    const leader = harness.node('a');
    expect(leader.core.role).toBe('leader');
    expect(refusedChange(harness, leader, { voters: [nodeId('v'), nodeId('w')], learners: [nodeId('a')] }, 1)).toEqual({ changeId: 1, failure: 'noVoterMayLead', witnesses: ['v', 'w'] });
    // A target that keeps one voter that may lead goes through.
    leader.core.changeMembership(harness.now, 2, { voters: [nodeId('a'), nodeId('w')], learners: [nodeId('v')] });
    harness.advance(200);
    expect(leader.core.membership).toEqual({ voters: ['a', 'w'], learners: ['v'] });
  });

  it('lets a target through while the leader has not heard its witness: a peer never heard from is assumed able to lead', () => {
    const harness = createCoreHarness(['a', 'b', 'w'], 3, ['a', 'b', 'w'], {}, ['w']);
    harness.isolate('w');
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const lastIndex = leader.core.lastIndex;
    leader.core.changeMembership(harness.now, 1, { voters: [leader.id, nodeId('w')] });
    harness.settle();
    expect(leader.core.lastIndex).toBe(lastIndex + 1); // C_old,new appended, not refused
  });
});

describe('a peer that claims to be a witness when it is not', () => {
  it('only makes the leader refuse transfers to it; commits go on, and so do elections', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 9);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const liar = [...harness.nodes.values()].find((node) => node !== leader)!;
    // Every answer of the liar claims neverLeads (a forged flag on its honest answers).
    const forge = (): void => {
      for (const node of harness.nodes.values()) {
        const receive = node.core.receive.bind(node.core);
        node.core.receive = (now, from, message) =>
          receive(now, from, from === liar.id && message.type === 'appendEntriesResponse' ? { ...message, neverLeads: true } : message);
      }
    };
    forge();
    harness.advance(100);
    leader.core.transferLeadership(harness.now, 1, liar.id);
    harness.settle();
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'neverLeads' }]);
    leader.core.propose(harness.now, 1, new Uint8Array([1]), null);
    harness.settle();
    expect(committedProposals(leader)).toEqual([1]);
    // The flag touches no vote or campaign: with the leader cut off, the two left (the liar one
    // of them) elect a leader as they would have.
    harness.isolate(leader.id);
    harness.advance(2_000);
    const next = harness.leaders().filter((node) => node !== leader);
    expect(next).toHaveLength(1);
  });
});

/** Asks the leader for `target` and returns the change's outcome, expected to come at once. */
function refusedChange(harness: CoreHarness, leader: HarnessNode, target: Parameters<HarnessNode['core']['changeMembership']>[2], changeId: number): unknown {
  leader.core.changeMembership(harness.now, changeId, target);
  const ready = leader.core.takeReady();
  return ready?.membershipChanges.find((change) => change.changeId === changeId);
}
