// Through the public API on the simulated cluster (real drivers, virtual clock): readIndex() on a
// leader that a change shrank to the only voter hung for good when it was asked while the change's
// joint entry was in flight (src/core/read-round-shrink.test.ts has the core's account). With 5 ms links and 1 ms writes, asking 9 ms after
// changeMembership() puts the read round's heartbeat answers behind the joint entry's answers.
import { describe, expect, it } from 'vitest';
import { createSimulatedCluster } from '../testing/cluster.ts';

describe('readIndex() after shrinking to one voter (simulated nodes)', () => {
  it('resolves on a healthy lone-voter leader', async () => {
    const cluster = createSimulatedCluster({ seed: 4251, ids: ['a', 'b', 'c'], network: { minDelayMs: 5, maxDelayMs: 5, dropProbability: 0, duplicateProbability: 0 }, maxWriteDelayMs: 1 });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const node = leader.node!;
    const change = node.changeMembership({ voters: [leader.id] });
    await cluster.runFor(9);
    let first: number | string = 'pending';
    node.readIndex().then((index) => (first = index), (error: unknown) => (first = String(error)));
    await cluster.settle(change, 2_000);
    let later: number | string = 'pending';
    node.readIndex().then((index) => (later = index), (error: unknown) => (later = String(error)));
    await cluster.runFor(10_000);
    const state = { role: node.role.value, voters: node.membership.value.voters, commitIndex: node.commitIndex.value, first, later };
    await cluster.close();
    expect(state).toEqual({ role: 'leader', voters: [leader.id], commitIndex: state.commitIndex, first: expect.any(Number), later: expect.any(Number) });
  });
});
