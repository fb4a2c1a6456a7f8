// A RaftNode of another implementation need not name its client id (RaftNode.clientId is
// optional). The store then guesses its own entries by the node id until its first proposal
// resolves, as before clientId existed: without the guess (a review of the night's store fix,
// 2026-12-06) dispatches folded before their proposal resolved reported an unknown outcome though
// they applied, and the optimistic view counted one twice.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { createReplicatedStore } from './replicated-store.ts';

type Command = { readonly amount: number };
interface Counter { readonly total: number }

/** The same node, without the optional clientId (a RaftNode of another implementation, or an older one). */
function withoutClientId(node: RaftNode): RaftNode {
  return new Proxy(node, {
    get: (target, property) => (property === 'clientId' ? undefined : Reflect.get(target, property, target)),
    has: (target, property) => property !== 'clientId' && Reflect.has(target, property),
  });
}

describe('a store on a RaftNode that does not name its clientId', () => {
  it('resolves the dispatches of commands it folded as applied (several in flight at once)', async () => {
    const cluster = createSimulatedCluster({ seed: 4881, ids: ['a', 'b', 'c'] });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const leader = cluster.leader()!;
    const node = withoutClientId(cluster.nodes.get(nodeId(leader.id))!.node!);
    expect(node.clientId).toBeUndefined();
    const store = createReplicatedStore<Counter, Command>({ node, initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command.amount }), clock: cluster.clock });
    const outcomes: string[] = [];
    const optimistic: number[] = [];
    store.subscribe((state) => optimistic.push(state.total));
    const all = [1, 2, 3].map((amount) => store.dispatch({ amount }).then(() => 'applied', (error: unknown) => String(error)));
    for (const result of all) outcomes.push((await cluster.settle(result, 5_000)) ?? 'hung');
    await cluster.runFor(300);
    expect(store.state.value.total).toBe(6);
    expect(store.stats.applied).toBe(3);
    expect({ outcomes, maxOptimistic: Math.max(...optimistic) }).toEqual({ outcomes: ['applied', 'applied', 'applied'], maxOptimistic: 6 });
    await cluster.close();
  });
});
