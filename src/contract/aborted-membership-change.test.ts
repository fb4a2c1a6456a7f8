// API.md: aborting a call's signal "rejects that call with the signal's reason and leaves the node
// healthy". For changeMembership, what the abort cannot do is take back C_old,new once it is in
// the log: the abort ends the caller's wait, and the change goes on like any entry in the log (it
// completes once it commits; a new leader without it would truncate it). A half-finished joint
// configuration left behind would need a majority of both halves forever. A caller that wants
// the old configuration back asks for it with a second change.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { startContractCluster } from './contract-cluster.test-support.ts';

const voters = (...names: string[]): { voters: ReturnType<typeof nodeId>[] } => ({ voters: names.map((name) => nodeId(name)) });

describe('API.md changeMembership aborted while it waits', () => {
  it('rejects with the reason at once; the change already in the log still completes, and a second change brings the old configuration back', async () => {
    const cluster = await startContractCluster({ seed: 61 });
    const leader = await cluster.waitForLeader();
    const [follower, third] = [...cluster.nodes.values()].filter((node) => node !== leader);
    if (follower === undefined || third === undefined) throw new Error('three nodes expected');
    // Nothing commits while both followers are cut off: C_old,new stays in the leader's log only.
    cluster.network.isolate(follower.id);
    cluster.network.isolate(third.id);
    const controller = new AbortController();
    const change = leader.changeMembership(voters(leader.id, follower.id), { signal: controller.signal }).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await cluster.clock.advance(20);
    expect(leader.membership.value).toEqual(voters(leader.id, follower.id));
    const reason = new Error('the caller gave up');
    controller.abort(reason);
    expect(await cluster.settle(change)).toBe(reason);

    cluster.network.heal();
    const current = await cluster.waitForLeader();
    await cluster.clock.advance(2_000);
    // The change completed under whoever leads now: C_new is in force on every member.
    for (const node of [leader, follower]) expect(node.membership.value).toEqual(voters(leader.id, follower.id));
    expect(current.id === leader.id || current.id === follower.id).toBe(true);

    const back = cluster.nodes.get(current.id)!.changeMembership(voters('a', 'b', 'c'));
    await expect(cluster.settle(back)).resolves.toEqual(voters('a', 'b', 'c'));
    await cluster.close();
  });
});
