// A peer's own command that reaches it inside an installed snapshot (it lagged while the others
// compacted): the snapshot says it committed, not whether the reducer applied or refused it, so
// the dispatch ends in LeadershipLostError (outcome unknown), never "applied"; and the optimistic
// view drops it in the install's step. A review found it on 2026-12-06: a command the reducer
// refused everywhere resolved as applied, and an applied one showed twice in the optimistic view.
import { describe, expect, it } from 'vitest';
import { createSimulatedCluster, type SimulatedCluster } from '../testing/cluster.ts';
import { createReplicatedStore, type ReplicatedStore } from './replicated-store.ts';

type Command = { readonly type: 'add'; readonly amount: number } | { readonly type: 'fail' };
interface Counter { readonly total: number }
const reducer = (state: Counter, command: Command): Counter => {
  if (command.type === 'fail') throw new Error('refused by the reducer');
  return { total: state.total + command.amount };
};

describe('a command of this peer that reaches it inside a snapshot', () => {
  it('a refused one does not resolve as applied: its dispatch says the outcome is unknown', async () => {
    const cluster: SimulatedCluster = createSimulatedCluster({ seed: 4851, ids: ['a', 'b', 'c'], raftConfig: { snapshotTrailingEntries: 0 } });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const leader = cluster.leader()!;
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    const stores = new Map<string, ReplicatedStore<Counter, Command>>();
    for (const id of cluster.ids) stores.set(id, createReplicatedStore<Counter, Command>({ node: cluster.nodes.get(id)!.node!, initialState: { total: 0 }, apply: reducer, clock: cluster.clock, snapshotEvery: 1 }));
    const leaderStore = stores.get(leader.id)!;
    let outcome: string | null = null;
    // The follower's frames from the leader are lost from the moment the leader sends it the entry.
    let cut = false;
    leader.node!.trace.subscribe((event) => {
      if (!cut && event.type === 'appendEntries' && event.to === follower && event.count > 0) {
        cut = true;
        cluster.network.blockOneWay(leader.id, follower);
      }
    });
    stores.get(follower)!.dispatch({ type: 'fail' }).then(() => (outcome = 'resolved as applied'), (error: unknown) => (outcome = `rejected: ${String(error)}`));
    // The leader has it; the follower is cut off before it hears back (answer and entries lost).
    expect(await cluster.runUntil(() => leaderStore.stats.failed === 1, 1_000)).toBe(true);
    expect(stores.get(follower)!.stats.failed).toBe(0);
    for (let amount = 1; amount <= 5; amount += 1) await cluster.settle(leaderStore.dispatch({ type: 'add', amount }), 2_000);
    await cluster.runFor(500);
    expect(leader.node!.compactionFloor.value).toBeGreaterThan(0);
    cluster.heal();
    await cluster.runUntil(() => outcome !== null, 20_000);
    await cluster.runFor(500);
    const followerStore = stores.get(follower)!;
    expect(followerStore.state.value.total).toBe(15);
    expect(outcome).toMatch(/^rejected: LeadershipLostError: .*the outcome is unknown/);
    expect(followerStore.pendingCount).toBe(0);
    await cluster.close();
  });
  it('shows its own command once, never twice, in the optimistic view when it arrives in a snapshot', async () => {
    const cluster: SimulatedCluster = createSimulatedCluster({ seed: 4852, ids: ['a', 'b', 'c'], raftConfig: { snapshotTrailingEntries: 0 } });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const leader = cluster.leader()!;
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    const stores = new Map<string, ReplicatedStore<Counter, Command>>();
    for (const id of cluster.ids) stores.set(id, createReplicatedStore<Counter, Command>({ node: cluster.nodes.get(id)!.node!, initialState: { total: 0 }, apply: reducer, clock: cluster.clock, snapshotEvery: 1 }));
    const leaderStore = stores.get(leader.id)!;
    let outcome: string | null = null;
    // The follower's frames from the leader are lost from the moment the leader sends it the entry.
    let cut = false;
    leader.node!.trace.subscribe((event) => {
      if (!cut && event.type === 'appendEntries' && event.to === follower && event.count > 0) {
        cut = true;
        cluster.network.blockOneWay(leader.id, follower);
      }
    });
    const seen: number[] = [];
    stores.get(follower)!.subscribe((state) => seen.push(state.total));
    stores.get(follower)!.dispatch({ type: 'add', amount: 100 }).then(() => (outcome = 'resolved as applied'), (error: unknown) => (outcome = `rejected: ${String(error)}`));
    // The leader has it; the follower is cut off before it hears back (answer and entries lost).
    expect(await cluster.runUntil(() => leaderStore.state.value.total === 100, 1_000)).toBe(true);
    expect(stores.get(follower)!.state.value.total).toBe(0);
    for (let amount = 1; amount <= 5; amount += 1) await cluster.settle(leaderStore.dispatch({ type: 'add', amount }), 2_000);
    await cluster.runFor(500);
    expect(leader.node!.compactionFloor.value).toBeGreaterThan(0);
    cluster.heal();
    await cluster.runUntil(() => outcome !== null, 20_000);
    await cluster.runFor(500);
    const followerStore = stores.get(follower)!;
    expect(followerStore.state.value.total).toBe(115);
    // The optimistic view never counts the 100 twice (README: each pending command is dropped in the same step it is confirmed).
    expect(Math.max(...seen)).toBe(115);
    expect(outcome).not.toBeNull();
    expect(followerStore.pendingCount).toBe(0);
    await cluster.close();
  });
});
