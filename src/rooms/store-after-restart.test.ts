// A restarted peer's store judges only this run's entries as its own: an earlier run's entries
// share the node id and the small request ids, not the client id (RaftNode.clientId). A review
// found it on 2026-12-06: an old run's refused request 1 rejected the new, applied dispatch 1.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { createSimulatedCluster, type SimulatedCluster } from '../testing/cluster.ts';
import { createReplicatedStore, type ReplicatedStore } from './replicated-store.ts';

type Command = { readonly type: 'add'; readonly amount: number } | { readonly type: 'fail' };
interface Counter { readonly total: number }
const reducer = (state: Counter, command: Command): Counter => {
  if (command.type === 'fail') throw new Error('refused by the reducer');
  return { total: state.total + command.amount };
};
const storeOn = (cluster: SimulatedCluster, id: string): ReplicatedStore<Counter, Command> =>
  createReplicatedStore<Counter, Command>({ node: cluster.nodes.get(nodeId(id))!.node!, initialState: { total: 0 }, apply: reducer, clock: cluster.clock });

describe('a replicated store after a restart of its node', () => {
  it('does not reject a dispatch that applied because an earlier incarnation\'s request with the same number failed', async () => {
    const cluster = createSimulatedCluster({ seed: 4801, ids: ['a', 'b', 'c'] });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const first = storeOn(cluster, 'b');
    // Incarnation 1 of b: request 1 is refused by the reducer.
    const failing = first.dispatch({ type: 'fail' });
    failing.catch(() => {});
    await cluster.runFor(500);
    await expect(failing).rejects.toThrow('refused by the reducer');
    // b's tab reloads: same id, same storage, a fresh store whose request ids start at 1 again.
    first.close();
    cluster.crash(nodeId('b'));
    await cluster.restart(nodeId('b'));
    const second = storeOn(cluster, 'b');
    const dispatched = second.dispatch({ type: 'add', amount: 5 });
    const outcome = await cluster.settle(dispatched.then((result) => ({ ok: true as const, total: result.state.total }), (error: unknown) => ({ ok: false as const, error: String(error) })));
    await cluster.runFor(300);
    // The command was applied on every peer...
    expect(second.state.value.total).toBe(5);
    expect(second.stats.applied).toBe(1);
    // ...so its dispatch must not report the reducer's refusal of the old incarnation's command.
    expect(outcome).toEqual({ ok: true, total: 5 });
    await cluster.close();
  });

  it('keeps a pending command in the optimistic view until it is applied (not dropped by an old incarnation\'s entry)', async () => {
    const cluster = createSimulatedCluster({ seed: 4802, ids: ['a', 'b', 'c'] });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const first = storeOn(cluster, 'b');
    await cluster.settle(first.dispatch({ type: 'add', amount: 1 }));
    await cluster.runFor(300);
    first.close();
    cluster.crash(nodeId('b'));
    await cluster.restart(nodeId('b'));
    const second = storeOn(cluster, 'b');
    const seen: Array<{ confirmed: number; optimistic: number; pending: number }> = [];
    second.subscribe((state) => seen.push({ confirmed: second.state.value.total, optimistic: state.total, pending: second.pendingCount }));
    const dispatched = second.dispatch({ type: 'add', amount: 100 });
    await cluster.settle(dispatched);
    await cluster.runFor(300);
    expect(second.state.value.total).toBe(101);
    // While the 100 is pending, the optimistic view always includes it.
    const withoutIt = seen.filter((entry) => entry.confirmed < 100 && entry.optimistic < 100);
    expect(withoutIt).toEqual([]);
    await cluster.close();
  });
});
