// Two versions of an application in one room (ReplicatedStoreOptions.version): the newer one adds
// a command kind. Before versions existed, the older reducer threw on it, the newer applied it,
// and their states split for good with no error anywhere (a newcomer ran two versions of the
// demo in one room and read 6 and 1). Now the older store stops there, says why, and its node goes
// on; a store with the newer reducer on the same node (the page reloaded) folds it all again.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import * as root from '../index.ts';
import { createSimulatedCluster, type SimulatedCluster } from '../testing/cluster.ts';
import { createReplicatedStore, type ReplicatedStore } from './replicated-store.ts';
import { jsonSerializer } from './serializer.ts';
import { stampCommand } from './store-command-stamp.ts';
import { StoreVersionError } from './store-version-error.ts';

type Command = { readonly type: 'add'; readonly amount: number } | { readonly type: 'double' };
interface Counter { readonly total: number }

/** Version 1 knows `add` only. */
const reducerOne = (state: Counter, command: Command): Counter => {
  if (command.type !== 'add') throw new Error(`unknown command ${command.type}`);
  return { total: state.total + command.amount };
};
/** Version 2 adds `double`, and folds every version-1 command as version 1 did. */
const reducerTwo = (state: Counter, command: Command): Counter => (command.type === 'double' ? { total: state.total * 2 } : reducerOne(state, command));
const reducers = { 0: reducerOne, 1: reducerOne, 2: reducerTwo } as const;

function storeAt(cluster: SimulatedCluster, id: NodeId, version: 0 | 1 | 2, snapshotEvery = 1_000): ReplicatedStore<Counter, Command> {
  return createReplicatedStore<Counter, Command>({ node: cluster.nodes.get(id)!.node!, initialState: { total: 0 }, apply: reducers[version], version, snapshotEvery, clock: cluster.clock });
}

function outcomeOf(promise: Promise<unknown>): { settled: unknown } {
  const outcome: { settled: unknown } = { settled: 'pending' };
  promise.then(
    () => (outcome.settled = 'resolved'),
    (error: unknown) => (outcome.settled = error),
  );
  return outcome;
}

describe('stores of two versions in one room', () => {
  it('fold version-1 commands on both; a version-2 command stops the version-1 store, whose node goes on; a reload with version 2 folds it all', async () => {
    const cluster = createSimulatedCluster({ seed: 5601, ids: ['a', 'b', 'c'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    // The newer app runs on the leader, the older one on a follower; the third node has no store.
    const [older, third] = cluster.ids.filter((id) => id !== leader.id) as [NodeId, NodeId];
    const newer = leader.id;
    const one = storeAt(cluster, older, 1);
    const two = storeAt(cluster, newer, 2);

    await cluster.settle(one.dispatch({ type: 'add', amount: 1 }));
    await cluster.settle(one.dispatch({ type: 'add', amount: 2 }));
    await cluster.runUntil(() => one.state.value.total === 3 && two.state.value.total === 3, 1_000);
    expect([one.state.value.total, two.state.value.total]).toEqual([3, 3]);
    expect(one.outdated.value).toBeNull();

    // A version-2 store stamps every command it writes with 2, `add` included: from here the older
    // store stops. On the leader, its own proposal is appended before the follower's forwarded one: the
    // version-2 command comes first in the log, and the older store's dispatch is pending behind it.
    let doubledIndex = 0;
    const doubling = two.dispatch({ type: 'double' }).then((result) => (doubledIndex = result.index));
    const pendingOutcome = outcomeOf(one.dispatch({ type: 'add', amount: 10 }));
    await cluster.runUntil(() => doubledIndex > 0 && pendingOutcome.settled !== 'pending', 2_000);
    await doubling;
    await cluster.runFor(200);

    const error = one.outdated.value;
    expect(error).toBeInstanceOf(StoreVersionError);
    expect(root.StoreVersionError).toBe(StoreVersionError);
    expect(error).toMatchObject({ name: 'StoreVersionError', storeVersion: 1, seenVersion: 2, index: doubledIndex });
    expect(error!.message).toMatch(/folds versions up to 1, but entry \d+ of the room's log was written by version 2: a newer version of the app is running in this room\. Reload \(or update\) this page/);
    // Its pending dispatch rejected with it: its outcome is unknown there, and the newer peers did apply it.
    expect(pendingOutcome.settled).toBe(error);
    expect(two.state.value.total).toBe(16);
    // Frozen before that entry: the state is the one before `double`, nothing after is folded.
    expect(one.state.value.total).toBe(3);
    expect(one.appliedIndex.value).toBe(doubledIndex - 1);
    expect(one.pendingCount).toBe(0);
    expect(one.stats.failed).toBe(0);
    // Later calls are refused with the same error.
    await expect(one.dispatch({ type: 'add', amount: 1 })).rejects.toBe(error);
    await expect(one.read()).rejects.toBe(error);

    // The node goes on: with the third node down, every commit needs the older peer's node.
    cluster.crash(third);
    const olderNode = cluster.nodes.get(older)!.node!;
    const commitBefore = olderNode.commitIndex.value;
    for (let round = 0; round < 3; round += 1) expect(await cluster.settle(two.dispatch({ type: 'add', amount: 5 }), 2_000)).toBeDefined();
    await cluster.runFor(300);
    expect(two.state.value.total).toBe(16 + 15);
    expect(olderNode.commitIndex.value).toBeGreaterThan(commitBefore);
    expect(olderNode.stopped.value).toBeNull();
    expect(one.appliedIndex.value).toBe(doubledIndex - 1);
    expect(one.state.value.total).toBe(3);

    // The page reloads with the newer app: a version-2 store on the same node folds the whole log.
    one.close();
    const reloaded = storeAt(cluster, older, 2);
    await cluster.runUntil(() => reloaded.appliedIndex.value >= olderNode.commitIndex.value && reloaded.state.value.total === two.state.value.total, 2_000);
    expect(reloaded.state.value).toEqual(two.state.value);
    expect(reloaded.outdated.value).toBeNull();
    expect(reloaded.stats.failed).toBe(0);
    await cluster.close();
  });

  it('a snapshot published by version 2, installed on a lagging version-1 peer, stops its store rather than crash it; a reload restores it', async () => {
    const cluster = createSimulatedCluster({ seed: 5602, ids: ['a', 'b', 'c'], raftConfig: { snapshotTrailingEntries: 0 } });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const [lagging, other] = cluster.ids.filter((id) => id !== leader.id) as [NodeId, NodeId];
    const two = storeAt(cluster, leader.id, 2, 1);
    storeAt(cluster, other, 2, 1);
    cluster.crash(lagging);
    for (let amount = 1; amount <= 5; amount += 1) await cluster.settle(two.dispatch({ type: 'add', amount }), 2_000);
    await cluster.runFor(300);
    expect(leader.node!.compactionFloor.value).toBeGreaterThan(0);

    await cluster.restart(lagging);
    const one = storeAt(cluster, lagging, 1, 1);
    expect(await cluster.runUntil(() => one.outdated.value !== null, 5_000)).toBe(true);
    const error = one.outdated.value!;
    expect(error).toMatchObject({ name: 'StoreVersionError', storeVersion: 1, seenVersion: 2 });
    expect(error.index).toBeGreaterThan(one.appliedIndex.value);
    expect(one.stats.snapshotsInstalled).toBe(0);
    expect(one.stats.snapshotsPublished).toBe(0);
    expect(one.state.value).toEqual({ total: 0 });
    await expect(one.read()).rejects.toBe(error);
    // The node installed the snapshot all the same, and goes on acknowledging.
    const laggingNode = cluster.nodes.get(lagging)!.node!;
    expect(laggingNode.stopped.value).toBeNull();
    expect(laggingNode.compactionFloor.value).toBeGreaterThanOrEqual(error.index);

    one.close();
    const reloaded = storeAt(cluster, lagging, 2, 1);
    expect(await cluster.runUntil(() => reloaded.state.value.total === 15, 2_000)).toBe(true);
    expect(reloaded.stats.snapshotsInstalled).toBe(1);
    expect(reloaded.outdated.value).toBeNull();
    await cluster.close();
  });

  it('a version-1 store folds what a version-0 store wrote, entries and snapshots (an application that starts versioning)', async () => {
    const cluster = createSimulatedCluster({ seed: 5603, ids: ['a', 'b', 'c'], raftConfig: { snapshotTrailingEntries: 0 } });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    const zero = storeAt(cluster, leader.id, 0, 2);
    for (let amount = 1; amount <= 5; amount += 1) await cluster.settle(zero.dispatch({ type: 'add', amount }), 2_000);
    await cluster.runFor(300);
    expect(leader.node!.compactionFloor.value).toBeGreaterThan(0);
    // The leader's page reloads with version 1: it restores its own (format 1) snapshot, then the entries after it.
    zero.close();
    cluster.crash(leader.id);
    await cluster.restart(leader.id);
    const restarted = storeAt(cluster, leader.id, 1, 2);
    // Another peer's version-1 store folds the unstamped entries themselves.
    const folding = storeAt(cluster, follower, 1);
    expect(await cluster.runUntil(() => restarted.state.value.total === 15 && folding.state.value.total === 15, 5_000)).toBe(true);
    expect(restarted.stats.snapshotsInstalled).toBe(1);
    await cluster.settle(folding.dispatch({ type: 'add', amount: 6 }), 2_000);
    expect(await cluster.runUntil(() => restarted.state.value.total === 21, 2_000)).toBe(true);
    for (const store of [restarted, folding]) {
      expect(store.outdated.value).toBeNull();
      expect(store.stats.undecodable + store.stats.failed).toBe(0);
    }
    await cluster.close();
  });

  it('counts a command whose stamp is cut short, or stamps no version a store writes, as undecodable, and folds on', async () => {
    const cluster = createSimulatedCluster({ seed: 5604, ids: ['a', 'b', 'c'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const store = storeAt(cluster, leader.id, 1);
    // Proposed raw on another node: the store owns its own node's request ids.
    const other = cluster.ids.find((id) => id !== leader.id)!;
    const tooHigh = stampCommand(1, jsonSerializer<Command>().encode({ type: 'add', amount: 100 }));
    new DataView(tooHigh.buffer).setUint32(4, 2 ** 32 - 1);
    for (const bytes of [stampCommand(1, new Uint8Array(0)).subarray(0, 6), tooHigh]) expect(await cluster.settle(cluster.propose(other, bytes), 2_000)).not.toBeNull();
    await cluster.settle(store.dispatch({ type: 'add', amount: 4 }), 2_000);
    expect(store.state.value.total).toBe(4);
    expect(store.stats.undecodable).toBe(2);
    expect(store.outdated.value).toBeNull();
    await cluster.close();
  });
});
